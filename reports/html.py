"""The report as one self-contained HTML page (pure: ReportData in, HTML string out).

plotly.js is inlined once in the page's head and every chart is a `Plotly.newPlot` call on
inlined JSON, so the file opens with no request to any host. The script is plotly.js's
cartesian bundle (vendor/, 1.5 MB), not the full one of the plotly wheel (4.8 MB, most of
it map and 3D code the report never draws). Text goes through Jinja2
with autoescaping; only the chart markup Plotly generates (its JSON escapes `<` and `/`)
and plotly.js itself are marked safe.
"""

import math
from datetime import date, datetime, timezone
from functools import cache
from importlib.resources import files

import plotly.io as pio
import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from surgewatch.present.formats import percent, threshold_percent
from surgewatch.reports import charts, context, context_charts, event_study, signal_charts
from surgewatch.reports.data import PublishedAudit, ReportData, RunInfo
from surgewatch.core.frames import latest_date
from surgewatch.present.sentences import pp
from surgewatch.study.outside import series_columns
from surgewatch.study.when import Condition
from surgewatch.study.scan import month_movers, mover_figures
from surgewatch.study.published import TOLERANCE_PP
from surgewatch.core.vocabulary import forward_column
from surgewatch.core.vocabulary import Direction

CHART_IDS = ("chart-paths", "chart-event-study", "chart-distribution", "chart-performance", "chart-analogs")
"""The id of every chart's element, in page order (the browser test checks each)."""

BUNDLE = "vendor/plotly-cartesian.min.js"
"""plotly.js as the report inlines it, in the package's data (see vendor/README.md)."""
BUNDLE_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)
"""The trace types the cartesian bundle draws; any other would leave its chart blank."""

_PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
# Statistic, label, how it prints. Win rate is a share, not a return: no sign.
_STATISTICS = (
    ("n", "Count (n)", "count"),
    ("average", "Average", "pct"),
    ("median", "Median", "pct"),
    ("win_rate", "Win rate", "share"),
    ("sharpe", "Sharpe", "ratio"),
    ("max_drawdown", "Max drawdown", "pct"),
)
_DASH = "—"

_env = Environment(
    loader=PackageLoader("surgewatch.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def fmt(value: object, kind: str = "pct") -> str:
    """A figure as the report prints it: fractions as signed percent with two decimals
    ('pct'), shares unsigned ('share'), Sharpe ratios ('ratio') and their differences
    ('delta'), counts ('count'); audit figures already in percent ('pp_pct') and their
    differences ('pp'), shares already in percent ('pp_share'). Null: a dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _DASH
    number = float(value)  # type: ignore[arg-type]  # templates pass numbers (or numeric strings) here
    match kind:
        case "pct":
            return percent(number)
        case "share":
            return percent(number, signed=False)
        case "ratio":
            return f"{number:.2f}"
        case "delta":
            return f"{round(number, 2) + 0.0:+.2f}"
        case "pp_share":
            return f"{number:.2f}%"
        case "pp_pct":
            return f"{round(number, 2) + 0.0:+.2f}%"
        case "pp":
            return f"{round(number, 2) + 0.0:+.2f} pp"
        case "count":
            return f"{int(number):,}"
    raise ValueError(f"unknown format {kind!r}")


def tone(value: object, kind: str = "pct") -> str:
    """CSS class for a signed figure: 'pos', 'neg' or '' (unsigned kinds, zero, null)."""
    if kind not in ("pct", "pp_pct") or value is None or not isinstance(value, (int, float)):
        return ""
    rounded = round(value * 100 if kind == "pct" else value, 2)
    return "pos" if rounded > 0 else "neg" if rounded < 0 else ""


_env.filters["fmt"] = fmt
_env.filters["tone"] = tone


def _when(moment: datetime | None) -> str:
    if moment is None:
        return _DASH
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _study_phrase(threshold: float, direction: Direction) -> str:
    sign = "+" if direction == "up" else "−"
    return f"{sign}{threshold_percent(threshold)} or {'more' if direction == 'up' else 'worse'}"


def _ticker_table(data: ReportData, ticker: str) -> dict:
    study = data.studies.filter(pl.col("ticker") == ticker).row(0, named=True)
    events = []
    outside = _series_beside(data, data.events.filter(pl.col("ticker") == ticker)["month"])
    for e in data.events.filter(pl.col("ticker") == ticker).sort("month").iter_rows(named=True):
        context = [f"{e['up_sessions']} of {e['sessions']} sessions up", f"prior drawdown {fmt(e['prior_drawdown'])}"]
        context += outside.get(e["month"], [])
        if e["first_crossed_on"] is not None:
            context.append(f"first at the threshold on {e['first_crossed_on']:%Y-%m-%d}")
        events.append(
            {
                "month": e["month"].strftime("%Y-%m"),
                "partial": not e["complete"],
                "as_of": e["as_of"],
                "move": e["move"],
                "forward": [e[forward_column(h)] for h in data.horizons],
                "context": " · ".join(context),
            }
        )
    summary = data.summary.filter(pl.col("ticker") == ticker)
    by_kind = {
        kind: {r["horizon"]: r for r in summary.filter(pl.col("kind") == kind).iter_rows(named=True)}
        for kind in ("events", "baseline")
    }
    statistics = [
        {
            "label": label,
            "kind": kind,
            "events": [by_kind["events"].get(h, {}).get(stat) for h in data.horizons],
            "baseline": [by_kind["baseline"].get(h, {}).get(stat) for h in data.horizons],
        }
        for stat, label, kind in _STATISTICS
    ]
    return {
        "ticker": ticker,
        "phrase": _study_phrase(study["threshold"], study["direction"]),
        "basis": study["basis"],
        "events": events,
        "statistics": statistics,
    }


def _series_beside(data: ReportData, months: pl.Series) -> dict[date, list[str]]:
    """Per event month, each stored context series' value as the month saw it and its
    3-month change (SPEC §2d fields, as `--when` reads them): 'fedfunds 5.33 (3M -0.25)'."""
    if not data.context.height or not len(months):
        return {}
    names = data.context["name"].unique(maintain_order=True).to_list()
    fields = series_columns(months, data.context, names)
    out: dict[date, list[str]] = {}
    for row in fields.iter_rows(named=True):
        for name in names:
            value, change = row[name], row[f"{name}_chg_3m"]
            if value is not None:
                change_text = "" if change is None else f" (3M {change:+.2f})"
                out.setdefault(row["month"], []).append(f"{name} {value:.2f}{change_text}")
    return out


def _audit_context(published: PublishedAudit) -> dict:
    rows = []
    for check, month, column, pub, computed, difference, flag in published.audit.rows:
        # Audit figures are percents, except a Sharpe ratio's (its "month" is the statistic);
        # a win rate is a share, printed without a sign.
        kind = {"sharpe": "ratio", "win_rate": "pp_share"}.get(str(month), "pp_pct")
        rows.append(
            {
                "check": check,
                "month": month,
                "column": column,
                "flag": flag,
                "kind": kind,
                "published": pub,
                "computed": computed,
                "difference": difference,
                "difference_kind": "delta" if kind == "ratio" else "pp",
            }
        )
    return {
        "ticker": published.ticker,
        "table": published.table,
        "tolerance": TOLERANCE_PP,
        "rows": rows,
        "notes": published.audit.notes,
        "flagged": [r for r in rows if r["flag"]],
        "compared": sum(1 for r in rows if r["published"] is not None and r["computed"] is not None),
        "missing": sum(1 for r in rows if r["check"] == "missing"),
    }


def _run_context(run: RunInfo | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.run_id,
        "short_id": run.run_id[:8],
        "status": run.status,
        "at": _when(run.finished_at or run.started_at),
        "source": run.source or _DASH,
        "version": run.snapshot_id,
        "failed": run.failed,
        "message": run.message,
    }


def _lineage_rows(data: ReportData) -> list[dict]:
    """Per ticker, its stored sessions (`sessions`, `last_session`, `stale`), one entry in
    `writes` per run that wrote some of its prices, and the runs that wrote its results."""
    last = data.last_session
    rows = []
    for (ticker,), writes in data.lineage.group_by("ticker", maintain_order=True):
        results = writes["results_runs"].to_list()[0] or []
        rows.append(
            {
                "ticker": ticker,
                "sessions": writes["sessions"].sum(),
                "stale": writes["last_session"].max() != last,
                "writes": [
                    {**w, "fetched_at": _when(w["fetched_at"]), "prices_run": w["prices_run"][:8]}
                    for w in writes.iter_rows(named=True)
                ],
                # Several runs only when a run rewrote some of the results: each says how many rows.
                "results": [
                    (r["run"][:8], r["run"], f"{r['rows']:,} rows" if len(results) > 1 else None) for r in results
                ],
            }
        )
    order = {t: i for i, t in enumerate(data.tickers)}
    return sorted((r for r in rows if r["ticker"] in order), key=lambda r: order[r["ticker"]])


@cache
def plotly_js() -> str:
    """The vendored plotly.js bundle's text."""
    return files("surgewatch.reports").joinpath(BUNDLE).read_text(encoding="utf-8")


def _chart(fig, chart_id: str) -> Markup:
    # Checked here, not in the browser: a trace type the bundle lacks renders as nothing.
    missing = {trace.type for trace in fig.data} - BUNDLE_TRACES
    if missing:
        raise ValueError(f"{chart_id}: trace type(s) {', '.join(sorted(missing))} not in the bundle ({BUNDLE})")
    # Plotly's JSON encoder escapes "<" and "/", so no data value can close the script.
    return Markup(
        pio.to_html(
            fig, include_plotlyjs=False, full_html=False, div_id=chart_id, config=_PLOTLY_CONFIG, default_width="100%"
        )
    )


def build_report(
    data: ReportData,
    *,
    since: date | None = None,
    published: PublishedAudit | None = None,
    vs: str | None = None,
    when: Condition = context.CORRECTION,
) -> str:
    """The whole report as one self-contained HTML page.

    since: start of the relative-performance chart (default: a year before the last
    session). published: the audit against a published table, shown when given. vs: a
    stored ticker to set the others against (SPEC §2d), in a section of its own. when:
    the condition the context section splits each ticker's events by (SPEC §2c).
    """
    last_session = data.last_session
    assert last_session is not None, "load_report_data refuses a warehouse with no results"
    since = since or charts.default_since(last_session)
    # One headline when every ticker was studied alike; each table names its own anyway.
    studies = set(data.studies.select("threshold", "direction", "basis").iter_rows())
    common = next(iter(studies)) if len(studies) == 1 else None
    latest = charts.latest_events(data)
    contexts = [c for t in data.tickers if (c := context.ticker_context(data, t, when)) is not None]
    figures = dict(
        zip(
            CHART_IDS,
            (
                charts.paths_figure(data),
                event_study.path_figure(data),
                charts.distribution_figure(data),
                charts.performance_figure(data, since),
                context_charts.analogs_figure(data, contexts),
            ),
        )
    )
    last_run, latest_run = _run_context(data.last_published), _run_context(data.latest_run)
    return _env.get_template("report.html").render(
        plotly_js=Markup(plotly_js()),
        headline=_study_phrase(common[0], common[1]) if common else None,
        basis=common[2] if common else None,
        tickers=data.tickers,
        last_session=last_session,
        since=since,
        run=last_run,
        failed_after=latest_run if latest_run and last_run and latest_run["id"] != last_run["id"] else None,
        tables=[_ticker_table(data, t) for t in data.tickers],
        horizons=data.horizons,
        latest=[(t, charts.event_label(latest[t])) for t in data.tickers if t in latest],
        any_partial=not data.events["complete"].all(),
        charts={chart_id: _chart(fig, chart_id) for chart_id, fig in figures.items()},
        audit=_audit_context(published) if published is not None else None,
        contexts=[context.context_view(c, data.horizons) for c in contexts],
        split=context.split_labels(when),
        lineage=_lineage_rows(data),
        signal=signal_charts.signal_section(data, _chart),
        sessions=event_study.SESSIONS,
        movers=_movers_context(data, common) if len(data.tickers) > 1 else None,
        vs=_vs_context(data, vs) if vs is not None else None,
    )


def _movers_context(data: ReportData, common: tuple | None) -> dict | None:
    """The latest month's movers (study.scan), at the threshold every ticker was studied
    with (none when they differ), linked to each ticker's table."""
    if common is None or not data.month_end.height or "verdict" not in data.stats.columns:
        return None
    threshold, direction, _ = common
    latest = latest_date(data.month_end["month"])
    assert latest is not None  # month_end has rows
    rows = data.month_end.filter(pl.col("month") == latest)
    found = month_movers(rows, data.events, data.summary, data.stats, threshold, direction)
    out = []
    for r in found.iter_rows(named=True):
        figures = mover_figures(r["history"])
        out.append(
            {
                "ticker": r["ticker"],
                "move": fmt(r["move"]),
                "status": r["status"],
                "first": r["first_crossed_on"] or _DASH,
                "n": _DASH if figures["n"] is None else figures["n"],
                "three": fmt(figures["average_3m"]),
                "twelve": fmt(figures["average_12m"]),
                "excess": _DASH if figures["excess_12m"] is None else pp(figures["excess_12m"]),
                "verdict": figures["verdict_12m"] or _DASH,
            }
        )
    phrase, label, as_of = _study_phrase(threshold, direction), f"{latest:%Y-%m}", latest_date(rows["as_of"])
    summary = (
        f"{len(out)} of {rows.height} tickers moved {phrase} in {label} (as of {as_of})."
        if out
        else f"No ticker moved {phrase} in {label} (as of {as_of}), among {rows.height}."
    )
    return {"month": label, "summary": summary, "rows": out}


def _vs_context(data: ReportData, vs: str) -> dict:
    return {
        "ticker": vs,
        "tickers": event_study.vs_rows(data, vs),
        "chart": _chart(event_study.path_figure(data, vs), "chart-vs"),
    }

"""The report against a benchmark and session by session (SPEC §2d): the daily path after
the events beside every month's (the classic event-study plot), and with `--vs B` each
ticker's forward returns less B's with their verdicts."""

import plotly.graph_objects as go
import polars as pl

import surgewatch.transforms as tf
from surgewatch.present.formats import percent
from surgewatch.present.sentences import headline, pp
from surgewatch.reports.charts import BASELINE, EVENTS, finish, grid
from surgewatch.reports.data import ReportData
from surgewatch.study.paths import EventPath, event_path

SESSIONS = 63  # about a quarter of sessions after the event month
_DASH = "—"


def ticker_path(data: ReportData, ticker: str, vs: str | None = None, sessions: int = SESSIONS) -> EventPath:
    """study.paths.event_path over the stored daily basis prices and month-ends."""
    mine = pl.col("ticker") == ticker
    benchmark = None if vs is None else data.closes.filter(pl.col("ticker") == vs)
    return event_path(
        data.closes.filter(mine), data.month_end.filter(mine), data.events.filter(mine), sessions, "price", benchmark
    )


def _band(x: list, low: list, high: list, color: str, name: str, group: str, first: bool) -> list[go.Scatter]:
    """A shaded 25–75% band: its upper edge, then the lower one filled up to it."""
    edge = {"width": 0}
    return [
        go.Scatter(x=x, y=high, mode="lines", line=edge, legendgroup=group, showlegend=False, hoverinfo="skip"),
        go.Scatter(
            x=x, y=low, mode="lines", line=edge, fill="tonexty", fillcolor=color, name=name,
            legendgroup=group, showlegend=first, hoverinfo="skip",
        ),
    ]  # fmt: skip


def path_figure(data: ReportData, vs: str | None = None, sessions: int = SESSIONS) -> go.Figure:
    """One panel per ticker (but vs): the events' mean path with its 25–75% band, beside
    every complete month's, session by session after the month's last one."""
    tickers = tuple(t for t in data.tickers if t != vs)
    found = {t: ticker_path(data, t, vs, sessions) for t in tickers}
    titles = [f"{t} · {len(found[t].events)} events" for t in tickers]
    fig, cells = grid(tickers, titles, shared_yaxes=False)
    for i, (ticker, (row, col)) in enumerate(zip(tickers, cells)):
        table, first = found[ticker].table, i == 0
        d = table["d"].to_list()
        for prefix, color, fill, name in (
            ("all_", BASELINE, "rgba(128,134,139,0.18)", "every month"),
            ("", EVENTS, "rgba(31,95,191,0.18)", "after the events"),
        ):
            for trace in _band(
                d,
                table[f"{prefix}p25"].to_list(),
                table[f"{prefix}p75"].to_list(),
                fill,
                f"{name}: 25–75%",
                name,
                first,
            ):
                fig.add_trace(trace, row=row, col=col)
            fig.add_trace(
                go.Scatter(
                    x=d, y=table[f"{prefix}mean"].to_list(), mode="lines", name=f"{name}: mean",
                    line={"color": color, "width": 2.2 if not prefix else 1.5, "dash": "dash" if prefix else "solid"},
                    legendgroup=name, showlegend=first,
                    hovertemplate=f"{name}, session %{{x}}: mean %{{y:+.2%}}<extra>{ticker}</extra>",
                ),
                row=row, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text="sessions after the month's last", row=row, col=col)
        fig.update_yaxes(tickformat="+.0%", row=row, col=col)
    label = f"return less {vs}'s" if vs else "return since the month's last close"
    fig.update_yaxes(title_text=label, row=1, col=1)
    return finish(fig, 330, max(r for r, _ in cells) if cells else 1)


def vs_rows(data: ReportData, vs: str) -> list[dict]:
    """Per ticker (but vs): its forward returns less vs's over the same month-ends
    (tf.relative_returns), their summary against every month's, and the §2b figures over
    them, drawn with the ticker's stored B and seed."""
    horizons = data.horizons
    theirs = data.month_end.filter(pl.col("ticker") == vs)
    out = []
    for ticker in (t for t in data.tickers if t != vs):
        mine = pl.col("ticker") == ticker
        monthly = tf.relative_returns(data.month_end.filter(mine), theirs, horizons)
        events = monthly.join(data.events.filter(mine).select("ticker", "month"), on=["ticker", "month"])
        summary = {r["horizon"]: r for r in tf.horizon_summary(events, horizons).iter_rows(named=True)}
        baseline = {r["horizon"]: r for r in tf.horizon_summary(monthly, horizons).iter_rows(named=True)}
        resamples, seed = data.draws(ticker)
        stats = tf.signal_stats(monthly, events, horizons, resamples, seed).to_dicts()
        rows = []
        for s in stats:
            h = s["horizon"]
            mean, everyone = summary[h]["average"], baseline[h]["average"]
            band = (
                f"{percent(s['chance_low'])} to {percent(s['chance_high'])}" if s["chance_low"] is not None else _DASH
            )
            rows.append(
                {
                    "horizon": f"{h}M",
                    "n": s["n"],
                    "verdict": s["verdict"],
                    "mean": percent(mean) if mean is not None else _DASH,
                    "win": percent(summary[h]["win_rate"], signed=False)
                    if summary[h]["win_rate"] is not None
                    else _DASH,
                    "band": band,
                    "baseline": percent(everyone) if everyone is not None else _DASH,
                    "excess": pp(s["excess"]) if s["excess"] is not None else _DASH,
                    "p": f"{s['placebo_p']:.3f}" if s["placebo_p"] is not None else _DASH,
                    "q": f"{s['q_value']:.3f}" if s["q_value"] is not None else _DASH,
                }
            )
        out.append({"ticker": ticker, "headline": headline(f"{ticker} vs {vs}", stats), "rows": rows})
    return out

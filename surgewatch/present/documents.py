"""A study as a document: the SPEC §4 JSON object, and the same figures laid out as the
article's table (events, then the summary, baseline, §2b and §2c rows) with plain words."""

import json
from collections.abc import Sequence

from typing import Any, NotRequired, TypedDict

import polars as pl

from surgewatch.study.groups import ConditionalStudy, GroupFigures
from surgewatch.present.formats import percent, threshold_percent
from surgewatch.present.formats import Format
from surgewatch.present.output import plain, figure_rows, fit_lines, render_rows
from surgewatch.present.sentences import headline, horizon_sentence
from surgewatch.study.run import StudyResult
from surgewatch.transforms.significance import STATS_COLUMNS
from surgewatch.core.vocabulary import SMALL_SAMPLE, STATISTICS, drawdown_column, forward_column


def _interval(low: float | None, high: float | None) -> str | None:
    return None if low is None or high is None else f"{percent(low)} to {percent(high)}"


# The §2b table, one row per horizon (and group), the verdict first, then what a reader
# compares: the events' mean against the chance band (SPEC §2b). (column, how a cell is
# made from a stats row and the events' mean), in the order a narrow terminal keeps them.
_STATS_TABLE = (
    ("verdict", lambda s, mean: s["verdict"]),
    ("events' mean", lambda s, mean: mean),
    ("chance band", lambda s, mean: _interval(s["chance_low"], s["chance_high"])),
    ("excess", lambda s, mean: s["excess"]),
    ("p", lambda s, mean: s["placebo_p"]),
    ("q", lambda s, mean: s["q_value"]),
    ("n", lambda s, mean: s["n"]),
    ("independent episodes", lambda s, mean: s["n_independent"]),
    ("90% CI", lambda s, mean: _interval(s["ci_low"], s["ci_high"])),
    ("random months' mean", lambda s, mean: None if mean is None or s["excess"] is None else mean - s["excess"]),
    ("placebo draws", lambda s, mean: s["placebo_draws"]),
    ("HAC t", lambda s, mean: s["t_hac"]),
    ("win p", lambda s, mean: s["win_p"]),
    ("sample", lambda s, mean: "small sample" if s["n"] < SMALL_SAMPLE else None),
)
# Raw fractions for csv, in the table's order: the verdict, then the events' mean with its
# interval's two ends, then the rest.
_SIGNIFICANCE_CSV = (
    "verdict",
    "ci_low",
    "ci_high",
    *(c for c in STATS_COLUMNS if c not in ("n", "verdict", "ci_low", "ci_high")),
)


Rows = list[dict[str, Any]]
"""Figure rows, one per horizon: their keys follow the horizons asked (fwd_3m, …)."""


class GroupDocument(TypedDict):
    events: list[str]
    summary: Rows
    stats: Rows


class StudyDocument(TypedDict):
    """SPEC §4's JSON object of `study` for one ticker; vs and vs_dropped (events the
    benchmark has no month for, per horizon) come with --vs, the last five with --when."""

    ticker: str
    threshold: float
    direction: str
    basis: str
    horizons: list[int]
    as_of: str | None
    events: Rows
    summary: Rows
    baseline: Rows
    stats: Rows
    resamples: int
    seed: int
    vs: NotRequired[str]
    vs_dropped: NotRequired[dict[str, int]]
    condition: NotRequired[str]
    when: NotRequired[GroupDocument]
    otherwise: NotRequired[GroupDocument]
    baseline_when: NotRequired[Rows]
    diff: NotRequired[Rows]


def _group_document(group: GroupFigures) -> GroupDocument:
    return {
        "events": [m.strftime("%Y-%m") for m in group.events["month"]],
        "summary": figure_rows(group.summary),
        "stats": figure_rows(group.stats),
    }


def study_document(result: StudyResult, ticker: str, split: ConditionalStudy | None = None) -> StudyDocument:
    """The SPEC §4 JSON object for one ticker (with the §2c split when given one)."""
    p = result.params
    events = result.events.filter(pl.col("ticker") == ticker)
    horizon_cols = [forward_column(h) for h in p.horizons] + [drawdown_column(h) for h in p.horizons]
    event_rows = [
        {
            "month": row["month"].strftime("%Y-%m"),
            "complete": row["complete"],
            "as_of": row["as_of"].isoformat(),
            "move": row["move"],
            **{c: plain(row[c]) for c in horizon_cols},
            "sessions": row["sessions"],
            "up_sessions": row["up_sessions"],
            "prior_drawdown": row["prior_drawdown"],
            "prior_12m": row["prior_12m"],
            "up_share": row["up_share"],
            "first_crossed_on": plain(row["first_crossed_on"]),
        }
        for row in events.iter_rows(named=True)
    ]

    def summary_rows(frame: pl.DataFrame) -> Rows:
        return figure_rows(frame.filter(pl.col("ticker") == ticker))

    as_of = result.as_of(ticker)
    document: StudyDocument = {
        "ticker": ticker,
        "threshold": p.threshold,
        "direction": p.direction,
        "basis": p.basis,
        "horizons": list(p.horizons),
        "as_of": as_of.isoformat() if as_of else None,
        "events": event_rows,
        "summary": summary_rows(result.summary),
        "baseline": summary_rows(result.baseline),
        "stats": summary_rows(result.stats),
        "resamples": p.resamples,
        "seed": p.seed,
    }
    if result.vs is not None and result.dropped is not None:
        document["vs"] = result.vs
        lost = result.dropped.filter(pl.col("ticker") == ticker)
        document["vs_dropped"] = {str(h): int(n) for h, n in lost.select("horizon", "n").iter_rows() if n}
    if split is not None:
        # The §2c split (SPEC §4: the keys a study gains with --when).
        document["condition"] = split.condition.text
        document["when"] = _group_document(split.when)
        document["otherwise"] = _group_document(split.otherwise)
        document["baseline_when"] = figure_rows(split.baseline_when)
        document["diff"] = figure_rows(split.diff)
    return document


def study_table_rows(document: StudyDocument, fmt: Format = "table") -> tuple[list[str], list[list[object]]]:
    """The article's shape: one row per event, then the summary, baseline and (csv only:
    a table shows them in stats_table_rows) §2b statistics laid out under the
    forward-return column of their horizon. With a condition, a `when` column marks
    the events that meet it, and the when / otherwise groups (summary, then §2b rows),
    the baseline_when statistics and the diff rows follow."""
    horizons = document["horizons"]
    fwd = [forward_column(h) for h in horizons]
    mdd = [drawdown_column(h) for h in horizons]
    header = [
        "section",
        "month",
        "complete",
        "as_of",
        "move",
        *fwd,
        *mdd,
        "sessions",
        "up_sessions",
        "prior_drawdown",
        "prior_12m",
        "up_share",
        "first_crossed_on",
    ]
    rows: list[list[object]] = [["event", *(e[c] for c in header[1:])] for e in document["events"]]
    conditional = "condition" in document
    if conditional:
        header.append("when")
        met = set(document["when"]["events"])
        rows = [[*row, "yes" if row[1] in met else "no"] for row in rows]
    padding = [None] * (len(header) - 5 - len(fwd))

    def add(section: str, label: str, values: list[object]) -> None:
        rows.append([section, label, None, None, None, *values, *padding])

    def add_figures(section: str, figures: list[dict], names: Sequence[str]) -> None:
        by_horizon = {s["horizon"]: s for s in figures}
        for name in names:
            add(section, name, [by_horizon.get(h, {}).get(name) for h in horizons])

    def add_stats(section: str, figures: list[dict], summary: list[dict]) -> None:
        if fmt == "table":
            return  # a table shows them in stats_table_rows' table
        stats = {s["horizon"]: s for s in figures}
        for name in _SIGNIFICANCE_CSV:
            add(section, name, [stats[h][name] if h in stats else None for h in horizons])

    add_figures("summary", document["summary"], STATISTICS)
    add_figures("baseline", document["baseline"], STATISTICS)
    add_stats("stats", document["stats"], document["summary"])
    if conditional:
        for group in ("when", "otherwise"):
            add_figures(group, document[group]["summary"], STATISTICS)
            add_stats(group, document[group]["stats"], document[group]["summary"])
        add_figures("baseline_when", document["baseline_when"], STATISTICS)
        add_figures("diff", document["diff"], ("difference", "diff_p"))
    return header, rows


def stats_table_rows(documents: Sequence[StudyDocument]) -> tuple[list[str], list[list[object]]]:
    """The §2b figures as a table: one row per (ticker, group, horizon), the verdict
    first, the events' mean beside its chance band. The ticker column only for several
    tickers, the group (all / when / otherwise) only with a condition."""
    several, conditional = len(documents) > 1, any("condition" in d for d in documents)
    header = [*(["ticker"] if several else []), *(["group"] if conditional else []), "horizon"]
    header += [name for name, _ in _STATS_TABLE]
    rows: list[list[object]] = []
    for d in documents:
        groups: list[tuple[str, GroupDocument | StudyDocument]] = [("all", d)]
        if "condition" in d:
            groups += [("when", d["when"]), ("otherwise", d["otherwise"])]
        for group, figures in groups:
            means = {s["horizon"]: s["average"] for s in figures["summary"]}
            for s in figures["stats"]:
                keys = [*([d["ticker"]] if several else []), *([group] if conditional else []), f"{s['horizon']}M"]
                rows.append([*keys, *(cell(s, means.get(s["horizon"])) for _, cell in _STATS_TABLE)])
    return header, rows


def _title(tickers: str, document: StudyDocument) -> str:
    sign = "+" if document["direction"] == "up" else "-"
    title = (
        f"{tickers}: months {sign}{threshold_percent(document['threshold'])} or more"
        f" ({document['basis']} basis), as of {document['as_of']}"
    )
    if "vs" in document:
        title += f"; forward returns less {document['vs']}'s over the same months"
        lost = document.get("vs_dropped") or {}
        if lost:
            title += "; events without a " + document["vs"] + " month: "
            title += ", ".join(f"{n} at {h}M" for h, n in lost.items())
    return title


def render_stats(documents: Sequence[StudyDocument], wide: bool = False) -> str:
    """stats_table_rows as a table, then each ticker's headline."""
    header, rows = stats_table_rows(documents)
    first = documents[0]
    title = f"Signal or noise vs random months ({first['resamples']:,} resamples, seed {first['seed']}):"
    table = render_rows(header, rows, "table", title=title, compact=header[: header.index("excess") + 4], wide=wide)
    return "\n".join([table, *fit_lines([headline(d["ticker"], d["stats"]) for d in documents])])


def plain_words(document: StudyDocument) -> list[str]:
    """One line per horizon, as sentences.horizon_sentence words it: "3M: suggestive, not
    proven (better): events' mean +7.64%; random sets of 15 months: +0.51% to +4.02%; …"."""
    means = {s["horizon"]: s["average"] for s in document["summary"]}
    return [f"{s['horizon']}M: {horizon_sentence(s, means.get(s['horizon']))}" for s in document["stats"]]


def render_study(document: StudyDocument, fmt: Format, wide: bool = False) -> str:
    """A study document in the asked format; json is the SPEC §4 object itself."""
    if fmt == "json":
        return json.dumps(document, indent=2)
    header, rows = study_table_rows(document, fmt)
    title = _title(document["ticker"], document)
    if "condition" in document:
        title += f"; when {document['condition']}"
    fwd = [forward_column(h) for h in document["horizons"]]
    compact = ["section", "month", "when", *fwd, "move"]
    table = render_rows(header, rows, fmt, title=title, label_column=1, compact=compact, wide=wide)
    if fmt == "csv":
        return table
    words = fit_lines([f"  {line}" for line in plain_words(document)], "      ")
    return "\n".join([table, "", render_stats([document], wide), *words])


def render_studies(documents: Sequence[StudyDocument], fmt: Format, wide: bool = False) -> str:
    """One study as render_study prints it; several as {"studies": [...]} in json, one
    csv with a leading ticker column, or one table of their §2b figures side by side
    (ticker × horizon)."""
    if len(documents) == 1:
        return render_study(documents[0], fmt, wide)
    if fmt == "json":
        return json.dumps({"studies": list(documents)}, indent=2)
    if fmt == "csv":
        blocks = [render_study(d, "csv").splitlines() for d in documents]
        lines = ["ticker," + blocks[0][0]]
        lines += [f"{d['ticker']},{line}" for d, block in zip(documents, blocks) for line in block[1:]]
        return "\n".join(lines)
    hint = f"(one ticker's events and summary: study --ticker {documents[0]['ticker']})"
    tickers = ", ".join(d["ticker"] for d in documents)
    return "\n".join([*fit_lines([_title(tickers, documents[-1])]), render_stats(documents, wide), *fit_lines([hint])])

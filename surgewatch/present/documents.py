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

# Rows of §2b figures under the baseline, the verdict first and the interval beside the
# events' mean it belongs to: (label, how a cell is made from a stats row and its mean).
_SIGNIFICANCE_ROWS = (
    ("verdict", lambda s, mean: s["verdict"]),
    ("events' mean", lambda s, mean: mean),
    ("90% CI", lambda s, mean: None if s["ci_low"] is None else f"{percent(s['ci_low'])} to {percent(s['ci_high'])}"),
    ("random months' mean", lambda s, mean: None if mean is None else mean - s["excess"]),
    ("excess", lambda s, mean: s["excess"]),
    ("vs random months (p)", lambda s, mean: s["placebo_p"]),
    ("placebo draws", lambda s, mean: s["placebo_draws"]),
    ("HAC t", lambda s, mean: s["t_hac"]),
    ("independent episodes", lambda s, mean: s["n_independent"]),
    ("q", lambda s, mean: s["q_value"]),
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
    """SPEC §4's JSON object of `study` for one ticker; the last five keys come with --when."""

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
    if split is not None:
        # The §2c split (SPEC §4: the keys a study gains with --when).
        document["condition"] = split.condition.text
        document["when"] = _group_document(split.when)
        document["otherwise"] = _group_document(split.otherwise)
        document["baseline_when"] = figure_rows(split.baseline_when)
        document["diff"] = figure_rows(split.diff)
    return document


def study_table_rows(document: StudyDocument, fmt: Format = "table") -> tuple[list[str], list[list[object]]]:
    """The article's shape: one row per event, then the summary, baseline and §2b
    statistics laid out under the forward-return column of their horizon (csv: raw
    fractions, the interval as its two ends). With a condition, a `when` column marks
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

    cells = (
        _SIGNIFICANCE_ROWS
        if fmt == "table"
        else [(name, lambda s, mean, name=name: s[name]) for name in _SIGNIFICANCE_CSV]
    )

    def add_stats(section: str, figures: list[dict], summary: list[dict]) -> None:
        stats = {s["horizon"]: s for s in figures}
        means = {s["horizon"]: s["average"] for s in summary}
        for label, cell in cells:
            values = [cell(stats[h], means.get(h)) if h in stats else None for h in horizons]
            if label == "sample" and not any(values):
                continue  # the mark only where some horizon has a small sample
            add(section, label, values)

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


def plain_words(document: StudyDocument) -> list[str]:
    """One line per horizon, as sentences.horizon_sentence words it: "3M: suggestive, not
    proven (better): events' mean +7.64% (90% CI …) vs +2.11% for random months, …"."""
    means = {s["horizon"]: s["average"] for s in document["summary"]}
    return [f"{s['horizon']}M: {horizon_sentence(s, means.get(s['horizon']))}" for s in document["stats"]]


def render_study(document: StudyDocument, fmt: Format, wide: bool = False) -> str:
    """A study document in the asked format; json is the SPEC §4 object itself."""
    if fmt == "json":
        return json.dumps(document, indent=2)
    header, rows = study_table_rows(document, fmt)
    title = (
        f"{document['ticker']}: months {'+' if document['direction'] == 'up' else '-'}"
        f"{threshold_percent(document['threshold'])} or more ({document['basis']} basis), as of {document['as_of']}"
    )
    if "condition" in document:
        title += f"; when {document['condition']}"
    compact = ["section", "month", "move", *(forward_column(h) for h in document["horizons"]), "when"]
    table = render_rows(header, rows, fmt, title=title, label_column=1, compact=compact, wide=wide)
    if fmt == "csv":
        return table
    note = f"Signal or noise ({document['resamples']:,} resamples, seed {document['seed']}):"
    lines = [headline(document["ticker"], document["stats"]), note, *(f"  {line}" for line in plain_words(document))]
    return "\n".join([table, *fit_lines(lines, "      ")])


def render_studies(documents: Sequence[StudyDocument], fmt: Format, wide: bool = False) -> str:
    """One study as render_study prints it; several as {"studies": [...]} in json, one
    csv with a leading ticker column, or one table per ticker."""
    if len(documents) == 1:
        return render_study(documents[0], fmt, wide)
    if fmt == "json":
        return json.dumps({"studies": list(documents)}, indent=2)
    if fmt == "csv":
        blocks = [render_study(d, "csv").splitlines() for d in documents]
        lines = ["ticker," + blocks[0][0]]
        lines += [f"{d['ticker']},{line}" for d, block in zip(documents, blocks) for line in block[1:]]
        return "\n".join(lines)
    return "\n\n".join(render_study(d, fmt, wide) for d in documents)

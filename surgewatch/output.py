"""Render results for people (aligned tables, signed percents) and scripts (csv, json).

Fractions stay fractions in csv and json (SPEC §2); tables show percent with two
decimals and a sign.
"""

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Sequence
from typing import Literal

import polars as pl
from rich.console import Console
from rich.table import Table

from surgewatch.conditional import ConditionalStudy, GroupFigures
from surgewatch.study import StudyResult

Format = Literal["table", "csv", "json"]
STATISTICS = ("n", "average", "median", "win_rate", "sharpe", "max_drawdown")
# Columns that hold fractions; everything else prints as it is.
_RATIO_PREFIXES = ("move", "fwd_", "mdd_", "prior_drawdown", "prior_12m", "up_share", "difference",
                   "average", "median", "win_rate", "max_drawdown")


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def figure_rows(frame: pl.DataFrame) -> list[dict]:
    """A figures frame as JSON rows, without its ticker column."""
    return [{k: _plain(v) for k, v in row.items()} for row in frame.drop("ticker", strict=False).iter_rows(named=True)]


def _group_document(group: GroupFigures) -> dict:
    document = {"events": [m.strftime("%Y-%m") for m in group.events["month"]], "summary": figure_rows(group.summary)}
    if group.stats is not None:
        document["stats"] = figure_rows(group.stats)
    return document


def condition_document(split: ConditionalStudy) -> dict:
    """The SPEC §4 keys a study gains with --when."""
    return {
        "condition": split.condition.text,
        "when": _group_document(split.when),
        "otherwise": _group_document(split.otherwise),
        "baseline_when": figure_rows(split.baseline_when),
        "diff": figure_rows(split.diff),
    }


def study_document(result: StudyResult, ticker: str, split: ConditionalStudy | None = None) -> dict:
    """The SPEC §4 JSON object for one ticker (with the §2c split when given one)."""
    p = result.params
    events = result.events.filter(pl.col("ticker") == ticker)
    horizon_cols = [f"fwd_{h}m" for h in p.horizons] + [f"mdd_{h}m" for h in p.horizons]
    event_rows = [
        {
            "month": row["month"].strftime("%Y-%m"),
            "complete": row["complete"],
            "as_of": row["as_of"].isoformat(),
            "move": row["move"],
            **{c: _plain(row[c]) for c in horizon_cols},
            "sessions": row["sessions"],
            "up_sessions": row["up_sessions"],
            "prior_drawdown": row["prior_drawdown"],
            "prior_12m": row["prior_12m"],
            "up_share": row["up_share"],
            "first_crossed_on": _plain(row["first_crossed_on"]),
        }
        for row in events.iter_rows(named=True)
    ]

    def summary_rows(frame: pl.DataFrame) -> list[dict]:
        return figure_rows(frame.filter(pl.col("ticker") == ticker))

    as_of = result.as_of(ticker)
    return {
        "ticker": ticker,
        "threshold": p.threshold,
        "direction": p.direction,
        "basis": p.basis,
        "horizons": list(p.horizons),
        "as_of": as_of.isoformat() if as_of else None,
        "events": event_rows,
        "summary": summary_rows(result.summary),
        "baseline": summary_rows(result.baseline),
        **(condition_document(split) if split is not None else {}),
    }


def study_table_rows(document: dict) -> tuple[list[str], list[list[object]]]:
    """The article's shape: one row per event, then the summary and baseline statistics
    laid out under the forward-return column of their horizon. With a condition, a
    `when` column marks the events that meet it, and the when / otherwise /
    baseline_when statistics and the diff rows follow."""
    horizons = document["horizons"]
    fwd = [f"fwd_{h}m" for h in horizons]
    mdd = [f"mdd_{h}m" for h in horizons]
    header = ["section", "month", "complete", "as_of", "move", *fwd, *mdd,
              "sessions", "up_sessions", "prior_drawdown", "prior_12m", "up_share", "first_crossed_on"]
    rows: list[list[object]] = [
        ["event", *(e[c] for c in header[1:])] for e in document["events"]
    ]
    sections = {"summary": document["summary"], "baseline": document["baseline"]}
    if "condition" in document:
        header.append("when")
        met = set(document["when"]["events"])
        rows = [[*row, "yes" if row[1] in met else "no"] for row in rows]
        sections |= {"when": document["when"]["summary"], "otherwise": document["otherwise"]["summary"],
                     "baseline_when": document["baseline_when"]}
    padding = [None] * (len(header) - 5 - len(fwd))

    def add(section: str, figures: list[dict], stats: Sequence[str]) -> None:
        by_horizon = {s["horizon"]: s for s in figures}
        for stat in stats:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([section, stat, None, None, None, *values, *padding])

    for section, figures in sections.items():
        add(section, figures, STATISTICS)
    if "condition" in document:
        add("diff", document["diff"], ("difference", "diff_p"))
    return header, rows


def _is_ratio(column: str, label: object) -> bool:
    if label in ("n", "sharpe", "diff_p"):
        return False
    return column.startswith(_RATIO_PREFIXES)


def format_cell(column: str, value: object, label: object = None) -> str:
    """Percent with sign and two decimals for fractions; blank for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "partial"
    if isinstance(value, float):
        if _is_ratio(column, label):
            # A share is not a return: no sign on it, and none on a flat zero.
            unsigned = bool({"win_rate", "up_share"} & {column, label}) or round(value * 100, 2) == 0
            return f"{abs(value) * 100 if unsigned else value * 100:{'' if unsigned else '+'}.2f}%"
        if str(label).endswith("_p"):  # a p-value near 0 must not print as 0.00
            return f"{value:.4f}"
        return f"{round(value, 2) + 0.0:.2f}"
    return str(value)


def render_rows(
    header: Sequence[str], rows: Iterable[Sequence[object]], fmt: Format, title: str | None = None
) -> str:
    """Rows as an aligned table, csv (raw values) or a json list of objects."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps([dict(zip(header, map(_plain, r))) for r in rows], indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else _plain(v) for v in r] for r in rows])
        return buffer.getvalue().rstrip("\n")
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(header):
        numeric = any(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows)
        table.add_column(column, justify="right" if numeric else "left")
    for r in rows:
        label = r[1] if len(r) > 1 else None
        table.add_row(*(format_cell(c, v, label) for c, v in zip(header, r)))
    # Wide enough that no cell is cut; a terminal narrower than the table wraps it instead.
    console = Console(width=1000, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip("\n")


def render_study(document: dict, fmt: Format) -> str:
    """A study document in the asked format; json is the SPEC §4 object itself."""
    if fmt == "json":
        return json.dumps(document, indent=2)
    header, rows = study_table_rows(document)
    title = (
        f"{document['ticker']}: months {'+' if document['direction'] == 'up' else '-'}"
        f"{document['threshold'] * 100:g}% or more ({document['basis']} basis), as of {document['as_of']}"
    )
    if "condition" in document:
        title += f"; when {document['condition']}"
    return render_rows(header, rows, fmt, title=title)


def render_studies(documents: Sequence[dict], fmt: Format) -> str:
    """One study as render_study prints it; several as {"studies": [...]} in json, one
    csv with a leading ticker column, or one table per ticker."""
    if len(documents) == 1:
        return render_study(documents[0], fmt)
    if fmt == "json":
        return json.dumps({"studies": list(documents)}, indent=2)
    if fmt == "csv":
        blocks = [render_study(d, "csv").splitlines() for d in documents]
        lines = ["ticker," + blocks[0][0]]
        lines += [f"{d['ticker']},{line}" for d, block in zip(documents, blocks) for line in block[1:]]
        return "\n".join(lines)
    return "\n\n".join(render_study(d, fmt) for d in documents)

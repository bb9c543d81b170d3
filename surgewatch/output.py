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


def study_document(result: StudyResult, ticker: str) -> dict:
    """The SPEC §4 JSON object for one ticker."""
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
        rows = frame.filter(pl.col("ticker") == ticker).drop("ticker").iter_rows(named=True)
        return [{k: _plain(v) for k, v in row.items()} for row in rows]

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
    }


def study_table_rows(document: dict) -> tuple[list[str], list[list[object]]]:
    """The article's shape: one row per event, then the summary and baseline statistics
    laid out under the forward-return column of their horizon."""
    horizons = document["horizons"]
    fwd = [f"fwd_{h}m" for h in horizons]
    mdd = [f"mdd_{h}m" for h in horizons]
    header = ["section", "month", "complete", "as_of", "move", *fwd, *mdd,
              "sessions", "up_sessions", "prior_drawdown", "prior_12m", "up_share", "first_crossed_on"]
    rows: list[list[object]] = [
        ["event", *(e[c] for c in header[1:])] for e in document["events"]
    ]
    for section in ("summary", "baseline"):
        by_horizon = {s["horizon"]: s for s in document[section]}
        for stat in STATISTICS:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([section, stat, None, None, None, *values, *([None] * (len(header) - 5 - len(fwd)))])
    return header, rows


def _is_ratio(column: str, label: object) -> bool:
    if label in ("n", "sharpe"):
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
    return render_rows(header, rows, fmt, title=title)

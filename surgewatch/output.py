"""Render results for people (aligned tables, signed percents) and scripts (csv, json).

Fractions stay fractions in csv and json (SPEC §2). Tables format each cell by its type,
and by its name only for the columns known to hold fractions: those show percent with two
decimals and a sign (a win rate, a share, has none). Any other number prints in full.
"""

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal

import polars as pl
from rich.console import Console
from rich.table import Table

from surgewatch.formats import percent, threshold_percent
from surgewatch.study import StudyResult
from surgewatch.vocabulary import SMALL_SAMPLE, STATISTICS

Format = Literal["table", "csv", "json"]
# Rows of §2b figures under the baseline: (label, how a cell is made from a stats row).
_SIGNIFICANCE_ROWS = (
    ("excess", lambda s: s["excess"]),
    ("90% CI", lambda s: None if s["ci_low"] is None else f"{percent(s['ci_low'])} to {percent(s['ci_high'])}"),
    ("vs random months (p)", lambda s: s["placebo_p"]),
    ("HAC t", lambda s: s["t_hac"]),
    ("independent episodes", lambda s: s["n_independent"]),
    ("q", lambda s: s["q_value"]),
    ("sample", lambda s: "small sample" if s["n"] < SMALL_SAMPLE else None),
)
# Raw fractions for csv: the interval as its two ends.
_SIGNIFICANCE_CSV = ("excess", "ci_low", "ci_high", "placebo_p", "placebo_percentile", "win_p", "t_hac",
                     "n_independent", "average_independent", "q_value")
# The columns (and study statistic rows) that hold fractions, by exact name: a user's
# `SELECT move * 100 AS move_pct` is not one of them.
_PERCENT = re.compile(r"(move|prior_drawdown|average|median|win_rate|max_drawdown|(fwd|mdd)_\d+m|excess|ci_(low|high)|average_independent)")
_UNSIGNED = {"win_rate"}
# Sharpe ratios, and check-published's figures (percent points already).
_TWO_DECIMALS = {"sharpe", "published", "computed", "difference", "t_hac", "HAC t"}
# Probabilities and shares of resamples: three decimals.
_P_VALUES = {"vs random months (p)", "q", "placebo_p", "placebo_percentile", "win_p", "q_value"}
# Study rows whose label, not their column, says what a cell holds.
_LABELLED = {*STATISTICS, *_P_VALUES, "excess", "HAC t"}


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # DuckDB's SUM of integers is a DECIMAL; json has no decimal type.
        return int(value) if value == value.to_integral_value() else float(value)
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
        "stats": summary_rows(result.stats),
        "resamples": p.resamples,
        "seed": p.seed,
    }


def study_table_rows(document: dict, fmt: Format = "table") -> tuple[list[str], list[list[object]]]:
    """The article's shape: one row per event, then the summary, baseline and §2b
    statistics laid out under the forward-return column of their horizon (csv: raw
    fractions, the interval as its two ends)."""
    horizons = document["horizons"]
    fwd = [f"fwd_{h}m" for h in horizons]
    mdd = [f"mdd_{h}m" for h in horizons]
    header = ["section", "month", "complete", "as_of", "move", *fwd, *mdd,
              "sessions", "up_sessions", "prior_drawdown", "first_crossed_on"]
    rows: list[list[object]] = [
        ["event", *(e[c] for c in header[1:])] for e in document["events"]
    ]
    for section in ("summary", "baseline"):
        by_horizon = {s["horizon"]: s for s in document[section]}
        for stat in STATISTICS:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([section, stat, None, None, None, *values, *([None] * (len(header) - 5 - len(fwd)))])
    stats = {s["horizon"]: s for s in document["stats"]}
    cells = _SIGNIFICANCE_ROWS if fmt == "table" else [(name, lambda s, name=name: s[name]) for name in _SIGNIFICANCE_CSV]
    for label, cell in cells:
        values = [cell(stats[h]) if h in stats else None for h in horizons]
        if label == "sample" and not any(values):
            continue  # the mark only where some horizon has a small sample
        rows.append(["stats", label, None, None, None, *values, *([None] * (len(header) - 5 - len(fwd)))])
    return header, rows


def plain_words(document: dict) -> list[str]:
    """One line per horizon: "3M: +5.22 pp over an ordinary month; random months do this
    well 4% of the time; 14 independent episodes" (and "small sample" under n < 10)."""
    lines = []
    for s in document["stats"]:
        head = f"{s['horizon']}M: "
        if s["n"] == 0:
            lines.append(head + "no event has a complete window yet")
            continue
        words = f"{s['excess'] * 100:+.2f} pp over an ordinary month; "
        p = s["placebo_p"]
        if p is None:
            words += "every month is an event, so there is no random month to compare with; "
        else:
            words += f"random months do this well {'under 1%' if p < 0.005 else f'{p:.0%}'} of the time; "
        words += f"{s['n_independent']} independent episode{'s' if s['n_independent'] != 1 else ''}"
        lines.append(head + words + (f" (small sample: n = {s['n']})" if s["n"] < SMALL_SAMPLE else ""))
    return lines


def format_cell(column: str, value: object, label: object = None) -> str:
    """One table cell: blank for null, true/false, and for a float by the name of its
    column (or of its study statistic row, `label`): percent for the known fractions,
    two decimals for a Sharpe ratio, every digit otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        name = label if label in _LABELLED else column
        if name in _P_VALUES:
            return f"{value:.3f}"
        if name in _TWO_DECIMALS:
            return f"{value + 0.0:.2f}"
        if isinstance(name, str) and _PERCENT.fullmatch(name):
            # A share is not a return: no sign on it, and none on a flat zero.
            if name in _UNSIGNED or round(value * 100, 2) == 0:
                return percent(value, signed=False)
            return percent(value)
    return str(value)


def render_rows(
    header: Sequence[str], rows: Iterable[Sequence[object]], fmt: Format, title: str | None = None,
    label_column: int | None = None,
) -> str:
    """Rows as an aligned table, csv (raw values) or a json list of objects.

    label_column: the column whose value names the statistic a row holds (the study's
    summary rows), so that its cells are formatted as that statistic.
    """
    rows = list(rows)
    if fmt == "json":
        # default=str: a user's query may return times, UUIDs, lists…
        return json.dumps([dict(zip(header, map(_plain, r))) for r in rows], indent=2, default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else _plain(v) for v in r] for r in rows])
        return buffer.getvalue().rstrip("\n")
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(header):
        numeric = any(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool) for r in rows)
        table.add_column(column, justify="right" if numeric else "left")
    for r in rows:
        label = r[label_column] if label_column is not None else None
        table.add_row(*(format_cell(c, v, label) for c, v in zip(header, r)))
    # Wide enough that no cell is cut; a terminal narrower than the table wraps it instead.
    console = Console(width=1000, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip("\n")


def render_study(document: dict, fmt: Format) -> str:
    """A study document in the asked format; json is the SPEC §4 object itself."""
    if fmt == "json":
        return json.dumps(document, indent=2)
    header, rows = study_table_rows(document, fmt)
    title = (
        f"{document['ticker']}: months {'+' if document['direction'] == 'up' else '-'}"
        f"{threshold_percent(document['threshold'])} or more ({document['basis']} basis), as of {document['as_of']}"
    )
    table = render_rows(header, rows, fmt, title=title, label_column=1)
    if fmt == "csv":
        return table
    note = f"Signal or noise ({document['resamples']:,} resamples, seed {document['seed']}):"
    return "\n".join([table, note, *(f"  {line}" for line in plain_words(document))])


DIFF_HEADER = ["table", "key", "change", "field", "old", "new"]


def diff_rows(diff: pl.DataFrame, keys: dict[str, tuple[str, ...]], fmt: Format) -> list[list[object]]:
    """Warehouse.diff's added/removed rows (JSON) as one line per changed field, keyed by
    the table's key: a row removed and added again under one key is a change of the
    fields that differ, old → new. A row only added or only removed lists its fields.
    In a table the values are formatted as their field (percent for fractions)."""
    sides: dict[tuple[str, tuple], dict[str, dict]] = {}
    for table, change, row in diff.select("table", "change", "row").iter_rows():
        values = json.loads(row)
        key = tuple(values[k] for k in keys[table])
        sides.setdefault((table, key), {})[change] = values

    def shown(field: str, value: object) -> object:
        return format_cell(field, value) if fmt == "table" else value

    out: list[list[object]] = []
    for (table, key), side in sides.items():
        old, new = side.get("removed", {}), side.get("added", {})
        change = "changed" if old and new else "added" if new else "removed"
        label = " ".join(map(str, key))
        fields = [f for f in (new or old) if f not in keys[table] and old.get(f) != new.get(f)]
        out += [[table, label, change, f, shown(f, old.get(f)), shown(f, new.get(f))] for f in fields]
    return out

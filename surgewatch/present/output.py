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
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

import polars as pl
from rich.console import Console
from rich.table import Table

from surgewatch.core.vocabulary import VERDICTS
from surgewatch.present.formats import Format, percent
from surgewatch.present.sentences import pp

# How a float prints in a table, by the name of its column: percent for the fractions
# (by exact name: a user's `SELECT move * 100 AS move_pct` is not one), two decimals,
# or three for probabilities. Anything else prints every digit.
_PERCENT = re.compile(
    r"(move|prior_drawdown|prior_12m|average|median|max_drawdown|(fwd|mdd)_\d+m|excess|(ci|chance)_(low|high)|average_independent|return|(all_)?(mean|median|p25|p75)|average_\d+m)"
)
_SHARES = {"win_rate", "up_share"}  # fractions without a sign: a share is not a return
# Sharpe ratios, HAC t, analog distances, and check-published's figures (percent points already).
_TWO_DECIMALS = {"sharpe", "t_hac", "distance", "published", "computed", "difference"}
_P_VALUES = {"placebo_p", "placebo_percentile", "win_p", "q_value", "diff_p"}
# The study's statistic rows: their label, not their column, says what a cell holds.
_ROW_STYLES = {
    **{name: "percent" for name in ("average", "median", "max_drawdown")},
    "difference": "pp",
    "win_rate": "share",
    "sharpe": "two",
    "diff_p": "p",
}
# The §2b table's columns (present.documents.stats_table_rows).
_COLUMN_STYLES = {
    **{name: "percent" for name in ("events' mean", "random months' mean")},
    "excess": "pp",
    "vs_first": "pp",
    "excess_12m": "pp",
    "HAC t": "two",
    **{name: "p" for name in ("p", "q", "win p")},
}


def plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # DuckDB's SUM of integers is a DECIMAL; json has no decimal type.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _style(column: str, label: object) -> str:
    if isinstance(label, str) and label in _ROW_STYLES:
        return _ROW_STYLES[label]
    if column in _COLUMN_STYLES:
        return _COLUMN_STYLES[column]
    if column in _SHARES:
        return "share"
    if _PERCENT.fullmatch(column):
        return "percent"
    if column in _TWO_DECIMALS:
        return "two"
    return "p" if column in _P_VALUES else "plain"


def format_cell(column: str, value: object, label: object = None) -> str:
    """One table cell: blank for null, true/false, and for a float by the name of its
    column (or of its study statistic row, `label`): percent for the known fractions
    (unsigned for a share, and for a flat zero), two decimals for a Sharpe ratio or a t,
    three for a probability, every digit otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        style = _style(column, label)
        if style == "pp":
            return pp(value)
        if style in ("percent", "share"):
            return percent(value, signed=style == "percent" and round(value * 100, 2) != 0)
        if style == "two":  # rounded first: -0.001 prints 0.00, never -0.00
            return f"{round(value, 2) + 0.0:.2f}"
        if style == "p":
            return f"{value:.3f}"
    return str(value)


def figure_rows(frame: pl.DataFrame) -> list[dict]:
    """A figures frame as JSON rows, without its ticker column."""
    return [{k: plain(v) for k, v in row.items()} for row in frame.drop("ticker", strict=False).iter_rows(named=True)]


def terminal_width() -> int | None:
    """The width a table must fit: COLUMNS when set, else the terminal's when stdout is
    one; None (no limit) when output goes to a pipe or a file, so scripts see whole rows."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


# What a wrapped line must not split: a verdict, an interval "a to b", a figure in points.
_WHOLE = re.compile(
    "|".join(re.escape(v) for v in VERDICTS)
    + r"|[+-]?[\d.,]+% to [+-]?[\d.,]+%|[+-]?[\d.]+ pp|random sets of \d+ months"
)


def fit_lines(lines: Iterable[str], indent: str = "  ") -> list[str]:
    """Lines of prose wrapped to the terminal's width (a wrapped line goes on after
    `indent`) between words, never inside a verdict, an interval or a figure in points
    (_WHOLE); unchanged without a terminal."""
    width = terminal_width()
    if width is None:
        return list(lines)
    # textwrap breaks only at ASCII whitespace: a no-break space holds a phrase together.
    glued = (_WHOLE.sub(lambda m: m.group().replace(" ", "\u00a0"), line) for line in lines)
    wrapped = (textwrap.wrap(line, width, subsequent_indent=indent) or [""] for line in glued)
    return [part.replace("\u00a0", " ") for parts in wrapped for part in parts]


def raw_cell(value: object) -> str:
    """A value as a query returned it: blank for null, true/false, ISO dates, every digit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(plain(value))


_PROSE = 24  # the narrowest a column of words gets before columns are dropped


def _span(widths: Sequence[int]) -> int:
    """A table's width: "│ " before each column and " │" after the last (rich's padding 1)."""
    return sum(w + 3 for w in widths) + 1


def _records(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """One record per block, as DuckDB's line mode prints it: `name = value`, names
    right-aligned, a blank line between records."""
    name = max(len(h) for h in header)
    blocks = ["\n".join(f"{h.rjust(name)} = {v}" for h, v in zip(header, r)) for r in cells]
    return "\n\n".join(blocks) if blocks else f"({len(header)} columns, no rows)"


def render_query(header: Sequence[str], rows: Iterable[Sequence[object]], fmt: Format) -> str:
    """A query's result as it came: no format guessed from a column's name (an `average`
    of closes is not a fraction). A table wider than the terminal prints one record per
    block (render_rows), so no value is cut across lines."""
    return render_rows(header, rows, fmt, raw=True)


def render_rows(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    fmt: Format,
    title: str | None = None,
    label_column: int | None = None,
    compact: Sequence[str] | None = None,
    wide: bool = False,
    raw: bool = False,
    prose: Collection[str] = (),
) -> str:
    """Rows as an aligned table, csv (raw values) or a json list of objects.

    A cell is never cut across lines. label_column: the column whose value names the
    statistic a row holds (the study's summary rows), so that its cells are formatted as
    that statistic. compact: the columns a reader needs first, most important first; on a
    terminal (unless `wide`) the table shows only those, and where even they do not fit,
    the least important go and a note names them. A table with no compact columns that is
    wider than the terminal prints one record per block. raw: cells as raw_cell gives
    them, not by their column's name. prose: columns of words (a version's message)
    that may wrap between words, down to _PROSE columns or their longest word.
    """
    rows = list(rows)
    if fmt == "json":
        # default=str: a user's query may return times, UUIDs, lists…
        return json.dumps([dict(zip(header, map(plain, r))) for r in rows], indent=2, default=str)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else plain(v) for v in r] for r in rows])
        return buffer.getvalue().rstrip("\n")
    width = None if wide else terminal_width()
    cells = [
        [
            raw_cell(v) if raw else format_cell(c, v, None if label_column is None else r[label_column])
            for c, v in zip(header, r)
        ]
        for r in rows
    ]
    natural = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    words = {
        i: max([len(h), *(len(w) for r in cells for w in r[i].split())]) for i, h in enumerate(header) if h in prose
    }
    widths = [min(w, max(_PROSE, words[i])) if i in words else w for i, w in enumerate(natural)]
    keep, note = list(range(len(header))), []
    if width is not None and compact is not None:
        ranked = [header.index(c) for c in compact if c in header]
        keep = ranked[:]
        while len(keep) > 2 and _span([widths[i] for i in keep]) > width:
            keep.pop()
        if len(keep) < len(ranked):
            dropped = ", ".join(header[i] for i in ranked if i not in keep)
            note = fit_lines([f"(not shown at {width} columns: {dropped}; --wide shows every column)"])
        keep.sort()
    lines = fit_lines(title.splitlines()) if title else []
    if width is not None and _span([widths[i] for i in keep]) > width:
        return "\n".join([*lines, _records(header, cells)])
    table = Table(title_justify="left")
    for i in keep:
        numeric = any(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool) for r in rows)
        table.add_column(
            header[i],
            justify="right" if numeric else "left",
            no_wrap=i not in words,
            min_width=widths[i],
            overflow="fold",
        )
    for r in cells:
        table.add_row(*(r[i] for i in keep))
    # Every kept cell whole (checked above against the terminal's width); prose columns wrap.
    span = _span([natural[i] for i in keep]) + 1
    console = Console(width=span if width is None else min(span, width), record=True, file=io.StringIO())
    console.print(table)
    return "\n".join([*lines, console.export_text().rstrip("\n"), *note])


DIFF_HEADER = ["table", "key", "change", "field", "old", "new"]


def diff_rows(diff: pl.DataFrame, keys: dict[str, tuple[str, ...]], fmt: Format) -> list[list[object]]:
    """Warehouse.diff's added/removed rows (JSON) as one line per changed field, keyed by
    the table's key: a row removed and added again under one key is a change of the
    fields that differ, old → new. A row only added or only removed lists its fields.
    In a table the values are formatted as their field (percent for fractions); a month
    key (stored as the month's first day) reads as the month: `IWM 2026-04`."""
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
        label = " ".join(str(v)[:7] if k == "month" else str(v) for k, v in zip(keys[table], key, strict=True))
        fields = [f for f in (new or old) if f not in keys[table] and old.get(f) != new.get(f)]
        out += [[table, label, change, f, shown(f, old.get(f)), shown(f, new.get(f))] for f in fields]
    return out

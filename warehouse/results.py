"""A user's query: what kind of statement it is, and its result as a polars frame for
any column type it can return.

polars cannot import Arrow's month-day-nano INTERVAL (it raises ComputeError), so such
columns arrive as text in DuckDB's own spelling ("1 year 2 months 3 days 04:05:06").
"""

import re

import duckdb
import polars as pl
import pyarrow as pa

# DuckDB types INSTALL as a LOAD statement; a refusal should name what the user wrote.
_INSTALL = re.compile(r"\s*(?:(?:/\*.*?\*/|--[^\n]*\n)\s*)*(?:FORCE\s+)?INSTALL\b", re.IGNORECASE | re.DOTALL)


def statement_kind(statement: duckdb.Statement) -> str:
    """The statement's type as the user would name it: INSTALL, LOAD, SELECT…"""
    if statement.type.name == "LOAD" and _INSTALL.match(statement.query):
        return "INSTALL"
    return statement.type.name


def _interval_text(months: int, days: int, nanoseconds: int) -> str:
    """DuckDB's rendering of an INTERVAL: years, months, days, then hh:mm:ss[.ffffff]."""
    sign = -1 if months < 0 else 1
    years, months = sign * (abs(months) // 12), sign * (abs(months) % 12)
    parts = [
        f"{n} {unit}{'' if abs(n) == 1 else 's'}"
        for n, unit in ((years, "year"), (months, "month"), (days, "day"))
        if n
    ]
    if nanoseconds or not parts:
        seconds, micros = divmod(abs(nanoseconds) // 1000, 1_000_000)
        clock = f"{'-' if nanoseconds < 0 else ''}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        parts.append(clock + (f".{micros:06d}".rstrip("0") if micros else ""))
    return " ".join(parts)


def result_frame(result: duckdb.DuckDBPyConnection | None) -> pl.DataFrame:
    """The rows of an executed query; INTERVAL columns as text (see the module doc). An
    empty frame when nothing ran (a query of only comments) or nothing returns rows."""
    if result is None or not result.description:
        return pl.DataFrame()
    table = result.to_arrow_table()
    for i, column in enumerate(table.schema):
        if pa.types.is_interval(column.type):
            text = [
                None if v is None else _interval_text(v.months, v.days, v.nanoseconds)
                for v in table.column(i).to_pylist()
            ]
            table = table.set_column(i, column.name, pa.array(text, pa.string()))
    return pl.from_arrow(table)  # type: ignore[return-value]

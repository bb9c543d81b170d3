"""Shaping rows into a table's columns and types, with the checks DuckLake cannot make.

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints, only NOT NULL, so keys and
allowed values (schema.KEYS, schema.ENUMS) are checked here before a row is written.
Column lists are read back from the catalog, so a migration that adds a column is picked
up without touching the write code.

The shaped rows are a view over their source, a frame or Parquet files, never a copy:
a night's prices go from the files its chunks spilled straight into the lake.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import ALIAS
from surgewatch.warehouse.extensions import sql_literal

Rows = pl.DataFrame | Sequence[Path]
"""A table's incoming rows: a frame, or Parquet files of the same columns."""


def table_name(name: str) -> str:
    """Table names are built into SQL, so only the warehouse's own are let through."""
    if name not in schema.KEYS and name != "runs":
        raise WarehouseError(f"unknown warehouse table {name!r}")
    return name


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """The frame visible to SQL as `name` for the duration of the block."""
    con.register(name, frame)
    try:
        yield
    finally:
        con.unregister(name)


class Stager:
    """Stages rows for one connection, caching each table's columns."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._columns: dict[str, list[tuple[str, str]]] = {}

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, SQL type) of the table's columns, in order."""
        if table not in self._columns:
            self._columns[table] = self._con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                [ALIAS, table_name(table)],
            ).fetchall()
        return self._columns[table]

    @contextmanager
    def staged(self, table: str, rows: Rows | None, defaults: dict[str, Any]) -> Iterator[str]:
        """The name of a view of `rows` shaped into the table's columns and types and
        checked, for the duration of the block; no rows (None, an empty frame or no
        files) give a view of none.

        Columns the rows lack come from `defaults` (else NULL); extra columns are
        dropped; run_id always comes from defaults, the run doing the write.
        """
        view = f"_sw_staged_{table_name(table)}"
        with ExitStack() as stack:
            source, present = self._source(table, rows, stack)
            missing = [key for key in schema.KEYS[table] if key not in present and key not in defaults]
            if missing:
                raise WarehouseError(f"{table}: the frame has no column {', '.join(missing)}")
            selects = [
                f'CAST(f."{name}" AS {sql_type}) AS "{name}"'
                if name in present and name != "run_id"
                else f'CAST({_literal(defaults.get(name))} AS {sql_type}) AS "{name}"'
                for name, sql_type in self.columns(table)
            ]
            try:
                self._con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(selects)} FROM {source} AS f"
                )
                stack.callback(_drop, self._con, view)
                _check(self._con, table, view)
            except duckdb.Error as exc:
                raise WarehouseError(f"{table}: {one_line(exc)}") from None
            yield view

    def _source(self, table: str, rows: Rows | None, stack: ExitStack) -> tuple[str, list[str]]:
        """(SQL naming the rows, their columns)."""
        if isinstance(rows, pl.DataFrame) and rows.height:
            name = f"_sw_frame_{table}"
            stack.enter_context(registered(self._con, name, rows))
            return name, rows.columns
        files = [] if rows is None or isinstance(rows, pl.DataFrame) else [str(path) for path in rows]
        if files:
            present = list(pl.read_parquet_schema(files[0]))
            return f"read_parquet([{', '.join(sql_literal(f) for f in files)}])", present
        return f"(SELECT * FROM {table_name(table)} LIMIT 0)", [name for name, _ in self.columns(table)]


def _drop(con: duckdb.DuckDBPyConnection, view: str) -> None:
    try:
        con.execute(f"DROP VIEW IF EXISTS {view}")
    except duckdb.TransactionException:
        pass  # an aborted transaction: its rollback takes the view with it


def _literal(value: Any) -> str:
    """A default as SQL (a view takes no bound parameters); cast to its column's type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return sql_literal(value.isoformat())
    return sql_literal(str(value))


def _check(con: duckdb.DuckDBPyConnection, table: str, view: str) -> None:
    keys = list(schema.KEYS[table])
    # hash(f) reads every column, so a value that does not fit its column's type fails
    # here, before anything is written.
    counts = ", ".join(f'count(*) - count("{k}")' for k in keys)
    nulls = con.execute(f"SELECT {counts}, max(hash(f)) FROM {view} AS f").fetchone() or ()
    null_keys = [key for key, n in zip(keys, nulls[: len(keys)], strict=True) if n]
    if null_keys:
        raise WarehouseError(f"{table}: null {', '.join(null_keys)} in {nulls[keys.index(null_keys[0])]} row(s)")
    key_list = ", ".join(f'"{k}"' for k in keys)
    shared = con.execute(
        f"SELECT sum(n)::BIGINT, arg_min(example, example) FROM ("
        f"SELECT count(*) AS n, concat_ws(', ', {key_list}) AS example FROM {view} "
        f"GROUP BY {key_list} HAVING count(*) > 1)"
    ).fetchone()
    if shared and shared[0]:
        raise WarehouseError(f"{table}: {shared[0]} rows share a key ({', '.join(keys)}), e.g. {shared[1]}")
    for (enum_table, column), allowed in schema.ENUMS.items():
        if enum_table != table:
            continue
        listed = ", ".join(sql_literal(value) for value in sorted(allowed))
        bad = con.execute(f'SELECT "{column}" FROM {view} WHERE "{column}" NOT IN ({listed}) LIMIT 1').fetchone()
        if bad:
            raise WarehouseError(f"{table}.{column} must be one of {sorted(allowed)}, not {bad[0]!r}")

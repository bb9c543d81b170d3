"""Shaping a frame into a table's columns and types, with the checks DuckLake cannot make.

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints, only NOT NULL, so keys and
allowed values (schema.KEYS, schema.ENUMS) are checked here before a row is written.
Column lists are read back from the catalog, so a migration that adds a column is picked
up without touching the write code.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import polars as pl

from surgewatch.errors import WarehouseError, one_line
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import ALIAS


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
    """Stages frames for one connection, caching each table's columns."""

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

    def empty(self, table: str) -> pl.DataFrame:
        """No rows, in the table's columns and types: what a table gets when a run's frames
        hold none of its rows (see Writer._upsert)."""
        return self._con.execute(f"SELECT * FROM {table_name(table)} LIMIT 0").pl()

    def stage(self, table: str, frame: pl.DataFrame | None, defaults: dict[str, Any]) -> pl.DataFrame | None:
        """The frame shaped into the table's columns and types (None when it has no rows).

        Columns the frame lacks come from `defaults` (else NULL); extra columns are
        dropped; run_id always comes from defaults, the run doing the write.
        """
        if frame is None or frame.height == 0:
            return None
        missing = [key for key in schema.KEYS[table] if key not in frame.columns and key not in defaults]
        if missing:
            raise WarehouseError(f"{table}: the frame has no column {', '.join(missing)}")
        selects, params = [], []
        for name, sql_type in self.columns(table):
            if name in frame.columns and name != "run_id":
                selects.append(f'CAST(f."{name}" AS {sql_type}) AS "{name}"')
            else:
                selects.append(f'CAST(? AS {sql_type}) AS "{name}"')
                params.append(defaults.get(name))
        try:
            with registered(self._con, "_sw_frame", frame):
                staged = self._con.execute(f"SELECT {', '.join(selects)} FROM _sw_frame AS f", params).pl()
        except duckdb.Error as exc:
            raise WarehouseError(f"{table}: {one_line(exc)}") from None
        _check(table, staged)
        return staged


def _check(table: str, staged: pl.DataFrame) -> None:
    keys = list(schema.KEYS[table])
    null_keys = [key for key in keys if staged[key].null_count()]
    if null_keys:
        raise WarehouseError(f"{table}: null {', '.join(null_keys)} in {staged[null_keys[0]].null_count()} row(s)")
    duplicated = staged.filter(staged.select(keys).is_duplicated())
    if duplicated.height:
        example = ", ".join(str(v) for v in duplicated.row(0, named=True).values() if v is not None)
        raise WarehouseError(f"{table}: {duplicated.height} rows share a key ({', '.join(keys)}), e.g. {example}")
    for (enum_table, column), allowed in schema.ENUMS.items():
        if enum_table != table or column not in staged.columns:
            continue
        bad = staged.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(sorted(allowed)))
        if bad.height:
            raise WarehouseError(f"{table}.{column} must be one of {sorted(allowed)}, not {bad[column][0]!r}")

"""Bringing a warehouse to the schema this code expects (the DDL is in schema.py).

A writer applies the pending migrations, each with its schema_version row in one snapshot;
a reader only checks, and refuses a warehouse that is missing, older or newer.
"""

from datetime import datetime, timezone

import duckdb

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.connection import no_warehouse, transaction
from surgewatch.warehouse.extensions import scalar


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The number of the last migration applied to this warehouse (0: none)."""
    # ALIAS is our constant, written in: a bound parameter makes DuckDB import pandas
    # (to check the parameter's type), a third of a second on every command.
    exists = scalar(
        con,
        f"SELECT count(*) FROM duckdb_tables() WHERE database_name = '{ALIAS}' "
        "AND schema_name = 'main' AND table_name = 'schema_version'",
    )
    if not exists:
        return 0
    return int(scalar(con, "SELECT coalesce(max(version), 0) FROM schema_version"))


def _head() -> int:
    # Read at call time: tests add a migration by replacing schema.MIGRATIONS.
    return schema.MIGRATIONS[-1].version


def _refuse_newer(current: int) -> None:
    if current > _head():
        raise WarehouseError(
            f"the warehouse has schema version {current}, newer than this surgewatch knows ({_head()}); upgrade surgewatch"
        )


def check_schema(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """For a reader: the warehouse exists and has exactly this code's schema."""
    current = schema_version(con)
    if current == 0:
        raise WarehouseError(no_warehouse(catalog))
    if current < _head():
        raise WarehouseError(
            f"the warehouse has schema version {current}, this surgewatch expects {_head()}; run `surgewatch refresh` to upgrade it"
        )
    _refuse_newer(current)


def migrate(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    """For a writer: apply every migration newer than the warehouse, one snapshot each.
    Returns the migrations applied, each number → the version it became."""
    current = schema_version(con)
    _refuse_newer(current)
    applied: dict[int, int] = {}
    for migration in schema.MIGRATIONS:
        if migration.version <= current:
            continue
        message = f"migration {migration.version}: {migration.name}"
        try:
            with transaction(con, message, {"migration": migration.version}) as snapshot:
                for statement in migration.statements:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [migration.version, migration.name, datetime.now(timezone.utc)],
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"{message} failed: {one_line(exc)}") from None
        applied[migration.version] = snapshot
    return applied

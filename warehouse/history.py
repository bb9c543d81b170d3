"""The warehouse's history: every version (one per run or migration) and what changed
between two of them."""

import json
from collections.abc import Sequence

import duckdb
import polars as pl

from surgewatch.core.errors import WarehouseError
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import ALIAS
from surgewatch.warehouse.readers import Reader
from surgewatch.warehouse.staging import table_name

_CHANGE_WORDS = {
    "schemas_created": "created schema",
    "tables_created": "created",
    "tables_altered": "altered",
    "tables_dropped": "dropped",
    "tables_inserted_into": "inserted",
    "inlined_insert": "inserted",
    "tables_deleted_from": "deleted",
    "inlined_delete": "deleted",
}

_DIFF_SCHEMA = pl.Schema({"table": pl.String(), "change": pl.String(), "ticker": pl.String(), "row": pl.String()})
_VERSIONS_SCHEMA = pl.Schema(
    {
        "version": pl.Int64(),
        "time": pl.Datetime("us", "UTC"),
        "run_id": pl.String(),
        "message": pl.String(),
        "changes": pl.String(),
    }
)


def versions(reader: Reader) -> pl.DataFrame:
    """Every version: version (snapshot id), time, run_id, message, and which tables
    it created, inserted into or deleted from."""
    snapshots = reader.rows(
        f"SELECT snapshot_id, snapshot_time, commit_extra_info, commit_message, changes "
        f"FROM {ALIAS}.snapshots() ORDER BY snapshot_id"
    )
    names = dict(reader.rows(f"SELECT DISTINCT table_id, table_name FROM __ducklake_metadata_{ALIAS}.ducklake_table"))
    rows = []
    for version, at, extra, message, changes in snapshots:
        run_id = json.loads(extra).get("run_id") if extra else None
        rows.append((version, at, run_id, message, _describe_changes(changes or {}, names)))
    return pl.DataFrame(rows, schema=_VERSIONS_SCHEMA, orient="row")


def _describe_changes(changes: dict[str, list[str]], names: dict[int, str]) -> str:
    grouped: dict[str, set[str]] = {}
    for kind, items in changes.items():
        word = _CHANGE_WORDS.get(kind, kind)
        for item in items:
            name = names.get(int(item), item) if item.isdigit() else item.removeprefix("main.")
            grouped.setdefault(word, set()).add(name)
    return "; ".join(f"{word}: {', '.join(sorted(tables))}" for word, tables in grouped.items())


def _columns_at(con: duckdb.DuckDBPyConnection, table: str, version: int) -> list[str] | None:
    try:
        cursor = con.execute(f"SELECT * FROM {table_name(table)} AT (VERSION => ?) LIMIT 0", [version])
    except duckdb.CatalogException:
        return None  # the table did not exist yet at that version
    return [column[0] for column in cursor.description]


def _rows_at(table: str, select: str, version: int, exists: bool, other: int) -> tuple[str, int]:
    """The query (and its version parameter) for a table's rows at a version; reading
    AT a version where the table did not exist yet fails, so that reads it empty."""
    if exists:
        return f"SELECT {select} FROM {table_name(table)} AT (VERSION => ?)", version
    return f"SELECT {select} FROM {table_name(table)} AT (VERSION => ?) WHERE false", other


def diff(reader: Reader, a: int, b: int, tables: Sequence[str] | None = None) -> pl.DataFrame:
    """Rows of the result tables (or of `tables`, some of them) that differ between versions a and b: table, change
    ('added': in b not a; 'removed': in a not b), ticker (a context series' name), row (JSON of the values).

    Rows are compared on their values, without lineage columns (run_id, source,
    fetched_at, created_run, sent_run), so a re-run that recomputed the same numbers
    shows nothing; a changed row shows as one removed and one added.
    """
    known = {row[0] for row in reader.rows(f"SELECT snapshot_id FROM {ALIAS}.snapshots()")}
    for version in (a, b):
        if version not in known:
            raise WarehouseError(f"no version {version} in the warehouse; `surgewatch versions` lists them")
    parts = []
    for table in (t for t in schema.RESULT_TABLES if tables is None or t in tables):
        before, after = _columns_at(reader.con, table, a), _columns_at(reader.con, table, b)
        if before is None and after is None:
            continue
        columns = [
            c
            for c in (after or before or [])
            if c not in schema.LINEAGE and (before is None or c in before) and (after is None or c in after)
        ]
        select = ", ".join(f'"{c}"' for c in columns)
        key = schema.KEYS[table][0]  # a ticker, or a context series' name
        old, old_at = _rows_at(table, select, a, before is not None, b)
        new, new_at = _rows_at(table, select, b, after is not None, a)
        parts.append(
            reader.read(
                f'SELECT ? AS "table", \'added\' AS change, d."{key}" AS ticker, CAST(to_json(d) AS VARCHAR) AS row '
                f"FROM ({new} EXCEPT ALL {old}) AS d "
                f"UNION ALL SELECT ?, 'removed', d.\"{key}\", CAST(to_json(d) AS VARCHAR) "
                f"FROM ({old} EXCEPT ALL {new}) AS d",
                [table, new_at, old_at, table, old_at, new_at],
            )
        )
    if not parts:
        return pl.DataFrame(schema=_DIFF_SCHEMA)
    order = {table: i for i, table in enumerate(schema.RESULT_TABLES)}
    result = pl.concat(parts).cast(_DIFF_SCHEMA)
    return (
        result.with_columns(_order=pl.col("table").replace_strict(order, return_dtype=pl.Int32))
        .sort("_order", "ticker", "row", "change")
        .drop("_order")
    )

"""A DuckDB connection with the lake attached: attaching (with its errors in words), the
read-only lock-down, the retry on a locked SQLite catalog, and one transaction = one
DuckLake snapshot."""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.core.faults import Step, reach
from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.extensions import scalar, sql_literal

log = logging.getLogger(__name__)

LOCK_WAIT = 30.0
_AUTHOR = "surgewatch"
_T = TypeVar("_T")


def retry_locked(catalog: Catalog, action: Callable[[], _T]) -> _T:
    """Run a read, retrying while a SQLite catalog answers "database is locked".

    In rollback-journal mode a commit locks the whole file and DuckDB's sqlite scanner
    gives up after 5 s; a read can always be repeated, so it waits for the commit instead.
    """
    if catalog.kind != "sqlite":
        return action()
    delay, deadline = 0.05, time.monotonic() + LOCK_WAIT
    while True:
        try:
            return action()
        except duckdb.Error as exc:
            if "database is locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def no_warehouse(catalog: Catalog) -> str:
    return f"no warehouse at {catalog.display}; run `surgewatch refresh` first"


def attach(con: duckdb.DuckDBPyConnection, catalog: Catalog, *, read_only: bool, snapshot: int | None = None) -> None:
    """Attach the lake as `lake` (at version `snapshot` when given) and USE it."""
    try:
        retry_locked(catalog, lambda: con.execute(catalog.attach_sql(read_only=read_only, snapshot=snapshot)))
    except duckdb.Error as exc:
        text = catalog.redact(one_line(exc))
        if "creating a new DuckLake is explicitly disabled" in text:
            raise WarehouseError(no_warehouse(catalog)) from None
        if "does not match existing data path" in text:
            recorded = re.search(r'existing data path in the catalog "([^"]*)"', text)
            raise WarehouseError(
                f"SURGEWATCH_DATA_PATH is {catalog.data_path} but this warehouse keeps its files elsewhere: "
                f"its catalog says {recorded.group(1) if recorded else 'another folder'}, and {catalog.data_path} "
                "holds no lake; set SURGEWATCH_DATA_PATH to the folder that holds its files now"
            ) from None
        if "No snapshot found" in text:
            raise WarehouseError(f"no version {snapshot} in the warehouse; `surgewatch versions` lists them") from None
        raise WarehouseError(f"cannot open the warehouse at {catalog.display}: {text}") from None
    con.execute(f"USE {ALIAS}")


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file access beyond the lake's data files (so no ATTACH, COPY or reading other
    files) and no configuration changes from here on."""
    # The alias written in, not bound: see migrations.schema_version.
    data_path = scalar(con, f"SELECT data_path FROM ducklake_settings('{ALIAS}')")
    con.execute(f"SET allowed_directories = [{sql_literal(data_path)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, message: str, extra: dict[str, Any]) -> Iterator[int]:
    """One transaction = one DuckLake snapshot. Yields the id that snapshot will get,
    so the run's own row can name it; it is exact because this process holds the
    writer lock, so no other commit can come in between."""
    con.execute("BEGIN")
    try:
        predicted = scalar(con, f"SELECT id FROM {ALIAS}.current_snapshot()") + 1
        yield predicted
        con.execute(
            "CALL ducklake_set_commit_message(?, ?, ?, extra_info => ?)",
            [ALIAS, _AUTHOR, message, json.dumps(extra, sort_keys=True)],
        )
        reach(Step.COMMIT)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # a failed COMMIT has already rolled the transaction back
        raise
    reach(Step.COMMITTED)
    committed = scalar(con, f"SELECT id FROM {ALIAS}.last_committed_snapshot()")
    if committed != predicted:
        log.warning(
            "%s committed as version %s, recorded as %s: a writer bypassed the lock", message, committed, predicted
        )

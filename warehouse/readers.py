"""Reading the warehouse: stored prices, and users' SQL in a locked-down sandbox."""

from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from datetime import date
from typing import Any, TypeVar

import duckdb
import polars as pl

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.core.vocabulary import PRICE_COLUMNS
from surgewatch.warehouse.catalog import Catalog
from surgewatch.warehouse.connection import attach, lock_down, retry_locked
from surgewatch.warehouse.results import result_frame, statement_kind
from surgewatch.warehouse.staging import registered

_READ_STATEMENTS = {duckdb.StatementType.SELECT.name, duckdb.StatementType.EXPLAIN.name}
_T = TypeVar("_T")


class Reader:
    """Reads through the warehouse's own connection; users' SQL goes to sandboxes.

    Loading the extensions costs ~0.25 s per DuckDB, so each sandbox (one per version
    asked for) is kept until `resources` closes; without SNAPSHOT_VERSION it still reads
    the latest version on every query. A read-only warehouse's own connection is locked
    down already and serves as the latest version's sandbox: one DuckDB less per command.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, catalog: Catalog, resources: ExitStack, *, locked_down: bool):
        self.con = con
        self._catalog = catalog
        self._resources = resources
        self._sandboxes: dict[int | None, duckdb.DuckDBPyConnection] = {None: con} if locked_down else {}

    def fetch(self, action: Callable[[], _T]) -> _T:
        """Run a read on the own connection, retried while the catalog is locked."""
        try:
            return retry_locked(self._catalog, action)
        except duckdb.Error as exc:
            raise WarehouseError(f"reading the warehouse failed: {self._catalog.redact(one_line(exc))}") from None

    def read(self, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        return self.fetch(lambda: self.con.execute(query, params or []).pl())

    def rows(self, query: str) -> list[tuple]:
        return self.fetch(lambda: self.con.execute(query).fetchall())

    def read_with(self, keys: pl.DataFrame, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        """Run query with keys visible to it as _sw_keys: a join with a few tickers, not a
        list searched on every row."""

        def read() -> pl.DataFrame:
            with registered(self.con, "_sw_keys", keys):
                return self.con.execute(query, params or []).pl()

        return self.fetch(read)

    def prices(self, tickers: Iterable[str] | None = None, as_of: date | None = None) -> pl.DataFrame:
        """Stored daily prices as the raw frame (ticker, date, open, high, low, close,
        adj_close, volume), sorted; optionally only some tickers and dates <= as_of."""
        columns = ", ".join(f"p.{c}" for c in PRICE_COLUMNS)
        dated = "WHERE (CAST(? AS DATE) IS NULL OR p.date <= ?) ORDER BY p.ticker, p.date"
        if tickers is None:
            return self.read(f"SELECT {columns} FROM prices_daily AS p {dated}", [as_of, as_of])
        keys = pl.DataFrame({"ticker": sorted(set(tickers))}, schema={"ticker": pl.String})
        return self.read_with(
            keys,
            f"SELECT {columns} FROM prices_daily AS p SEMI JOIN _sw_keys AS k ON p.ticker = k.ticker {dated}",
            [as_of, as_of],
        )

    def sql(self, query: str, snapshot: int | None = None, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a user's query read-only, optionally as of version `snapshot`; `params`
        binds the query's `?` placeholders (callers in code: never format values in).

        Only SELECT (incl. SHOW, DESCRIBE, FROM …) and EXPLAIN statements are accepted:
        an ATTACH of the catalog without READ_ONLY would otherwise get past everything
        else, because the catalog's own database library opens that file, not DuckDB. The
        query then runs in a DuckDB of its own with the lake attached READ_ONLY (at
        SNAPSHOT_VERSION when asked; plain table names resolve to the lake), no file
        access beyond the lake's data files, and its configuration locked.
        """
        con = self._sandbox(snapshot)
        try:
            refused = sorted({statement_kind(s) for s in con.extract_statements(query)} - _READ_STATEMENTS)
            if refused:
                raise WarehouseError(
                    f"surgewatch sql only reads the warehouse: {', '.join(refused)} statements are refused"
                )
            result = retry_locked(self._catalog, lambda: con.execute(query, params or []))
            return result_frame(result)
        except duckdb.Error as exc:
            text = self._catalog.redact(one_line(exc))
            if isinstance(exc, duckdb.PermissionException) or "read-only mode" in text:
                raise WarehouseError(f"surgewatch sql only reads the warehouse: {text}") from None
            raise WarehouseError(text) from None

    def _sandbox(self, snapshot: int | None) -> duckdb.DuckDBPyConnection:
        if snapshot not in self._sandboxes:
            con = self._catalog.connect()
            self._resources.callback(con.close)
            attach(con, self._catalog, read_only=True, snapshot=snapshot)
            lock_down(con)
            self._sandboxes[snapshot] = con
        return self._sandboxes[snapshot]

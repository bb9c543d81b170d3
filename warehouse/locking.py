"""The writer lock: two refreshes never write the same warehouse at once.

DuckLake would let two writers race and retry conflicting commits, but a refresh reads
the warehouse (last sessions, overlaps) long before it publishes, and the run's
snapshot id is predicted inside its transaction; both are only sound with one writer.

The lock is an OS file lock (flock) on SURGEWATCH_HOME/refresh.lock, which the kernel
drops when the holder dies, so a crashed refresh never leaves it stuck. A PostgreSQL
catalog can be shared by machines that do not share a home, so there the lock is also a
PostgreSQL advisory lock, held by a transaction that ends with the holder's connection.
The lock is re-entrant within a thread: the flow takes it for the whole refresh and the
writable Warehouse it opens takes it again. Another thread of the same process is a
second writer like any other (flock conflicts between open file descriptions, even
in one process), so two flows run in threads cannot both write.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.core.settings import Settings
from surgewatch.warehouse.catalog import Catalog
from surgewatch.warehouse.extensions import connect, scalar, sql_literal
from surgewatch.warehouse.folders import check_writable


class RefreshInProgress(WarehouseError):
    """Another refresh holds the writer lock of this warehouse."""


_held: dict[tuple[str, int], int] = {}

# A constant, so no value is ever built into the statement sent to PostgreSQL.
_ADVISORY = (
    "SELECT got FROM postgres_query('surgewatch_lock', "
    "'SELECT pg_try_advisory_xact_lock(hashtext(''surgewatch refresh'')) AS got')"
)


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the writer lock of the warehouse named by settings, or raise RefreshInProgress
    at once (never wait: the nightly run would rather report than queue)."""
    home = Path(settings.home).expanduser().resolve()
    path = home / "refresh.lock"
    key = (str(path), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    check_writable(settings)
    catalog = Catalog.from_settings(settings)
    with ExitStack() as stack:
        stack.enter_context(_file_lock(path))
        if catalog.kind == "postgres":
            stack.enter_context(_server_lock(catalog))
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
        os.close(fd)
        raise RefreshInProgress(
            f"another refresh is writing to the warehouse ({holder}); try again when it ends"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def _server_lock(catalog: Catalog) -> Iterator[None]:
    con = connect(("postgres_scanner",))
    try:
        try:
            con.execute(f"ATTACH {sql_literal(catalog.target)} AS surgewatch_lock (TYPE postgres)")
            # postgres_query hands its connection back to the pool after each statement
            # unless a transaction is open, and a session-level lock would then outlive us
            # in the pool; a transaction-level lock inside an open transaction does not.
            con.execute("BEGIN")
            got = scalar(con, _ADVISORY)
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot lock the catalog {catalog.display}: {catalog.redact(one_line(exc))}"
            ) from None
        if not got:
            raise RefreshInProgress(
                f"another refresh is writing to the catalog {catalog.display}; try again when it ends"
            )
        yield
    finally:
        con.close()

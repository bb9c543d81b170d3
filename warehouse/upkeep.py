"""Upkeep: expire versions past the retention, merge small files, delete files no version uses.

DuckLake never deletes anything by itself: every nightly version keeps the files it
replaced, so without upkeep the lake only grows (SPEC §4b: a year of nights must stay
within 1.3× a fresh load). Upkeep uses DuckLake's own functions, in this order:

1. ducklake_expire_snapshots(older_than => now - SURGEWATCH_KEEP_DAYS): versions older
   than the retention stop being queryable (`--snapshot N` on one says so), and the files
   only they used are scheduled for deletion;
2. ducklake_merge_adjacent_files(max_file_size => MERGE_BELOW): each night's few rows per
   table land in a small file of their own; merging them keeps reads fast. Only files
   under MERGE_BELOW are merged, so the first load's large files are never rewritten;
3. ducklake_cleanup_old_files and ducklake_delete_orphaned_files(older_than => now -
   grace): delete the scheduled files, and files in the data path no version knows (a
   crashed refresh's), but only those unused for longer than the grace period: a reader
   that started on the previous latest version may still be scanning a file that a merge
   has just replaced, and must not lose it mid-query. Files inside the grace period wait
   for the next upkeep.

Upkeep writes, so it holds the writer lock (warehouse.locking) like a refresh: it never
runs beside one, and an orphaned-file check never mistakes a running refresh's new
files for orphans. Readers are not blocked: they attach read-only and keep reading.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from surgewatch.core.errors import InputError, WarehouseError, one_line
from surgewatch.core.settings import Settings
from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.connection import attach, no_warehouse
from surgewatch.warehouse.extensions import scalar
from surgewatch.warehouse.locking import writer_lock

MERGE_BELOW = 16 * 1024 * 1024
"""Files smaller than this (bytes) are merged; nightly files are kilobytes, a first load's hundreds of MB."""
GRACE = dt.timedelta(hours=1)
"""How long a replaced file is kept for readers that may still be scanning it."""


@dataclass(frozen=True)
class Reclaimed:
    """What one upkeep did (or, with dry_run, would do)."""

    versions: tuple[int, ...]
    merged: int
    merged_into: int
    files: int
    bytes: int
    waiting: int
    dry_run: bool

    def summary(self) -> str:
        """One line for the terminal and the flow's log."""
        verb = "would reclaim" if self.dry_run else "reclaimed"
        versions = _span(self.versions)
        parts = [
            f"{verb} {self.files} file(s), {self.bytes / 1e6:.1f} MB",
            f"{len(self.versions)} version(s) expired{f' ({versions})' if versions else ''}",
        ]
        if not self.dry_run:
            parts.append(f"{self.merged} small file(s) merged into {self.merged_into}")
        if self.waiting:
            parts.append(f"{self.waiting} replaced file(s) wait for the next upkeep (grace period)")
        return "; ".join(parts)


def _span(versions: tuple[int, ...]) -> str:
    if not versions:
        return ""
    low, high = min(versions), max(versions)
    return str(low) if low == high else f"{low}–{high}"


@contextmanager
def upkeep_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB with the warehouse attached writable as ALIAS, under the writer lock
    (RefreshInProgress at once when a refresh holds it). Never creates a warehouse."""
    catalog = Catalog.from_settings(settings)
    if catalog.is_missing_file():
        raise WarehouseError(no_warehouse(catalog))
    with writer_lock(settings):
        con = catalog.connect()
        try:
            attach(con, catalog, read_only=False)
            yield con
        finally:
            con.close()


def run_upkeep(
    con: duckdb.DuckDBPyConnection,
    *,
    older_than: dt.datetime,
    dry_run: bool = False,
    grace: dt.timedelta = GRACE,
    now: dt.datetime | None = None,
) -> Reclaimed:
    """Expire the versions made before `older_than` (never the latest), merge small
    files, delete files unused for longer than `grace`; on `con` (see upkeep_connection).

    With dry_run nothing changes: the versions that would expire, and the files already
    scheduled for deletion or orphaned that would go, are counted (files that expiring
    would schedule, and merges, are not previewed).
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        expired = con.execute(
            "CALL ducklake_expire_snapshots(?, dry_run => ?, older_than => ?)", [ALIAS, dry_run, older_than]
        ).fetchall()
        merged = (
            []
            if dry_run
            else con.execute(
                "CALL ducklake_merge_adjacent_files(?, max_file_size => ?)", [ALIAS, MERGE_BELOW]
            ).fetchall()
        )
        cutoff = now - grace
        paths = []
        for function in ("ducklake_cleanup_old_files", "ducklake_delete_orphaned_files"):
            # Sizes are read before the files go; the dry run lists exactly what the real call deletes.
            listed = [
                r[0]
                for r in con.execute(
                    f"CALL {function}(?, dry_run => true, older_than => ?)", [ALIAS, cutoff]
                ).fetchall()
            ]
            sizes = sum(_size(path) for path in listed)
            if not dry_run and listed:
                con.execute(f"CALL {function}(?, dry_run => false, older_than => ?)", [ALIAS, cutoff]).fetchall()
            paths.append((len(listed), sizes))
        waiting = scalar(con, f"SELECT count(*) FROM __ducklake_metadata_{ALIAS}.ducklake_files_scheduled_for_deletion")
    except duckdb.Error as exc:
        raise WarehouseError(f"upkeep failed: {one_line(exc)}") from None
    return Reclaimed(
        versions=tuple(sorted(row[0] for row in expired)),
        merged=sum(row[2] for row in merged),
        merged_into=sum(row[3] for row in merged),
        files=sum(n for n, _ in paths),
        bytes=sum(b for _, b in paths),
        waiting=waiting if not dry_run else 0,
        dry_run=dry_run,
    )


def _size(path: str) -> int:
    """A local file's size; 0 for object storage, whose sizes are not fetched one by one."""
    try:
        return Path(path).stat().st_size if "://" not in path else 0
    except OSError:
        return 0


def upkeep(settings: Settings, *, keep_days: int | None = None, dry_run: bool = False) -> Reclaimed:
    """`surgewatch upkeep`: the retention is keep_days (default SURGEWATCH_KEEP_DAYS)."""
    days = settings.keep_days if keep_days is None else keep_days
    if days < 0:
        raise InputError(f"`keep_days` must be >= 0, got {days}")
    now = dt.datetime.now(dt.UTC)
    with upkeep_connection(settings) as con:
        return run_upkeep(con, older_than=now - dt.timedelta(days=days), dry_run=dry_run, now=now)


def expired_version(oldest: int | None, version: int, keep_days: int) -> str | None:
    """The message for `--snapshot N` when N was expired: versions are numbered from 0 and
    only upkeep removes any, so a missing one below the oldest kept was expired."""
    if oldest is None or not 0 <= version < oldest:
        return None
    return (
        f"version {version} was expired by the retention (upkeep removes versions older than "
        f"SURGEWATCH_KEEP_DAYS, now {keep_days} days); the oldest kept is {oldest}"
    )

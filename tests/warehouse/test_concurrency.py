"""Readers are never blocked by a running refresh; two refreshes never write at once."""

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from surgewatch.warehouse import RefreshInProgress, Warehouse
from surgewatch.warehouse.catalog import Catalog
from surgewatch.warehouse.connection import retry_locked

HOLD_WRITE = Path(__file__).with_name("hold_write.py")
HOLD_SECONDS = 1.5


# Readers timed while a writer holds its transaction: one at a time; PostgreSQL is a real server.
pytestmark = pytest.mark.timing


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def any_settings(request, settings):
    return settings if request.param == "sqlite" else request.getfixturevalue("postgres_settings")


def _wait_for(path: Path, writer: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if writer.poll() is not None:
            pytest.fail(f"writer exited early: {writer.stderr.read().decode(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail("writer never reached its open transaction")
        time.sleep(0.02)


def test_readers_are_not_blocked_while_a_refresh_holds_its_transaction(any_settings, build, tmp_path, record_property):
    settings = any_settings
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
        old_total = wh.sql("SELECT sum(close) AS s FROM prices_daily")["s"][0]
    markers = tmp_path / "markers"
    markers.mkdir()
    catalog = [settings.catalog] if settings.catalog else []
    writer = subprocess.Popen(
        [sys.executable, str(HOLD_WRITE), str(settings.home), str(markers), str(HOLD_SECONDS), *catalog],
        stderr=subprocess.PIPE,
    )
    try:
        with Warehouse.open(settings, read_only=True) as reader:
            _wait_for(markers / "writing", writer)
            # What every CLI command does: a fresh DuckDB, attach, read.
            started = time.perf_counter()
            with Warehouse.open(settings, read_only=True) as fresh:
                fresh_total = fresh.sql("SELECT sum(close) AS s FROM prices_daily")["s"][0]
            fresh_open = time.perf_counter() - started
            with pytest.raises(RefreshInProgress, match="another refresh is writing"):
                Warehouse.open(settings)
            during, across = [], []
            # A read that ended before the hold ended was inside the open transaction; one
            # that began before the commit marker but ended after the hold may race the commit.
            while writer.poll() is None:
                committed_before = (markers / "committed").exists()
                t0 = time.perf_counter()
                total = reader.sql("SELECT sum(close) AS s FROM prices_daily")["s"][0]
                reader.prices(["AAA"])
                elapsed = time.perf_counter() - t0
                if not (markers / "releasing").exists():
                    during.append((elapsed, total))
                elif not committed_before:
                    across.append((elapsed, total))
            assert writer.wait() == 0, writer.stderr.read().decode(errors="replace")
            new_total = reader.sql("SELECT sum(close) AS s FROM prices_daily")["s"][0]
    finally:
        if writer.poll() is None:
            writer.kill()

    latencies = sorted(e for e, _ in during)
    record_property("fresh_open_s", round(fresh_open, 3))
    record_property("reads_during_write", len(during))
    record_property("max_read_during_write_s", round(latencies[-1], 3))
    print(
        f"\n{settings.catalog_uri.split(':')[0]}: fresh open+read {fresh_open:.3f}s; {len(during)} reads during the "
        f"open write transaction, median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; reads spanning the commit: {[round(e, 3) for e, _ in across]}"
    )
    assert fresh_total == old_total
    assert len(during) >= 5
    assert {total for _, total in during} == {old_total}, "a reader saw uncommitted writes"
    assert latencies[-1] < 1.0
    # SQLite can pause a reader that races the commit itself for ~1 s (its WAL retry
    # sleeps whole seconds in the sqlite_scanner build); it must never fail or queue.
    assert all(elapsed < 2.5 for elapsed, _ in across)
    assert new_total == old_total + build.prices().height


def test_writer_lock_is_exclusive_across_processes_and_reentrant_within_one(settings, build):
    lock_file = settings.home / "refresh.lock"
    settings.home.mkdir(parents=True)
    # Another process's lock: flock locks belong to an open file description, so a
    # second descriptor conflicts even inside this process.
    other = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    os.write(other, b"pid 4242 since earlier")
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        with pytest.raises(
            RefreshInProgress, match=r"another refresh is writing to the warehouse \(pid 4242 since earlier\)"
        ):
            Warehouse.open(settings)
        with pytest.raises(RefreshInProgress):
            with Warehouse.writer_lock(settings):
                pass
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)

    with Warehouse.writer_lock(settings):
        with Warehouse.open(settings) as wh:
            build.publish(wh, build.run("run-1"))
        with Warehouse.open(settings, read_only=True) as reader:
            assert reader.sql("SELECT count(*) AS n FROM runs")["n"][0] == 1
        assert f"pid {os.getpid()}" in lock_file.read_text()
    Warehouse.open(settings).close()  # released


def test_reads_retry_while_a_sqlite_catalog_is_locked(settings, monkeypatch):
    sleeps = []
    monkeypatch.setattr("surgewatch.warehouse.connection.time.sleep", sleeps.append)
    answers = iter([duckdb.IOException("database is locked"), duckdb.IOException("database is locked"), 42])

    def read():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    catalog = Catalog.from_settings(settings)
    assert retry_locked(catalog, read) == 42
    assert sleeps == [0.05, 0.1]

    def broken():
        raise duckdb.CatalogException("no such table")

    with pytest.raises(duckdb.CatalogException):
        retry_locked(catalog, broken)
    assert len(sleeps) == 2

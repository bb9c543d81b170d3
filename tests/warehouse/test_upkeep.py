"""Upkeep: versions past the retention expire, small files merge, unused files go, and
readers querying meanwhile see nothing but the latest version."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from surgewatch.cli import main as cli_main
from surgewatch.core.errors import InputError, SettingsError, WarehouseError
from surgewatch.core.settings import load_settings
from surgewatch.warehouse import RefreshInProgress, Warehouse
from surgewatch.warehouse.upkeep import run_upkeep, upkeep, upkeep_connection
from tests.factories import another_refresh_writing

NO_GRACE = dt.timedelta(0)
# Enough rows per publish that DuckLake writes Parquet files instead of inlining them
# into the catalog.
SESSIONS = [dt.date(2025, 1, 1) + dt.timedelta(days=d) for d in range(60)]


def _publish(wh, build, run_id: str, close_shift: float = 0.0, sessions=SESSIONS) -> int:
    prices = build.prices(sessions=sessions).with_columns(
        *(pl.col(c) + close_shift for c in ("open", "high", "low", "close", "adj_close"))
    )
    return build.publish(wh, build.run(run_id), prices=prices)


def _lake_files(settings) -> dict[Path, int]:
    return {p: p.stat().st_size for p in Path(settings.lake_path).rglob("*") if p.is_file()}


def _versions(wh) -> list[int]:
    return wh.versions()["version"].to_list()


def test_expires_versions_before_the_retention_and_deletes_the_files_only_they_used(settings, build):
    with Warehouse.open(settings) as wh:
        _publish(wh, build, "run-1")
        second = _publish(wh, build, "run-2", close_shift=1.0)
        third = _publish(wh, build, "run-3", close_shift=2.0)  # replaces every price row again
        keep_from = wh.versions().filter(pl.col("version") == third)["time"][0]
        latest = wh.sql("SELECT sum(close) AS s, count(*) AS n FROM prices_daily").row(0)
    before = _lake_files(settings)

    with upkeep_connection(settings) as con:
        reclaimed = run_upkeep(con, older_than=keep_from, grace=NO_GRACE)

    after = _lake_files(settings)
    assert set(reclaimed.versions) == set(range(third))  # migrations and runs 1-2; never the latest
    gone = set(before) - set(after)
    assert gone and reclaimed.files == len(gone)
    assert reclaimed.bytes == sum(before[p] for p in gone)
    with Warehouse.open(settings, read_only=True) as wh:
        assert _versions(wh) == [third]
        assert wh.sql("SELECT sum(close) AS s, count(*) AS n FROM prices_daily").row(0) == latest
        with pytest.raises(WarehouseError, match=f"no version {second}"):
            wh.sql("SELECT 1", snapshot=second)
    line = reclaimed.summary()
    assert line.startswith(f"reclaimed {len(gone)} file(s)") and f"{third} version(s) expired (0–{third - 1})" in line


def test_dry_run_says_what_would_go_and_changes_nothing(settings, build):
    with Warehouse.open(settings) as wh:
        _publish(wh, build, "run-1")
        _publish(wh, build, "run-2", close_shift=1.0)
        versions = _versions(wh)
    before = _lake_files(settings)
    with upkeep_connection(settings) as con:
        reclaimed = run_upkeep(con, older_than=dt.datetime.now(dt.UTC), dry_run=True, grace=NO_GRACE)
    assert reclaimed.versions == tuple(versions[:-1]) and reclaimed.dry_run
    assert reclaimed.summary().startswith("would reclaim")
    assert _lake_files(settings) == before
    with Warehouse.open(settings, read_only=True) as wh:
        assert _versions(wh) == versions


def test_merges_the_small_files_of_nights_that_only_add_rows(settings, build):
    with Warehouse.open(settings) as wh:
        for night in range(4):  # each night adds ten new sessions: one more small file each
            _publish(wh, build, f"run-{night}", sessions=SESSIONS[: 20 + 10 * night])
        expected = wh.sql("SELECT ticker, date, close FROM prices_daily ORDER BY ALL")
        old = _versions(wh)[-3]
    with upkeep_connection(settings) as con:
        reclaimed = run_upkeep(con, older_than=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), grace=NO_GRACE)
        active = con.execute(
            "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file f JOIN __ducklake_metadata_lake.ducklake_table t "
            "USING (table_id) WHERE t.table_name = 'prices_daily' AND f.end_snapshot IS NULL"
        ).fetchone()[0]
    assert reclaimed.versions == ()  # nothing is older than the year 2000
    assert reclaimed.merged > reclaimed.merged_into >= 1
    assert active < reclaimed.merged
    with Warehouse.open(settings, read_only=True) as wh:
        assert wh.sql("SELECT ticker, date, close FROM prices_daily ORDER BY ALL").equals(expected)
        # Merging keeps time travel: an older version still reads its own rows.
        assert wh.sql("SELECT count(*) AS n FROM prices_daily", snapshot=old)["n"][0] == 2 * 30


def test_orphaned_files_go_only_after_the_grace_period(settings, build):
    with Warehouse.open(settings) as wh:
        _publish(wh, build, "run-1")
    lake = Path(settings.lake_path)
    stale, fresh = lake / "crashed-refresh.parquet", lake / "being-written.parquet"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 10)
    two_hours_ago = time.time() - 2 * 3600
    os.utime(stale, (two_hours_ago, two_hours_ago))
    with upkeep_connection(settings) as con:
        reclaimed = run_upkeep(con, older_than=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))  # default grace: 1 h
    assert not stale.exists() and fresh.exists()
    assert (reclaimed.files, reclaimed.bytes) == (1, 1000)


def test_readers_querying_during_upkeep_see_the_latest_version_without_errors(settings, build, tmp_path):
    with Warehouse.open(settings) as wh:
        for night in range(5):
            _publish(wh, build, f"run-{night}", close_shift=float(night), sessions=SESSIONS[: 20 + 5 * night])
        expected = wh.sql("SELECT count(*) AS prices, count(DISTINCT run_id) AS runs FROM prices_daily").row(
            0, named=True
        )
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.reader", str(settings.home), str(out), str(stop), "120"],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.read_text().count("\n") >= 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(3):  # expire, merge and clean up while the reader reads
            upkeep(settings, keep_days=0)
        reads_during = out.read_text().count("\n")
        while out.read_text().count("\n") < reads_during + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) >= 4
    assert [line for line in lines if not line["ok"]] == []
    assert {line["prices"] for line in lines} == {expected["prices"]}
    assert {line["runs"] for line in lines} == {5}


def test_upkeep_beside_a_running_refresh_refuses_at_once(settings, build):
    with Warehouse.open(settings) as wh:
        _publish(wh, build, "run-1")
    with another_refresh_writing(settings):
        with pytest.raises(RefreshInProgress, match="another refresh is writing"):
            upkeep(settings, keep_days=0)


def test_no_warehouse_and_bad_retention_are_one_line_errors(settings, monkeypatch):
    with pytest.raises(WarehouseError, match="no warehouse at .* run `surgewatch refresh` first"):
        upkeep(settings)
    with pytest.raises(InputError, match="`keep_days` must be >= 0, got -1"):
        upkeep(settings, keep_days=-1)
    monkeypatch.setenv("SURGEWATCH_KEEP_DAYS", "-3")
    with pytest.raises(SettingsError, match="SURGEWATCH_KEEP_DAYS"):
        load_settings()


def test_cli_upkeep_then_an_expired_snapshot_says_the_retention_removed_it(
    settings, build, monkeypatch, tmp_path, capsys
):
    with Warehouse.open(settings) as wh:
        first = _publish(wh, build, "run-1")
        _publish(wh, build, "run-2", close_shift=1.0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURGEWATCH_HOME", str(settings.home))
    monkeypatch.setenv("SURGEWATCH_KEEP_DAYS", "30")

    assert cli_main(["upkeep", "--dry-run"]) == 0  # nothing is 30 days old
    assert capsys.readouterr().out.startswith("would reclaim 0 file(s), 0.0 MB; 0 version(s) expired")
    assert cli_main(["upkeep", "--keep-days", "0"]) == 0
    assert f"{first + 1} version(s) expired (0–{first})" in capsys.readouterr().out

    assert cli_main(["sql", "SELECT 1", "--snapshot", str(first)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: version {first} was expired by the retention (upkeep removes versions older than "
        f"SURGEWATCH_KEEP_DAYS, now 30 days); the oldest kept is {first + 1}"
    )
    assert cli_main(["sql", "SELECT 1", "--snapshot", "999"]) == 2
    assert "no version 999 in the warehouse" in capsys.readouterr().err

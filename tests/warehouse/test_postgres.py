"""The same warehouse on a PostgreSQL catalog (SURGEWATCH_CATALOG=postgres:…), against a
real server started by the postgres_server fixture."""

import polars as pl
import pytest

from surgewatch.core.errors import WarehouseError
from surgewatch.core.settings import load_settings
from surgewatch.warehouse import RefreshInProgress, Warehouse


def test_publish_and_read_cycle_on_a_postgres_catalog(postgres_settings, build, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SURGEWATCH_HOME", str(postgres_settings.home))
    monkeypatch.setenv("SURGEWATCH_CATALOG", postgres_settings.catalog)
    monkeypatch.delenv("SURGEWATCH_DATA_PATH", raising=False)
    settings = load_settings()
    assert settings.catalog_uri.startswith("postgres:host=127.0.0.1")
    with pytest.raises(WarehouseError, match="no warehouse at postgres:.*; run `surgewatch refresh` first"):
        Warehouse.open(settings, read_only=True)

    with Warehouse.open(settings) as wh:
        first = build.publish(wh, build.run("run-1"))
        day = build.sessions[-1]
        second = build.publish(wh, build.run("run-2"), prices=build.prices(bump={("AAA", day): 150.0}))
        failed = wh.record_run(build.run("run-3", status="failed", message="validation failed"))
        assert (first, second, failed) == (first, first + 1, first + 2)

    with Warehouse.open(settings, read_only=True) as wh:
        versions = wh.versions().filter(pl.col("version") >= first)
        assert versions["run_id"].to_list() == ["run-1", "run-2", "run-3"]
        assert "prices_daily" in versions["changes"][0]
        assert versions["changes"][2] == "inserted: runs"
        last = wh.sql("SELECT ticker, max(date) AS last FROM prices_daily GROUP BY ticker ORDER BY ticker")
        assert last.rows() == [("AAA", day), ("BBB", day)]
        assert wh.prices(["AAA"]).filter(pl.col("date") == day)["close"].to_list() == [150.0]
        then = wh.sql(
            "SELECT close FROM prices_daily WHERE ticker = 'AAA' AND date = DATE '2026-01-09'", snapshot=first
        )
        assert then["close"].to_list() == [105.0]
        diff = wh.diff(first, second)
        assert diff["table"].unique().to_list() == ["prices_daily"]
        assert sorted(diff["change"]) == ["added", "removed"]
        assert wh.sql("SELECT run_id, status, snapshot_id FROM runs ORDER BY run_id").rows() == [
            ("run-1", "published", first),
            ("run-2", "published", second),
            ("run-3", "failed", failed),
        ]
        with pytest.raises(WarehouseError, match="only reads the warehouse"):
            wh.sql("DELETE FROM prices_daily")
        with pytest.raises(WarehouseError, match="cannot execute DELETE in a read-only transaction"):
            wh.sql("SELECT * FROM postgres_execute('__ducklake_metadata_lake', 'DELETE FROM ducklake_snapshot')")
        assert wh.versions().height == versions.height + first


def test_two_homes_sharing_a_postgres_catalog_never_write_together(postgres_settings, build, tmp_path):
    settings = postgres_settings
    elsewhere = build.settings(tmp_path / "other-machine", catalog=settings.catalog)
    with Warehouse.writer_lock(settings):
        with pytest.raises(RefreshInProgress, match="another refresh is writing to the catalog postgres:"):
            Warehouse.open(elsewhere)
    with Warehouse.open(elsewhere) as wh:  # released with the lock's transaction
        assert wh.schema_version() >= 1

"""Opening: creation, migrations, read-only refusals, the SQL sandbox and the shell."""

import shutil
import sqlite3
import os
import subprocess

import polars as pl
import pytest

from surgewatch.core.errors import WarehouseError
from surgewatch.warehouse import MIGRATIONS, Migration, Warehouse
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import Catalog
from tests.conftest import read_only_folder


def test_read_only_open_of_a_missing_warehouse_says_run_refresh(settings):
    with pytest.raises(
        WarehouseError, match=r"no warehouse at sqlite:.*catalog\.sqlite; run `surgewatch refresh` first"
    ):
        Warehouse.open(settings, read_only=True)
    assert not (settings.home / "catalog.sqlite").exists()


def test_writable_open_creates_home_catalog_and_tables(settings):
    with Warehouse.open(settings) as wh:
        assert wh.schema_version() == MIGRATIONS[-1].version
        tables = set(wh.sql("SHOW TABLES")["name"])
    assert {
        "prices_daily",
        "month_end",
        "signal_events",
        "signal_summary",
        "runs",
        "alerts",
        "schema_version",
    } <= tables
    assert (settings.home / "lake").is_dir()
    with sqlite3.connect(settings.home / "catalog.sqlite") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_older_catalog_in_rollback_journal_mode_is_switched_to_wal(settings):
    Warehouse.open(settings).close()
    with sqlite3.connect(settings.home / "catalog.sqlite") as con:
        con.execute("PRAGMA journal_mode=DELETE")
    Warehouse.open(settings).close()
    with sqlite3.connect(settings.home / "catalog.sqlite") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migration_upgrades_an_older_warehouse_keeping_its_data(settings, build, monkeypatch):
    with Warehouse.open(settings) as wh:
        first = build.publish(wh, build.run("run-1"))

    head = MIGRATIONS[-1].version
    added = Migration(head + 1, "event notes", ("ALTER TABLE signal_events ADD COLUMN note VARCHAR",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, added))

    with pytest.raises(
        WarehouseError, match=f"schema version {head}, this surgewatch expects {head + 1}; run `surgewatch refresh`"
    ):
        Warehouse.open(settings, read_only=True)

    with Warehouse.open(settings) as wh:
        assert wh.schema_version() == head + 1 and wh.migrated == {head + 1: first + 1}
        assert wh.versions()["message"][-1] == f"migration {head + 1}: event notes"
        kept = wh.sql("SELECT ticker, move, note, run_id FROM signal_events ORDER BY ticker")
        assert kept.rows() == [("AAA", 0.12, None, "run-1"), ("BBB", 0.12, None, "run-1")]
        results = build.results(tickers=("AAA",))
        results["events"] = results["events"].with_columns(note=pl.lit("new column is written"))
        build.publish(wh, build.run("run-2"), results=results)
        assert wh.sql("SELECT note FROM signal_events WHERE ticker = 'AAA'")["note"].to_list() == [
            "new column is written"
        ]
        # The version before the migration still reads with its old columns.
        assert "note" not in wh.sql("SELECT * FROM signal_events", snapshot=first).columns

    monkeypatch.setattr(schema, "MIGRATIONS", MIGRATIONS)
    with pytest.raises(WarehouseError, match="newer than this surgewatch knows"):
        Warehouse.open(settings)


@pytest.fixture(scope="module")
def published(tmp_path_factory, build):
    """One published run, opened read-only, shared by the tests that only read."""
    settings = build.settings(tmp_path_factory.mktemp("published") / "home")
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
    with Warehouse.open(settings, read_only=True) as wh:
        yield settings, wh


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO runs (run_id, status) VALUES ('x', 'failed')",
        "DROP TABLE prices_daily",
        "DELETE FROM __ducklake_metadata_lake.ducklake_snapshot",
        "CREATE TABLE lake.main.extra (a INTEGER)",
        "ATTACH 'ducklake:sqlite:{catalog}' AS rw",
        "COPY (SELECT 1) TO '{home}/out.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SET enable_external_access = true",
        # Extensions load unsigned (warehouse.extensions): a reader loads none.
        "LOAD '{home}/evil.duckdb_extension'",
        "SET allow_unsigned_extensions = false",
        "CREATE TEMP TABLE scratch AS SELECT 1",
        "SELECT 1; DETACH lake",
        "SELECT * FROM sqlite_query('__ducklake_metadata_lake', 'DELETE FROM ducklake_snapshot RETURNING snapshot_id')",
        "SELECT * FROM ducklake_expire_snapshots('lake', versions => [1])",
    ],
)
def test_sql_is_read_only(published, statement):
    settings, wh = published
    with pytest.raises(WarehouseError) as error:
        wh.sql(statement.format(catalog=settings.home / "catalog.sqlite", home=settings.home))
    assert "read-only" in str(error.value) or "readonly" in str(error.value) or "only reads" in str(error.value)
    assert wh.sql("SELECT count(*) AS n FROM prices_daily")["n"][0] == 12
    assert wh.versions()["version"].max() == len(MIGRATIONS) + 1  # one per migration, then the run
    assert not (settings.home / "out.csv").exists()


def test_unknown_versions_and_bad_sql_are_clear_errors(settings):
    with Warehouse.open(settings) as wh:
        with pytest.raises(WarehouseError, match="no version 999 in the warehouse; `surgewatch versions` lists them"):
            wh.sql("SELECT 1", snapshot=999)
        with pytest.raises(WarehouseError, match="no version 999"):
            wh.diff(0, 999)
        with pytest.raises(WarehouseError, match="Catalog Error"):
            wh.sql("SELECT * FROM no_such_table")
        assert wh.sql("SHOW TABLES").height >= 7
        assert wh.sql("EXPLAIN SELECT 1").height == 1


def test_a_different_data_path_for_an_existing_warehouse_is_refused(settings, build, tmp_path):
    Warehouse.open(settings).close()
    moved = build.settings(settings.home).model_copy(update={"data_path": str(tmp_path / "elsewhere")})
    with pytest.raises(
        WarehouseError, match="SURGEWATCH_DATA_PATH is .*elsewhere/ but this warehouse keeps its files elsewhere"
    ):
        Warehouse.open(moved)
    with Warehouse.open(moved, read_only=True) as wh:  # readers use the stored path
        assert wh.sql("SELECT count(*) AS n FROM runs")["n"][0] == 0


def test_a_warehouse_in_a_read_only_folder_can_still_be_read(settings, build):
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
    with read_only_folder(settings.home):
        # What sql, versions, study and report read, through the same methods they use.
        with Warehouse.open(settings, read_only=True) as wh:
            assert wh.sql("SELECT count(*) AS n FROM runs")["n"][0] == 1
            assert wh.sql("SELECT count(*) AS n FROM signal_events", snapshot=2)["n"][0] == 0
            assert wh.versions()["run_id"].to_list()[-1] == "run-1"
            assert wh.prices(["AAA"]).height == len(build.sessions)
        with pytest.raises(WarehouseError, match=r"SURGEWATCH_HOME .*home is not a folder surgewatch can write: "):
            Warehouse.open(settings)
        assert sorted(p.name for p in settings.home.iterdir()) == ["catalog.sqlite", "lake", "refresh.lock"]


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_home_moved_or_copied_opens_from_its_new_place_with_its_own_files(how, build, tmp_path):
    old, new = build.settings(tmp_path / "old"), build.settings(tmp_path / "new")
    with Warehouse.open(old) as wh:
        build.publish(wh, build.run("run-1"))
    (shutil.move if how == "moved" else shutil.copytree)(old.home, new.home)
    if how == "copied":
        shutil.rmtree(old.home / "lake")  # so reading the old place's files would fail
    with Warehouse.open(new, read_only=True) as wh:
        assert wh.prices(["AAA"]).height == len(build.sessions)  # reads the Parquet files
    with Warehouse.open(new) as wh:
        bumped = build.prices(bump={("AAA", build.sessions[-1]): 999.0})
        build.publish(wh, build.run("run-2"), prices=bumped, replace=["AAA"])
    with Warehouse.open(new, read_only=True) as wh:
        assert wh.sql("SELECT count(*) AS n FROM runs")["n"][0] == 2
        assert wh.prices(["AAA"])["close"].max() == 999.0
        assert wh.sql("SELECT data_path FROM ducklake_settings('lake')")["data_path"][0] == f"{new.home / 'lake'}/"


def test_a_postgres_password_never_reaches_a_message(build, tmp_path):
    settings = build.settings(
        tmp_path, catalog="postgres:host=127.0.0.1 port=1 dbname=x password=s3cret connect_timeout=2"
    )
    assert "s3cret" not in Catalog.from_settings(settings).display
    with pytest.raises(WarehouseError) as error:
        Warehouse.open(settings, read_only=True)
    assert "cannot open the warehouse" in str(error.value)
    assert "s3cret" not in str(error.value)


def test_shell_command_starts_the_duckdb_cli_on_the_warehouse(settings, build):
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
    with Warehouse.open(settings, read_only=True) as wh:
        argv = wh.shell_command()
    init_fd = int(argv[argv.index("-init") + 1].rsplit("/", 1)[1])  # the pipe os.execv hands over
    try:
        shell = subprocess.run(
            [*argv, "-batch", "-csv", "-noheader"],
            input="SELECT count(*) FROM signal_events;\nINSERT INTO runs (run_id, status) VALUES ('x', 'failed');\n",
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=(init_fd,),
        )
    finally:
        os.close(init_fd)
    assert shell.stdout.strip() == "2"
    assert "read-only" in shell.stderr

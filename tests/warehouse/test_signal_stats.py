"""The signal_stats table (SPEC §2b, §4 Warehouse): its migration, and its rows published
with the study's other results in the run's one snapshot."""

import polars as pl
import pytest

from surgewatch.core.errors import WarehouseError
from surgewatch.warehouse import MIGRATIONS, Warehouse
from surgewatch.warehouse import schema

STATS_MIGRATION = next(m for m in MIGRATIONS if any("CREATE TABLE signal_stats" in s for s in m.statements))


def make_stats(tickers=("AAA", "BBB"), excess: float = 0.02) -> pl.DataFrame:
    """Rows shaped like transforms.signal_stats (UInt32 counts), plus B and the seed."""
    rows = [
        (
            t,
            h,
            14,
            9,
            0.15,
            excess,
            0.08,
            0.27,
            0.031,
            0.95,
            3_226,
            -0.03,
            0.05,
            0.4,
            1.6,
            0.13,
            "suggestive, not proven (better)",
            10_000,
            0,
        )
        for t in tickers
        for h in (1, 12)
    ]
    columns = [
        "ticker",
        "horizon",
        "n",
        "n_independent",
        "average_independent",
        "excess",
        "ci_low",
        "ci_high",
        "placebo_p",
        "placebo_percentile",
        "placebo_draws",
        "chance_low",
        "chance_high",
        "win_p",
        "t_hac",
        "q_value",
        "verdict",
        "resamples",
        "seed",
    ]
    return pl.DataFrame(rows, schema=columns, orient="row").with_columns(
        pl.col("n", "n_independent", "placebo_draws").cast(pl.UInt32), pl.col("horizon").cast(pl.Int64)
    )


def results_with_stats(build, tickers=("AAA", "BBB"), excess: float = 0.02) -> dict:
    return {**build.results(tickers=tickers), "stats": make_stats(tickers, excess)}


def test_stats_are_published_in_the_runs_snapshot_with_its_lineage(settings, build):
    with Warehouse.open(settings) as wh:
        first = build.publish(wh, build.run("run-1"), results=results_with_stats(build))
        stored = wh.sql("SELECT * FROM signal_stats ORDER BY ticker, horizon")
        assert stored.height == 4
        assert stored.row(0, named=True) == {
            "ticker": "AAA",
            "horizon": 1,
            "n": 14,
            "n_independent": 9,
            "average_independent": 0.15,
            "excess": 0.02,
            "ci_low": 0.08,
            "ci_high": 0.27,
            "placebo_p": 0.031,
            "placebo_percentile": 0.95,
            "win_p": 0.4,
            "t_hac": 1.6,
            "q_value": 0.13,
            "resamples": 10_000,
            "placebo_draws": 3_226,
            "chance_low": -0.03,
            "chance_high": 0.05,
            "verdict": "suggestive, not proven (better)",
            "seed": 0,
            "threshold": 0.10,
            "direction": "up",
            "basis": "price",
            "run_id": "run-1",
        }
        # One version holds the study and its figures; the version before has neither.
        snapshot_run = wh.sql("SELECT run_id FROM runs")["run_id"].to_list()
        assert snapshot_run == ["run-1"] and wh.versions()["run_id"][-1] == "run-1"
        assert wh.sql("SELECT count(*) AS n FROM signal_stats", snapshot=first - 1)["n"].item() == 0

        # A later run that restudies AAA only: AAA's rows replaced, BBB's kept.
        second = build.publish(wh, build.run("run-2"), results=results_with_stats(build, ("AAA",), excess=0.05))
        now = wh.sql("SELECT ticker, excess, run_id FROM signal_stats ORDER BY ticker, horizon")
        assert now.rows() == [
            ("AAA", 0.05, "run-2"),
            ("AAA", 0.05, "run-2"),
            ("BBB", 0.02, "run-1"),
            ("BBB", 0.02, "run-1"),
        ]
        # diff and history see the table, keyed by (ticker, horizon).
        changes = wh.diff(first, second).filter(pl.col("table") == "signal_stats")
        assert sorted(changes.select("change", "ticker").rows()) == [("added", "AAA")] * 2 + [("removed", "AAA")] * 2
        assert "signal_stats" in wh.versions()["changes"][-1]


def test_a_study_published_without_stats_leaves_no_stale_figures(settings, build):
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"), results=results_with_stats(build))
        build.publish(wh, build.run("run-2"), results=build.results(tickers=("AAA",)))
        assert wh.sql("SELECT DISTINCT ticker FROM signal_stats")["ticker"].to_list() == ["BBB"]


def test_a_duplicated_ticker_horizon_is_refused_and_nothing_is_written(settings, build):
    with Warehouse.open(settings) as wh:
        results = results_with_stats(build)
        results["stats"] = pl.concat([results["stats"], results["stats"].head(1)])
        with pytest.raises(WarehouseError, match=r"signal_stats: 2 rows share a key \(ticker, horizon\)"):
            build.publish(wh, build.run("run-1"), results=results)
        assert wh.sql("SELECT count(*) AS n FROM runs")["n"].item() == 0


def test_a_warehouse_made_before_the_migration_gains_the_table(settings, build, monkeypatch):
    """A warehouse at the schema before signal_stats (with a run in it) is upgraded by
    the next writer: the table appears, empty, the old data stays, and then takes rows."""
    older = MIGRATIONS[: MIGRATIONS.index(STATS_MIGRATION)]
    monkeypatch.setattr(schema, "MIGRATIONS", older)
    with Warehouse.open(settings) as wh:
        with wh.write(build.run("run-1")) as tx:
            tx.prices(build.prices())
        before = tx.snapshot
        assert wh.schema_version() == older[-1].version
        assert "signal_stats" not in set(wh.sql("SHOW TABLES")["name"])
    monkeypatch.setattr(schema, "MIGRATIONS", MIGRATIONS)

    with pytest.raises(WarehouseError, match="run `surgewatch refresh` to upgrade it"):
        Warehouse.open(settings, read_only=True)
    with Warehouse.open(settings) as wh:
        assert wh.schema_version() == MIGRATIONS[-1].version
        assert f"migration {STATS_MIGRATION.version}: {STATS_MIGRATION.name}" in wh.versions()["message"].to_list()
        assert wh.sql("SELECT count(*) AS n FROM signal_stats")["n"].item() == 0
        assert wh.sql("SELECT count(*) AS n FROM prices_daily")["n"].item() == 12
        build.publish(wh, build.run("run-2"), results=results_with_stats(build))
        assert wh.sql("SELECT count(*) AS n FROM signal_stats")["n"].item() == 4
        # The versions before the migration still read, and diff across it works.
        assert wh.sql("SELECT count(*) AS n FROM prices_daily", snapshot=before)["n"].item() == 12
        latest = wh.versions()["version"].max()
        added = wh.diff(before, latest).filter(pl.col("table") == "signal_stats")
        assert added.height == 4 and set(added["change"]) == {"added"}
    with Warehouse.open(settings, read_only=True) as wh:
        assert wh.sql("SELECT count(*) AS n FROM signal_stats")["n"].item() == 4

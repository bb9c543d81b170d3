"""A version holds only what changed (SPEC §4 Warehouse): rows are written when a value
other than lineage differs, deleted when their key is gone, and left alone otherwise."""

import dataclasses
import random
from datetime import date, datetime, timezone

import polars as pl

from surgewatch.warehouse import Warehouse
from surgewatch.warehouse.schema import LINEAGE, RESULT_TABLES

MONTHS = [date(2025, m, 1) for m in (10, 11, 12)]


def written(wh, version: int) -> dict[str, dict[str, int]]:
    """Per result table, the rows DuckLake's change feed says `version` inserted / deleted."""
    out = {}
    for table in RESULT_TABLES:
        counts = wh.sql(
            "SELECT change_type, count(*) AS n FROM ducklake_table_changes('lake', 'main', ?, ?, ?) GROUP BY ALL",
            params=[table, version, version],
        )
        if counts.height:
            out[table] = dict(counts.iter_rows())
    return out


def stored_values(wh) -> dict[str, pl.DataFrame]:
    """Every result table without its lineage columns, in a fixed order."""
    out = {}
    for table in RESULT_TABLES:
        columns = [c for c in wh.sql(f"SELECT * FROM {table} LIMIT 0").columns if c not in LINEAGE]
        out[table] = wh.sql(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL")
    return out


def test_republishing_the_same_values_writes_nothing_but_the_run_row(settings, build):
    alert = pl.DataFrame({"ticker": ["AAA"], "month": [date(2026, 1, 1)], "kind": ["provisional"], "move": [0.11]})
    with Warehouse.open(settings) as wh:
        first = build.publish(wh, build.run("run-1"), alerts=alert)
        # Only lineage differs: another run, source and fetch time, alert created_run.
        later = dataclasses.replace(
            build.run("run-2"), source="tiingo", started_at=datetime(2026, 1, 10, 22, 0, tzinfo=timezone.utc)
        )
        second = build.publish(wh, later, alerts=alert.with_columns(created_run=pl.lit("run-2")))

        assert written(wh, second) == {}
        assert wh.versions().filter(pl.col("version") == second)["changes"][0] == "inserted: runs"
        assert wh.diff(first, second).is_empty()
        for table in ("prices_daily", "month_end", "signal_events", "signal_summary"):
            assert wh.sql(f"SELECT DISTINCT run_id FROM {table}")["run_id"].to_list() == ["run-1"], table
        assert wh.sql("SELECT created_run FROM alerts").rows() == [("run-1",)]


def test_a_changed_event_writes_exactly_that_row(settings, build):
    results = build.results()
    results["events"] = results["events"].with_columns(
        move=pl.when(pl.col("ticker") == "AAA").then(0.2).otherwise(pl.col("move"))
    )
    with Warehouse.open(settings) as wh:
        first = build.publish(wh, build.run("run-1"))
        second = build.publish(wh, build.run("run-2"), results=results)

        assert written(wh, second) == {"signal_events": {"insert": 1, "delete": 1}}
        events = wh.sql("SELECT ticker, move, run_id FROM signal_events ORDER BY ticker")
        assert events.rows() == [("AAA", 0.2, "run-2"), ("BBB", 0.12, "run-1")]
        assert wh.diff(first, second).select("table", "change", "ticker").sort("change").rows() == [
            ("signal_events", "added", "AAA"),
            ("signal_events", "removed", "AAA"),
        ]


def test_a_key_gone_from_a_present_ticker_is_deleted_and_absent_tickers_keep_theirs(settings, build):
    with Warehouse.open(settings) as wh:
        build.publish(wh, build.run("run-1"))
        results = build.results()
        results["events"] = results["events"].filter(pl.col("ticker") == "BBB")
        results["summary"] = results["summary"].filter(pl.col("horizon") == 1)
        second = build.publish(wh, build.run("run-2"), results=results)
        assert written(wh, second) == {"signal_events": {"delete": 1}, "signal_summary": {"delete": 2}}
        assert wh.sql("SELECT ticker FROM signal_events").rows() == [("BBB",)]

        # CCC is in none of the frames (it failed this run): its rows stay.
        third = build.publish(wh, build.run("run-3"), results=build.results(tickers=("CCC",)))
        assert written(wh, third) == {
            "month_end": {"insert": 1},
            "signal_events": {"insert": 1},
            "signal_summary": {"insert": 4},
        }
        assert wh.sql("SELECT ticker FROM signal_events ORDER BY ticker").rows() == [("BBB",), ("CCC",)]


def _night(rng: random.Random, tickers: list[str]) -> dict[str, pl.DataFrame]:
    """Results for `tickers` drawn from few values, so that many rows repeat between nights
    (NULL ones too), some change and some keys come and go."""
    month_end = pl.DataFrame(
        [
            {"ticker": t, "month": m, "close": rng.choice([100.0, 105.0]), "move": rng.choice([0.05, 0.12, None])}
            for t in tickers
            for m in MONTHS
            if rng.random() < 0.8
        ],
        schema={"ticker": pl.String, "month": pl.Date, "close": pl.Float64, "move": pl.Float64},
    )
    summary = pl.DataFrame(
        [{"ticker": t, "horizon": h, "n": rng.choice([0, 1])} for t in tickers for h in (1, 3) if rng.random() < 0.8],
        schema={"ticker": pl.String, "horizon": pl.Int32, "n": pl.Int32},
    )
    return {
        "month_end": month_end,
        "events": month_end.filter(pl.col("move") > 0.1),
        "summary": summary,
        "baseline": summary.filter(pl.col("n") == 1),
    }


def test_a_sequence_of_nights_ends_equal_to_a_full_republish_writing_only_the_diff(build, tmp_path):
    rng = random.Random(13)
    universe = ["AAA", "BBB", "CCC", "DDD"]
    latest: dict[str, dict[str, pl.DataFrame]] = {}
    with Warehouse.open(build.settings(tmp_path / "nights")) as wh:
        previous = None
        for night in range(8):
            tickers = [t for t in universe if rng.random() < 0.75]  # the others failed that night
            results = _night(rng, tickers)
            version = build.publish(
                wh, build.run(f"run-{night}"), prices=build.prices(tickers=universe), results=results
            )
            present = set().union(*(set(frame["ticker"]) for frame in results.values()))
            latest |= {t: {k: f.filter(pl.col("ticker") == t) for k, f in results.items()} for t in present}
            if previous is not None:
                # What the version wrote is exactly what changed, per table.
                diff = wh.diff(previous, version)
                for table, changes in written(wh, version).items():
                    changed = diff.filter(pl.col("table") == table)
                    assert changes.get("insert", 0) == (changed["change"] == "added").sum(), (night, table)
                    assert changes.get("delete", 0) == (changed["change"] == "removed").sum(), (night, table)
                assert set(written(wh, version)) == set(diff["table"]), night
            previous = version
        incremental = stored_values(wh)

    full = {
        name: pl.concat([frames[name] for frames in latest.values()])
        for name in ("month_end", "events", "summary", "baseline")
    }
    with Warehouse.open(build.settings(tmp_path / "full")) as wh:
        build.publish(wh, build.run("run-full"), prices=build.prices(tickers=universe), results=full)
        for table, frame in stored_values(wh).items():
            assert incremental[table].equals(frame), table

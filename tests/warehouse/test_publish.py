"""Publishing: one snapshot per run, versions, time travel, diff, atomicity."""

import json
from datetime import date

import polars as pl
import pytest

from surgewatch.core.errors import WarehouseError
from surgewatch.warehouse import PRICE_COLUMNS, Warehouse, writer


def publish(wh, build, run_id, **kwargs):
    return build.publish(wh, build.run(run_id), **kwargs)


def test_two_publishes_make_two_versions_with_time_travel_and_diff(settings, build):
    day = build.sessions[-1]
    with Warehouse.open(settings) as wh:
        first = publish(wh, build, "run-1")
        second = publish(
            wh,
            build,
            "run-2",
            prices=build.prices(bump={("AAA", day): 150.0}),
            results=build.results(move=0.2),
        )
        assert second == first + 1

        versions = wh.versions()
        mine = versions.filter(pl.col("version").is_in([first, second]))
        assert mine["run_id"].to_list() == ["run-1", "run-2"]
        assert "prices_daily" in mine["changes"][0] and "runs" in mine["changes"][0]
        assert mine["message"][1] == "published run run-2"

        runs = wh.sql("SELECT run_id, snapshot_id, status FROM runs ORDER BY run_id")
        assert runs.rows() == [("run-1", first, "published"), ("run-2", second, "published")]

        query = "SELECT close, run_id FROM prices_daily WHERE ticker = ? AND date = ?"
        now = wh.sql(query, params=["AAA", day])
        then = wh.sql(query, snapshot=first, params=["AAA", day])
        assert now.rows() == [(150.0, "run-2")]
        assert then.rows() == [(105.0, "run-1")]
        assert wh.sql("SELECT count(*) AS n FROM runs", snapshot=first)["n"][0] == 1

        diff = wh.diff(first, second)
        prices = diff.filter(pl.col("table") == "prices_daily")
        assert sorted(prices["change"]) == ["added", "removed"]
        assert {json.loads(r)["close"] for r in prices["row"]} == {105.0, 150.0}
        events = diff.filter(pl.col("table") == "signal_events")
        assert events.height == 4  # 2 tickers x (removed move 0.12, added move 0.2)
        assert "run_id" not in json.loads(diff["row"][0])
        assert wh.diff(second, second).is_empty()


def test_republishing_identical_prices_writes_no_price_rows(settings, build):
    with Warehouse.open(settings) as wh:
        first = publish(wh, build, "run-1")
        second = publish(wh, build, "run-2")
        changes = wh.versions().filter(pl.col("version") == second)["changes"][0]
        assert "prices_daily" not in changes
        stored = wh.sql("SELECT count(*) AS n, min(run_id) AS first_run, max(run_id) AS last_run FROM prices_daily")
        assert stored.rows() == [(12, "run-1", "run-1")]
        assert wh.diff(first, second).is_empty()


def test_prices_upsert_replaces_the_incoming_range_and_restatement_the_history(settings, build):
    sessions = build.sessions
    with Warehouse.open(settings) as wh:
        publish(wh, build, "run-1")
        # The provider now answers only the last two sessions, one of them revised:
        # earlier rows stay, the range is replaced.
        tail = build.prices(sessions=sessions[-2:], bump={("AAA", sessions[-1]): 99.0})
        publish(wh, build, "run-2", prices=tail)
        assert wh.prices(["AAA"]).height == len(sessions)
        assert wh.prices(["AAA"]).filter(pl.col("date") == sessions[-1])["close"].to_list() == [99.0]

        # A restatement replaces the whole history of that ticker only.
        publish(wh, build, "run-3", prices=build.prices(tickers=("AAA",), sessions=sessions[:3]), replace={"AAA"})
        last = wh.sql("SELECT ticker, max(date) AS last FROM prices_daily GROUP BY ticker ORDER BY ticker")
        assert last.rows() == [("AAA", sessions[2]), ("BBB", sessions[-1])]

        with pytest.raises(WarehouseError, match="refusing to replace the price history of BBB"):
            publish(wh, build, "run-4", prices=build.prices(tickers=("AAA",)), replace={"BBB"})


def test_prices_reads_return_the_raw_frame(settings, build):
    with Warehouse.open(settings) as wh:
        publish(wh, build, "run-1")
        frame = wh.prices(as_of=date(2026, 1, 6))
        assert tuple(frame.columns) == PRICE_COLUMNS
        assert frame.schema["volume"] == pl.Int64 and frame.schema["date"] == pl.Date
        assert frame["date"].max() == date(2026, 1, 6)
        assert frame.height == 6
        assert wh.prices(["nope"]).is_empty()


def test_results_are_replaced_per_ticker_and_missing_columns_filled(settings, build):
    with Warehouse.open(settings) as wh:
        publish(wh, build, "run-1")
        # BBB failed this run: only AAA's results are given, BBB keeps run-1's.
        publish(
            wh, build, "run-2", prices=build.prices(tickers=("AAA",)), results=build.results(tickers=("AAA",), move=0.3)
        )
        events = wh.sql(
            "SELECT ticker, move, run_id, threshold, direction, basis, fwd_6m, sessions FROM signal_events ORDER BY ticker"
        )
        assert events.rows() == [
            ("AAA", 0.3, "run-2", 0.10, "up", "price", None, 6),
            ("BBB", 0.12, "run-1", 0.10, "up", "price", None, 6),
        ]
        kinds = wh.sql(
            "SELECT kind, count(*) AS n FROM signal_summary WHERE ticker = 'AAA' GROUP BY kind ORDER BY kind"
        )
        assert kinds.rows() == [("baseline", 2), ("events", 2)]
        # A ticker with month_end rows but no events any more loses its old events.
        results = build.results(tickers=("AAA",))
        results["events"] = results["events"].clear()
        publish(wh, build, "run-3", prices=build.prices(tickers=("AAA",)), results=results)
        assert wh.sql("SELECT ticker FROM signal_events")["ticker"].to_list() == ["BBB"]


def test_a_publish_failing_midway_leaves_the_previous_version_intact(settings, build, monkeypatch):
    changed = {"prices": build.prices(bump={("AAA", build.sessions[0]): 1.0}), "results": build.results(move=0.5)}
    with Warehouse.open(settings) as wh:
        first = publish(wh, build, "run-1")
        before = {
            t: wh.sql(f"SELECT * FROM {t} ORDER BY ALL")
            for t in ("prices_daily", "month_end", "signal_events", "signal_summary", "runs")
        }

        # The run's own row is the last write of the transaction: fail there, once in
        # DuckDB (a NOT NULL violation) and once in Python, after everything else was written.
        def violate_not_null(con, run, snapshot):
            con.execute("INSERT INTO runs (run_id, status) VALUES (NULL, 'failed')")

        def crash(con, run, snapshot):
            raise KeyboardInterrupt

        with monkeypatch.context() as patched:
            patched.setattr(writer, "insert_run", violate_not_null)
            with pytest.raises(
                WarehouseError,
                match="publishing run run-2 failed, nothing was written: .*NOT NULL constraint failed: runs.run_id",
            ):
                publish(wh, build, "run-2", **changed)
            patched.setattr(writer, "insert_run", crash)
            with pytest.raises(KeyboardInterrupt):
                publish(wh, build, "run-3", **changed)

        assert wh.versions()["version"].max() == first
        for table, rows in before.items():
            assert wh.sql(f"SELECT * FROM {table} ORDER BY ALL").equals(rows), table
        assert publish(wh, build, "run-4", **changed) == first + 1  # the connection is still usable


def test_bad_frames_are_refused_before_writing(settings, build):
    with Warehouse.open(settings) as wh:
        first = publish(wh, build, "run-1")
        duplicated = pl.concat([build.prices(), build.prices().head(1)])
        with pytest.raises(WarehouseError, match=r"prices_daily: 2 rows share a key \(ticker, date\)"):
            publish(wh, build, "run-2", prices=duplicated)
        with pytest.raises(WarehouseError, match="month_end: the frame has no column month"):
            results = build.results()
            results["month_end"] = results["month_end"].drop("month")
            publish(wh, build, "run-2", results=results)
        with pytest.raises(WarehouseError, match="prices_daily: Conversion Error"):
            publish(wh, build, "run-2", prices=build.prices().with_columns(close=pl.lit("n/a")))
        with pytest.raises(WarehouseError, match="signal_events: null month in 2 row"):
            results = build.results()
            results["events"] = results["events"].with_columns(month=pl.lit(None, dtype=pl.Date))
            publish(wh, build, "run-2", results=results)
        assert wh.versions()["version"].max() == first


def test_record_run_writes_only_the_run_row(settings, build):
    with Warehouse.open(settings) as wh:
        version = wh.record_run(
            build.run("run-bad", status="failed", failed={"AAA": "schema: close <= 0"}, message="validation failed")
        )
        row = wh.sql("SELECT status, failed, snapshot_id, message FROM runs")
        assert row.rows() == [("failed", '{"AAA": "schema: close <= 0"}', version, "validation failed")]
        assert wh.versions().filter(pl.col("version") == version)["changes"][0] == "inserted: runs"
        assert wh.sql("SELECT count(*) AS n FROM prices_daily")["n"][0] == 0


def test_alerts_are_upserted_by_key(settings, build):
    alert = pl.DataFrame(
        {
            "ticker": ["AAA"],
            "month": [date(2026, 1, 1)],
            "kind": ["provisional"],
            "move": [0.11],
            "as_of": [date(2026, 1, 7)],
        }
    )
    with Warehouse.open(settings) as wh:
        publish(wh, build, "run-1", alerts=alert)
        stored = wh.sql("SELECT ticker, month, kind, status, attempts, created_run FROM alerts")
        assert stored.rows() == [("AAA", date(2026, 1, 1), "provisional", "pending", 0, "run-1")]

        sent = alert.with_columns(
            status=pl.lit("sent"), attempts=pl.lit(1), created_run=pl.lit("run-1"), sent_run=pl.lit("run-2")
        )
        publish(wh, build, "run-2", alerts=sent)
        stored = wh.sql("SELECT move, status, attempts, sent_run, created_run FROM alerts")
        assert stored.rows() == [(0.11, "sent", 1, "run-2", "run-1")]  # one row per key, the latest
        with pytest.raises(WarehouseError, match=r"alerts.kind must be one of"):
            publish(wh, build, "run-2", alerts=alert.with_columns(kind=pl.lit("maybe")))


def test_a_run_written_with_only_a_note_is_one_version_with_that_message(settings, build):
    with Warehouse.open(settings) as wh:
        with wh.write(build.run("run-1", message="from the flow")) as tx:
            tx.note("1 alert could not be sent")
        assert wh.versions()["version"].max() == tx.snapshot
        assert wh.sql("SELECT message, snapshot_id FROM runs").rows() == [("1 alert could not be sent", tx.snapshot)]
    with Warehouse.open(settings, read_only=True) as wh, pytest.raises(WarehouseError, match="opened read-only"):
        wh.write(build.run("run-2"))

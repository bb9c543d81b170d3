"""`surgewatch refresh` for real: Prefect flow, fake HTTP provider, DuckLake warehouse."""

import json

import polars as pl
import pytest

from surgewatch.flows.refresh import refresh
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.cli import main
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.warehouse import MIGRATIONS
from tests.fake_providers import sessions, synthetic_bars
from tests.flows.conftest import night, query

LINEAGE = ["run_id", "threshold", "direction", "basis"]


def test_full_load_publishes_the_same_events_as_the_study(env, prices_dir):
    report = refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-31"))
    assert (report.status, report.exit_code, report.failed) == ("published", 0, {})
    stored = query("SELECT * FROM signal_events WHERE ticker = 'IWM' ORDER BY month").drop(LINEAGE)
    expected = run_study(read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=night("2026-07-31")).events
    assert stored.equals(expected.select(stored.columns).cast(stored.schema))
    assert "IWM 2026-04" in report.new_events
    runs = query("SELECT status, snapshot_id, rows_ingested FROM runs")
    assert runs.to_dicts() == [
        {
            "status": "published",
            "snapshot_id": report.snapshot_id,
            "rows_ingested": json.dumps({"IWM": 6583, "SPY": 8433}),
        }
    ]


def test_rerun_adds_nothing_and_next_nights_fetch_only_the_overlap(env, prices_dir):
    first = refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-31"))
    assert first.migrations == {m.version: m.version for m in MIGRATIONS}  # version 0: the empty catalog
    count = query("SELECT count(*) AS n FROM prices_daily")["n"].item()
    env.clear()
    again = refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-31"))
    assert again.rows_ingested == {"IWM": 0, "SPY": 0} and again.migrations == {}
    assert query("SELECT count(*) AS n FROM prices_daily")["n"].item() == count
    assert again.snapshot_id == first.snapshot_id + 1
    for day in ("2026-08-03", "2026-08-04", "2026-08-05"):
        env.clear()
        report = refresh(tickers=["IWM", "SPY"], as_of=night(day))
        assert report.rows_ingested == {"IWM": 1, "SPY": 1}
        hits = env.requests
        assert sorted(h.symbol for h in hits) == ["IWM", "SPY"]  # one request per ticker
        # From five stored sessions back, through the night replayed.
        assert {h.start for h in hits} == {sessions(night("2026-07-20"), night(day))[-6]}
    versions = query("SELECT count(*) AS n FROM runs")["n"].item()
    assert versions == 5
    # Yesterday's version still answers as it was.
    assert query("SELECT max(date) AS d FROM prices_daily", snapshot=report.snapshot_id - 1)["d"].item() == night(
        "2026-08-04"
    )


def test_unknown_and_failing_tickers_fail_alone(env):
    days = sessions(night("2025-01-02"), night("2026-03-31"))
    env.add_prices("AAA", synthetic_bars(days))
    env.add_prices("BBB", synthetic_bars(days))
    env.script("BBB", ["503"] * 12)  # outlasts HTTP retries and Prefect's task retries
    report = refresh(tickers=["AAA", "BBB", "ZZZZ"])
    assert (report.status, report.exit_code) == ("partial", 2)
    assert "unknown symbol" in report.failed["ZZZZ"] and "ZZZZ" in report.failed["ZZZZ"]
    assert "503" in report.failed["BBB"]
    assert query("SELECT DISTINCT ticker FROM prices_daily")["ticker"].to_list() == ["AAA"]
    failed = json.loads(query("SELECT failed FROM runs")["failed"].item())
    assert set(failed) == {"BBB", "ZZZZ"}


def test_invalid_prices_fail_that_ticker_and_name_the_rule(env):
    days = sessions(night("2025-01-02"), night("2025-06-30"))
    env.add_prices("GOOD", synthetic_bars(days))
    bad = synthetic_bars(days).with_columns(
        high=pl.when(pl.col("date") == days[10]).then(pl.col("close") - 5).otherwise(pl.col("high"))
    )
    env.add_prices("BAD", bad)
    report = refresh(tickers=["GOOD", "BAD"])
    assert report.status == "partial"
    assert "high >= max(open, close)" in report.failed["BAD"] and str(days[10]) in report.failed["BAD"]


def test_nothing_published_when_every_ticker_fails(env):
    report = refresh(tickers=["ZZZZ"])
    assert (report.status, report.exit_code, report.snapshot_id) == ("failed", 1, None)
    assert query("SELECT status FROM runs")["status"].to_list() == ["failed"]
    assert query("SELECT count(*) AS n FROM prices_daily")["n"].item() == 0


def test_restated_history_is_refetched_in_full(env):
    days = sessions(night("2025-01-02"), night("2025-06-30"))
    env.add_prices("DIV", synthetic_bars(days))
    refresh(tickers=["DIV"], as_of=days[-10])
    # A dividend paid on the last day rescales every earlier adj_close.
    env.add_prices("DIV", synthetic_bars(days).with_columns(adj_close=pl.col("adj_close") * 0.99))
    env.clear()
    report = refresh(tickers=["DIV"])
    assert report.restated == ("DIV",)
    assert [h.start for h in env.requests][-1] is not None and len(env.requests) == 2
    assert env.requests[-1].start < days[0]  # the second request asked for everything
    stored = query("SELECT adj_close FROM prices_daily ORDER BY date")["adj_close"]
    assert stored.to_list() == pytest.approx((synthetic_bars(days)["adj_close"] * 0.99).to_list())
    assert query("SELECT restated FROM runs ORDER BY started_at DESC LIMIT 1")["restated"].item().to_list() == ["DIV"]


def test_cli_exit_codes_and_study_from_the_warehouse(env, capsys):
    days = sessions(night("2024-01-02"), night("2025-06-30"))
    env.add_prices("AAA", synthetic_bars(days, step=2.0))
    assert main(["refresh", "--tickers", "AAA,ZZZZ"]) == 2
    out, err = capsys.readouterr()
    assert "ingested for 1 ticker(s), 1 failed (ZZZZ)" in out and "ZZZZ" in err
    head = len(MIGRATIONS)
    assert out.splitlines()[1].startswith(f"versions 1–{head} created the tables; published version {head + 1} (run ")
    assert main(["refresh", "--tickers", "AAA"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"published version {head + 2} (run ")
    assert main(["study", "--ticker", "AAA", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ticker"] == "AAA" and doc["as_of"] == str(days[-1])
    assert main(["study", "--ticker", "QQQ"]) == 2
    assert "QQQ is not in the warehouse" in capsys.readouterr().err


def test_cli_json_and_quiet(env, capsys):
    days = sessions(night("2024-01-02"), night("2025-06-30"))
    env.add_prices("AAA", synthetic_bars(days))
    assert main(["refresh", "--tickers", "AAA", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["status"], report["exit_code"], report["rows_ingested"]) == ("published", 0, {"AAA": len(days)})
    assert main(["refresh", "--tickers", "AAA,ZZZZ", "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "failed: ZZZZ: unknown symbol" in err


def test_refresh_that_cannot_start_exits_1_naming_the_setting(env, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_THRESHOLD", "-0.1")
    assert main(["refresh", "--tickers", "AAA"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: bad setting SURGEWATCH_THRESHOLD")

"""The §2b figures through the real refresh on the csv source: published with the study
in one version, queryable with `surgewatch sql`, and quoted by the alerts."""

import json

import polars as pl
import pytest

from surgewatch.cli import main
from surgewatch.flows.refresh import refresh
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from tests.flows.conftest import night, query


@pytest.fixture
def csv_env(env, prices_dir, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_SOURCE", "csv")
    monkeypatch.setenv("SURGEWATCH_CSV_DIR", str(prices_dir))
    return env


def test_refresh_publishes_signal_stats_queryable_with_sql(csv_env, prices_dir, capsys):
    report = refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-31"))
    assert report.status == "published"
    capsys.readouterr()

    assert main(["sql", "select * from signal_stats where ticker='IWM'", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and [r["horizon"] for r in sorted(rows, key=lambda r: r["horizon"])] == [1, 3, 6, 12]

    # The rows are the study's figures (refresh defaults: B = 10,000, seed 0), with lineage.
    stored = pl.DataFrame(rows).sort("horizon")
    study = run_study(read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=night("2026-07-31"))
    expected = study.stats.sort("horizon")
    for column in expected.columns:
        if column == "ticker":
            continue
        assert stored[column].to_list() == pytest.approx(expected[column].to_list(), nan_ok=True), column
    assert set(stored["resamples"]) == {10_000} and set(stored["seed"]) == {0}
    assert (
        set(stored["threshold"]) == {0.10} and set(stored["direction"]) == {"up"} and set(stored["basis"]) == {"price"}
    )

    # Published in the same version as the study: one run wrote both.
    runs = query("SELECT run_id, snapshot_id FROM runs")
    assert runs.rows() == [(report.run_id, report.snapshot_id)]
    written_by = query(
        "SELECT DISTINCT run_id FROM signal_stats UNION SELECT DISTINCT run_id FROM signal_summary",
        snapshot=report.snapshot_id,
    )
    assert written_by["run_id"].to_list() == [report.run_id]
    assert query("SELECT count(*) AS n FROM signal_stats", snapshot=report.snapshot_id)["n"].item() == 8

    # `surgewatch diff` sees the table: the first run added its rows, keyed by ticker and horizon.
    assert main(["diff", str(report.snapshot_id - 1), str(report.snapshot_id), "--format", "csv"]) == 0
    assert "signal_stats,IWM 12,added,placebo_p," in capsys.readouterr().out
    # A next night that adds a session, not a forward return, changes no figure.
    next_night = refresh(tickers=["IWM", "SPY"], as_of=night("2026-08-03"))
    capsys.readouterr()
    assert main(["diff", str(report.snapshot_id), str(next_night.snapshot_id), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "month_end,IWM 2026-08,added" in out and "signal_stats" not in out


def test_the_provisional_alert_carries_the_history_line(csv_env, receiver, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    (message,) = receiver.messages
    assert message["title"] == "surgewatch: IWM 2026-04 provisional +11.20%"
    assert message["message"].splitlines()[-1] == (
        "History: suggestive, not proven (better) at 3M: +7.6% avg after 14 such months; random sets of 14 months: "
        "-2.2% to +6.3%; an ordinary IWM month returned +2.1% (+5.5 pp, better); p=0.029, q=0.115, "
        "13 independent episodes"
    )
    stored = query("SELECT message FROM alerts")["message"].item()
    assert stored == message["message"]

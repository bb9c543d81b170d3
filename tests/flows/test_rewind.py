"""A refresh whose --as-of lies before the stored sessions: refused, or a whole rewind."""

from pathlib import Path

from surgewatch.flows.refresh import refresh
from surgewatch.core.settings import load_settings
from tests.flows.conftest import night, query


def _state() -> dict:
    return {
        "runs": query("SELECT count(*) AS n FROM runs")["n"].item(),
        "prices": query("SELECT ticker, max(date) AS last FROM prices_daily GROUP BY 1 ORDER BY 1").rows(),
        "month_end": query("SELECT ticker, max(as_of) AS last FROM month_end GROUP BY 1 ORDER BY 1").rows(),
    }


def test_an_earlier_as_of_is_refused_and_writes_nothing(env, prices_dir):
    assert refresh(tickers=["IWM", "SPY"], as_of=night("2026-08-05")).exit_code == 0
    before = _state()
    report = refresh(tickers=["IWM"], as_of=night("2026-07-15"))
    assert (report.status, report.exit_code, report.snapshot_id) == ("failed", 1, None)
    assert "2026-08-05" in report.message and "`rewind`" in report.message
    assert _state() == before


def test_rewind_publishes_every_ticker_as_of_that_date(env, prices_dir):
    assert refresh(tickers=["IWM", "SPY"], as_of=night("2026-08-05")).exit_code == 0
    report = refresh(tickers=["IWM"], as_of=night("2026-07-15"), rewind=True)
    assert (report.status, report.exit_code) == ("published", 0)
    assert "rewound IWM, SPY to 2026-07-15" in report.message
    state = _state()
    # SPY was not asked for, yet it is cut back too: no version mixes dates.
    assert state["prices"] == [("IWM", night("2026-07-15")), ("SPY", night("2026-07-15"))]
    assert state["month_end"] == [("IWM", night("2026-07-15")), ("SPY", night("2026-07-15"))]
    # The next night carries on from the rewound date.
    assert refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-16")).rows_ingested == {"IWM": 1, "SPY": 1}


def test_a_night_from_the_future_is_refused_before_any_work(env, prices_dir):
    report = refresh(tickers=["IWM"], as_of=night("2030-01-01"))
    assert (report.status, report.exit_code, report.snapshot_id) == ("failed", 1, None)
    assert report.message.startswith("`as_of` 2030-01-01 is in the future (today is ")
    assert env.count() == 0  # no request to the provider
    assert not _home().exists()  # not even the warehouse's folder


def test_a_refusal_names_the_tickers_ahead_and_the_command_that_would_work(env, prices_dir):
    assert refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-15")).exit_code == 0
    assert refresh(tickers=["IWM"], as_of=night("2026-08-05")).exit_code == 0
    before = _state()
    report = refresh(tickers=["IWM", "SPY"], as_of=night("2026-07-20"))
    assert report.status == "failed" and _state() == before
    assert report.message == (
        "`as_of` 2026-07-20 is before the last stored session of IWM (2026-08-05): publishing it would mix "
        "dates in one version; pass `rewind` to cut every ticker back to 2026-07-20, or `tickers` SPY to bring "
        "only those up to it"
    )
    # The command it names works: SPY catches up, IWM keeps its sessions.
    assert refresh(tickers=["SPY"], as_of=night("2026-07-20")).status == "published"
    assert _state()["prices"] == [("IWM", night("2026-08-05")), ("SPY", night("2026-07-20"))]


def _home() -> Path:
    return Path(load_settings().home)

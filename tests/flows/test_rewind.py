"""A refresh whose --as-of lies before the stored sessions: refused, or a whole rewind."""

from surgewatch.flows.refresh import refresh
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
    assert "2026-08-05" in report.message and "--rewind" in report.message
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

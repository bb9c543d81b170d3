"""A digest lists its items in `scan`'s order (one ranking, study.scan.best_first): by the
verdict at 12 months, else at the study's longest horizon, then excess there, falling."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.alerts.digest import envelopes
from surgewatch.core.params import StudyParams
from surgewatch.core.vocabulary import BEATS, NO_DIFFERENT, SUGGESTIVE_BETTER, TOO_FEW, TRAILS
from surgewatch.study.scan import month_movers

MONTH = dt.date(2026, 4, 1)
# ticker → (verdict, excess) at every horizon of the study
HISTORY = {
    "AAA": (NO_DIFFERENT, 0.01),
    "BBB": (BEATS, 0.02),
    "CCC": (SUGGESTIVE_BETTER, 0.05),
    "DDD": (NO_DIFFERENT, 0.04),
    "EEE": (TRAILS, -0.03),
    "FFF": (TOO_FEW, None),
}


@pytest.mark.parametrize("horizons", [(3, 12), (3, 6)], ids=["with 12M", "without 12M"])
def test_digest_items_come_in_the_scans_order(horizons):
    tickers = list(HISTORY)
    summary = pl.DataFrame(
        {
            "ticker": [t for t in tickers for _ in horizons],
            "kind": "events",
            "horizon": [h for _ in tickers for h in horizons],
            "n": 12,
            "average": 0.05,
        }
    )
    stats = pl.DataFrame(
        {
            "ticker": [t for t in tickers for _ in horizons],
            "horizon": [h for _ in tickers for h in horizons],
            "excess": [HISTORY[t][1] for t in tickers for _ in horizons],
            "verdict": [HISTORY[t][0] for t in tickers for _ in horizons],
        },
        schema_overrides={"excess": pl.Float64},
    )
    month_end = pl.DataFrame(
        {"ticker": tickers, "month": MONTH, "as_of": dt.date(2026, 4, 20), "complete": False, "move": 0.12}
    )
    events = month_end.select("ticker", "month", first_crossed_on=pl.lit(dt.date(2026, 4, 9)))
    scanned = month_movers(month_end, events, summary, stats, 0.10, "up")["ticker"].to_list()
    assert scanned == ["BBB", "CCC", "DDD", "AAA", "FFF", "EEE"]
    outgoing = [
        {"ticker": t, "month": MONTH, "kind": "provisional", "move": 0.12, "as_of": dt.date(2026, 4, 20), "message": t}
        for t in sorted(tickers, reverse=True)
    ]
    (digest,) = envelopes(outgoing, summary, stats, StudyParams(horizons=horizons), limit=1)
    assert [item["ticker"] for item in digest.items] == scanned
    lines = [line for line in digest.body.splitlines() if line.startswith("- ")]
    assert [line.split()[1] for line in lines] == scanned

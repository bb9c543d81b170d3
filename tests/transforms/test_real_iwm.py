"""The engine on real IWM prices (../shared), held against SOURCES.md and the article."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study

# SOURCES.md: "IWM months at +10% or more in this data (close)".
IWM_UP_MONTHS = [
    "2003-04",
    "2003-05",
    "2009-04",
    "2010-09",
    "2011-10",
    "2016-11",
    "2019-01",
    "2020-04",
    "2020-11",
    "2022-07",
    "2022-10",
    "2023-12",
    "2024-07",
    "2024-11",
    "2026-04",
]


@pytest.fixture(scope="module")
def iwm(prices_dir) -> pl.DataFrame:
    return read_price_csv(prices_dir / "IWM.csv", "IWM")


def _months(frame: pl.DataFrame) -> list[str]:
    return frame["month"].dt.strftime("%Y-%m").to_list()


def test_every_plus_ten_percent_month_since_2000(iwm):
    result = run_study(iwm, StudyParams(), as_of=dt.date(2026, 7, 31))
    assert _months(result.events) == IWM_UP_MONTHS
    assert result.events["complete"].all()
    assert result.missing_sessions.is_empty()


@pytest.mark.parametrize(
    "month, move",
    [("2003-04", 0.1028), ("2009-04", 0.1539), ("2020-11", 0.1824), ("2024-11", 0.1107), ("2026-04", 0.1208)],
)
def test_moves_match_the_sanity_table(iwm, month, move):
    events = run_study(iwm, StudyParams(), as_of=dt.date(2026, 7, 31)).events
    assert events.filter(pl.col("month").dt.strftime("%Y-%m") == month)["move"].item() == pytest.approx(move, abs=5e-5)


def test_total_basis_lifts_the_ex_dividend_months(iwm):
    events = run_study(iwm, StudyParams(basis="total"), as_of=dt.date(2026, 7, 31)).events
    moves = dict(zip(_months(events), events["move"]))
    assert moves["2010-09"] == pytest.approx(0.1245, abs=5e-5)
    assert moves["2023-12"] == pytest.approx(0.1213, abs=5e-5)


def test_article_april_2026_context(iwm, prices_dir):
    """MTD through 2026-04-20, up sessions in April, and the correction before it."""
    april = run_study(iwm, StudyParams(), as_of=dt.date(2026, 4, 20)).events.to_dicts()[-1]
    assert (april["month"], april["complete"], april["as_of"]) == (dt.date(2026, 4, 1), False, dt.date(2026, 4, 20))
    # The article says +11.54%; the data says 277.35 / 248.00 - 1.
    assert april["move"] == pytest.approx(277.350006 / 248.0 - 1)
    assert (april["sessions"], april["up_sessions"]) == (13, 12)
    assert april["up_share"] == pytest.approx(12 / 13)
    # The trend it came out of: March 2026's close over March 2025's.
    assert april["prior_12m"] == pytest.approx(248.0 / 199.490005 - 1)
    # The correction: from the 2026-01-22 high to the 2026-03-30 low.
    assert april["prior_drawdown"] == pytest.approx(239.610001 / 269.790009 - 1)
    assert april["first_crossed_on"] == dt.date(2026, 4, 17)
    rut = read_price_csv(prices_dir / "RUT.csv", "^RUT")
    rut_april = run_study(rut, StudyParams(), as_of=dt.date(2026, 4, 20)).events.to_dicts()[-1]
    # The article: "the Russell 2000 fell 10.9% from its January peak".
    assert rut_april["prior_drawdown"] == pytest.approx(2414.01 / 2718.77002 - 1)

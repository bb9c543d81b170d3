"""The stage models refuse a bad frame with one message naming the stage, the rule, the
ticker and the rows; a good frame passes unchanged; one bad ticker does not stop the rest."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.core.errors import ValidationFailed
from surgewatch.schemas import (
    DailyPrices,
    MonthEnd,
    MonthlyReturns,
    SignalEvents,
    SignalSummary,
    validate,
    validate_each_ticker,
)
from surgewatch.core.vocabulary import STATISTICS
from tests.transforms.frames import daily

GOOD = {"2024-03-01": 10.0, "2024-03-04": 10.5, "2024-03-05": 11.0}


def prices(*tickers: str) -> pl.DataFrame:
    return pl.concat([daily(t, GOOD) for t in tickers])


def month_end(**changes: object) -> pl.DataFrame:
    row = {
        "ticker": "IWM",
        "month": dt.date(2024, 3, 1),
        "as_of": dt.date(2024, 3, 28),
        "close": 10.0,
        "complete": True,
        "sessions": 20,
        "up_sessions": 11,
        "prior_drawdown": -0.05,
        "prior_12m": 0.04,
        "up_share": 0.55,
    } | changes
    return pl.DataFrame([row], schema_overrides={"sessions": pl.UInt32, "up_sessions": pl.UInt32})


def test_a_good_frame_passes_unchanged():
    frame = prices("IWM", "SPY")
    assert validate(frame, DailyPrices, "prices") is frame


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("close", -1.0, "close greater_than(0)"),
        ("high", 9.0, "high >= max(open, close)"),
        ("low", 12.0, "low <= min(open, close)"),
        ("volume", -5, "volume greater_than_or_equal_to(0)"),
    ],
)
def test_a_broken_value_is_refused_naming_stage_rule_ticker_and_day(column, value, rule):
    frame = prices("IWM").with_columns(
        pl.when(pl.col("date") == dt.date(2024, 3, 4))
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .cast(pl.Int64 if column == "volume" else pl.Float64)
        .alias(column)
    )
    with pytest.raises(ValidationFailed) as refused:
        validate(frame, DailyPrices, "prices")
    message = str(refused.value)
    assert message.startswith("prices: rule ") and f"{rule} broken by IWM on 2024-03-04" in message


def test_a_duplicate_row_and_a_non_session_are_refused():
    twice = pl.concat([prices("IWM"), prices("IWM").head(1)])
    with pytest.raises(ValidationFailed, match=r"^prices: .*one row per key \(duplicate rows\)"):
        validate(twice, DailyPrices, "prices")
    saturday = daily("IWM", {"2024-03-02": 10.0})
    with pytest.raises(ValidationFailed, match=r"^prices: rule .*date is an NYSE session broken by IWM on 2024-03-02$"):
        validate(saturday, DailyPrices, "prices")


def test_a_missing_column_fails_every_ticker():
    kept, failed = validate_each_ticker(prices("IWM", "SPY").drop("close"), DailyPrices, "prices")
    assert kept.is_empty() and set(failed) == {"IWM", "SPY"}
    assert all(m.startswith("prices: ") and "close" in m for m in failed.values())


def test_one_bad_ticker_does_not_stop_the_rest():
    frame = pl.concat([prices("IWM"), daily("SPY", {"2024-03-01": 10.0, "2024-03-04": -1.0})])
    kept, failed = validate_each_ticker(frame, DailyPrices, "prices")
    assert kept["ticker"].unique().to_list() == ["IWM"]
    assert list(failed) == ["SPY"]
    assert (
        failed["SPY"].startswith("prices: rule ")
        and "close greater_than(0) broken by SPY on 2024-03-04" in failed["SPY"]
    )


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"up_sessions": 21}, "up_sessions <= sessions"),
        ({"as_of": dt.date(2024, 4, 1)}, "as_of falls inside month"),
        ({"prior_drawdown": 0.1}, "prior_drawdown less_than_or_equal_to(0)"),
    ],
)
def test_month_end_rules(changes, rule):
    with pytest.raises(ValidationFailed) as refused:
        validate(month_end(**changes), MonthEnd, "month_end")
    message = str(refused.value)
    assert message.startswith("month_end: rule ") and message.endswith(f"{rule} broken by IWM on 2024-03-01")


def test_horizon_columns_are_checked_whatever_the_horizons():
    good = month_end(move=0.12, fwd_2m=0.03, mdd_2m=-0.02)
    assert validate(good, MonthlyReturns, "monthly_returns") is good
    with pytest.raises(ValidationFailed, match=r"^monthly_returns: rule mdd_2m .* broken by IWM on 2024-03-01$"):
        validate(month_end(move=0.12, fwd_2m=0.03, mdd_2m=0.5), MonthlyReturns, "monthly_returns")


def test_an_event_crossed_outside_its_month_is_refused():
    event = month_end(move=0.12, fwd_1m=0.01, mdd_1m=-0.01, first_crossed_on=dt.date(2024, 4, 2))
    with pytest.raises(
        ValidationFailed,
        match=r"^signal_events: rule .*first_crossed_on falls inside month broken by IWM on 2024-03-01$",
    ):
        validate(event, SignalEvents, "signal_events")


def test_a_summary_row_per_ticker_and_horizon():
    row = {"ticker": "IWM", "horizon": 1} | dict.fromkeys(STATISTICS, None) | {"n": 0}
    summary = pl.DataFrame([row, row], schema_overrides={"n": pl.UInt32, **dict.fromkeys(STATISTICS[1:], pl.Float64)})
    # A rule broken by rows of a frame keyed by horizon names them by horizon.
    with pytest.raises(ValidationFailed, match=r"^signal_summary: rule .*duplicate rows\) broken by IWM on 1$"):
        validate(summary, SignalSummary, "signal_summary")
    assert validate(summary.head(1), SignalSummary, "signal_summary").height == 1

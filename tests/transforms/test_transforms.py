"""Each transform against expectations computed by hand (SPEC §2)."""

import datetime as dt

import polars as pl
import pytest

import surgewatch.transforms as tf
from surgewatch.core.errors import InputError, ValidationFailed
from surgewatch.core.params import StudyParams
from surgewatch.core.params import parse_horizons
from surgewatch.study.run import run_study
from tests.transforms.frames import daily, month_end_closes, sessions_for

D = dt.date.fromisoformat


def _one(frame: pl.DataFrame, month: str) -> dict:
    rows = frame.filter(pl.col("month") == D(month + "-01")).to_dicts()
    assert len(rows) == 1, f"expected one row for {month}, got {len(rows)}"
    return rows[0]


class TestMonthEnds:
    def test_month_ending_on_good_friday_is_complete_on_the_thursday(self):
        # 2024-03-29 was Good Friday: NYSE's last March session was Thursday the 28th.
        prices = daily("IWM", {"2024-02-29": 100.0, "2024-03-27": 104.0, "2024-03-28": 110.0})
        march = _one(tf.month_ends(prices, sessions_for(prices)), "2024-03")
        assert march["complete"] is True
        assert march["as_of"] == D("2024-03-28")
        assert march["close"] == 110.0
        assert (march["sessions"], march["up_sessions"]) == (2, 2)

    def test_month_is_partial_until_its_last_session(self):
        prices = daily("IWM", {"2024-02-29": 100.0, "2024-03-27": 104.0})
        march = _one(tf.month_ends(prices, sessions_for(prices)), "2024-03")
        assert march["complete"] is False
        assert march["as_of"] == D("2024-03-27")

    def test_first_session_of_a_month_counts_as_up_against_the_previous_month(self):
        prices = daily("X", {"2024-01-31": 100.0, "2024-02-01": 101.0, "2024-02-02": 100.5, "2024-02-05": 100.5})
        feb = _one(tf.month_ends(prices, sessions_for(prices)), "2024-02")
        assert (feb["sessions"], feb["up_sessions"]) == (3, 1)

    def test_prior_drawdown_is_the_worst_fall_from_the_running_high_before_the_month(self):
        prices = daily(
            "X",
            {"2024-01-30": 100.0, "2024-01-31": 120.0, "2024-02-01": 90.0, "2024-02-29": 108.0, "2024-03-01": 130.0},
        )
        frame = tf.month_ends(prices, sessions_for(prices))
        assert _one(frame, "2024-01")["prior_drawdown"] is None  # no session before the data
        assert _one(frame, "2024-02")["prior_drawdown"] == 0.0
        assert _one(frame, "2024-03")["prior_drawdown"] == pytest.approx(90 / 120 - 1)

    def test_prior_drawdown_forgets_a_fall_older_than_63_sessions(self):
        sessions = sessions_for(daily("X", {"2024-01-02": 1.0, "2024-06-28": 1.0}))["date"]
        closes = [100.0, 50.0] + [101.0 + i for i in range(len(sessions) - 2)]
        prices = daily("X", {d.isoformat(): c for d, c in zip(sessions, closes)})
        frame = tf.month_ends(prices, sessions_for(prices))
        assert _one(frame, "2024-02")["prior_drawdown"] == pytest.approx(-0.5)
        # The fall on 2024-01-03 is more than 63 sessions before the end of April.
        assert _one(frame, "2024-05")["prior_drawdown"] == 0.0

    def test_total_basis_reads_adj_close(self):
        prices = daily("X", {"2024-01-31": 100.0, "2024-02-29": 100.0}, adj={"2024-01-31": 50.0, "2024-02-29": 60.0})
        feb = _one(tf.month_ends(prices, sessions_for(prices), basis="total"), "2024-02")
        assert feb["close"] == 60.0


class TestReturns:
    CLOSES = [100.0, 111.0, 123.0, 120.0, 90.0, 100.0]  # 2024-01 .. 2024-06

    def frame(self, horizons=(1, 3)):
        prices = month_end_closes("X", self.CLOSES)
        return tf.monthly_returns(tf.month_ends(prices, sessions_for(prices)), horizons)

    def test_move_forward_return_and_drawdown(self):
        frame = self.frame()
        feb = _one(frame, "2024-02")
        assert feb["move"] == pytest.approx(0.11)
        assert feb["fwd_1m"] == pytest.approx(123 / 111 - 1)
        assert feb["fwd_3m"] == pytest.approx(90 / 111 - 1)
        assert feb["mdd_1m"] == 0.0  # the path only rose
        assert feb["mdd_3m"] == pytest.approx(90 / 123 - 1)  # from the peak, not the entry
        mar = _one(frame, "2024-03")
        assert mar["mdd_1m"] == pytest.approx(120 / 123 - 1)

    def test_first_month_has_no_move(self):
        assert _one(self.frame(), "2024-01")["move"] is None

    def test_horizons_past_the_data_are_null(self):
        frame = self.frame((1, 3, 12))
        apr = _one(frame, "2024-04")
        assert apr["fwd_1m"] == pytest.approx(90 / 120 - 1)
        assert apr["fwd_3m"] is None and apr["mdd_3m"] is None
        assert frame["fwd_12m"].null_count() == frame.height

    def test_forward_return_needs_the_target_month_complete(self):
        prices = month_end_closes("X", self.CLOSES[:5])
        prices = pl.concat([prices, daily("X", {"2024-06-03": 95.0})])  # June is partial
        may = _one(tf.monthly_returns(tf.month_ends(prices, sessions_for(prices)), [1]), "2024-05")
        assert may["fwd_1m"] is None and may["mdd_1m"] is None


class TestEventsAndSummary:
    CLOSES = [100.0, 111.0, 123.0, 120.0, 90.0, 100.0]

    def study(self, **params):
        return run_study(month_end_closes("X", self.CLOSES), StudyParams(horizons=(1, 3), **params))

    def test_consecutive_qualifying_months_are_each_an_event(self):
        months = self.study().events["month"].dt.strftime("%Y-%m").to_list()
        assert months == ["2024-02", "2024-03", "2024-06"]

    def test_summary_by_hand(self):
        one = self.study().summary.filter(pl.col("horizon") == 1).to_dicts()[0]
        a, b = 123 / 111 - 1, 120 / 123 - 1  # June's 1-month return is past the data
        mean = (a + b) / 2
        std = abs(a - b) / 2  # ddof = 0
        assert one["n"] == 2
        assert one["average"] == pytest.approx(mean)
        assert one["median"] == pytest.approx(mean)
        assert one["win_rate"] == 0.5
        assert one["sharpe"] == pytest.approx(mean / std)
        assert one["max_drawdown"] == pytest.approx(b)

    def test_down_move_study(self):
        result = self.study(threshold=0.2, direction="down")
        assert result.events["month"].dt.strftime("%Y-%m").to_list() == ["2024-05"]
        event = result.events.to_dicts()[0]
        assert event["move"] == pytest.approx(-0.25)
        assert event["fwd_1m"] == pytest.approx(100 / 90 - 1)

    def test_partial_month_is_a_provisional_event_with_its_crossing_day(self):
        prices = daily("IWM", {"2026-03-31": 100.0, "2026-04-01": 105.0, "2026-04-02": 112.0})
        event = run_study(prices, StudyParams()).events.to_dicts()[0]
        assert event["complete"] is False
        assert event["as_of"] == D("2026-04-02")
        assert event["move"] == pytest.approx(0.12)
        assert event["first_crossed_on"] == D("2026-04-02")

    def test_crossing_day_is_the_first_session_past_the_threshold(self):
        prices = daily("X", {"2024-01-31": 100.0, "2024-02-01": 111.0, "2024-02-02": 95.0, "2024-02-29": 112.0})
        event = run_study(prices, StudyParams()).events.to_dicts()[0]
        assert event["first_crossed_on"] == D("2024-02-01")

    def test_flat_series_has_no_sharpe(self):
        prices = month_end_closes("X", [100.0] * 14)
        result = run_study(prices, StudyParams(horizons=(1,)))
        assert result.events.is_empty()
        base = result.baseline.to_dicts()[0]
        assert (base["n"], base["average"], base["win_rate"], base["sharpe"]) == (13, 0.0, 0.0, None)

    def test_single_event_has_no_sharpe(self):
        prices = month_end_closes("X", [100.0, 120.0, 126.0])
        row = run_study(prices, StudyParams(horizons=(1,))).summary.to_dicts()[0]
        assert row["n"] == 1 and row["sharpe"] is None

    def test_tickers_do_not_leak_into_each_other(self):
        a = month_end_closes("A", self.CLOSES)
        b = month_end_closes("B", [50.0, 40.0, 60.0, 61.0, 70.0, 90.0])
        together = run_study(pl.concat([b, a]).sample(fraction=1.0, shuffle=True, seed=7), StudyParams(horizons=(1, 3)))
        alone = run_study(a, StudyParams(horizons=(1, 3)))
        assert together.events.filter(pl.col("ticker") == "A").equals(alone.events)
        assert together.summary.filter(pl.col("ticker") == "A").equals(alone.summary)


class TestQuality:
    def test_missing_session_is_reported(self):
        prices = daily("X", {"2024-03-26": 1.0, "2024-03-28": 1.0})
        missing = tf.missing_sessions(prices, sessions_for(prices))
        assert missing.to_dicts() == [{"ticker": "X", "date": D("2024-03-27")}]

    def test_holidays_are_not_missing(self):
        prices = daily("X", {"2024-03-28": 1.0, "2024-04-01": 1.0})  # Good Friday between
        assert tf.missing_sessions(prices, sessions_for(prices)).is_empty()


class TestValidation:
    def test_a_row_on_good_friday_is_refused_naming_ticker_and_date(self):
        prices = daily("IWM", {"2026-04-02": 100.0, "2026-04-03": 101.0})
        with pytest.raises(ValidationFailed, match=r"NYSE session broken by IWM on 2026-04-03"):
            run_study(prices, StudyParams())

    def test_non_positive_price_is_refused(self):
        prices = daily("IWM", {"2026-04-01": 100.0, "2026-04-02": -1.0})
        with pytest.raises(ValidationFailed, match=r"close greater_than\(0\) broken by IWM on 2026-04-02"):
            run_study(prices, StudyParams())

    def test_duplicate_dates_are_refused(self):
        prices = pl.concat([daily("IWM", {"2026-04-01": 100.0}), daily("IWM", {"2026-04-01": 100.0})])
        with pytest.raises(ValidationFailed, match=r"duplicate rows\) broken by IWM on 2026-04-01"):
            run_study(prices, StudyParams())

    def test_high_below_close_is_refused(self):
        prices = daily("IWM", {"2026-04-01": 100.0}).with_columns(high=pl.lit(99.0))
        with pytest.raises(ValidationFailed, match=r"high >= max\(open, close\) broken by IWM"):
            run_study(prices, StudyParams())

    @pytest.mark.parametrize(
        "kwargs",
        [{"threshold": 0}, {"threshold": -0.1}, {"horizons": (0,)}, {"direction": "sideways"}, {"basis": "adjusted"}],
    )
    def test_bad_params_are_refused(self, kwargs):
        with pytest.raises(InputError):
            StudyParams(**kwargs)

    @pytest.mark.parametrize("raw", ["1,x", "0", "-3", "1.5", ""])
    def test_bad_horizons_are_refused(self, raw):
        with pytest.raises(InputError):
            parse_horizons(raw)

    def test_total_basis_without_adj_close_is_refused(self):
        with pytest.raises(InputError, match="adj_close is empty for X"):
            run_study(daily("X", {"2024-01-31": 1.0}), StudyParams(basis="total"))


class TestMonthGaps:
    def test_a_month_with_no_row_is_not_bridged(self):
        # No row in March 2024: C[Mar] does not exist, so nothing may span March.
        prices = month_end_closes("X", [100.0, 110.0, 121.0, 133.1, 146.41]).filter(pl.col("date").dt.month() != 3)
        frame = tf.monthly_returns(tf.month_ends(prices, sessions_for(prices)), [1, 2])
        apr = _one(frame, "2024-04")
        assert apr["move"] is None  # not C[Apr] / C[Feb] - 1
        feb = _one(frame, "2024-02")
        assert feb["fwd_1m"] is None and feb["mdd_1m"] is None
        assert feb["fwd_2m"] == pytest.approx(133.1 / 110 - 1)  # both ends exist
        assert feb["mdd_2m"] is None  # but the path through March is unknown
        assert _one(frame, "2024-01")["fwd_1m"] == pytest.approx(0.10)
        assert _one(frame, "2024-04")["fwd_1m"] == pytest.approx(0.10)

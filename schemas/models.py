"""One model per stage frame, in the order data flows.

Horizon columns (fwd_<h>m, mdd_<h>m) depend on the study's horizons, so they are
matched by regex rather than listed.
"""

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig
from pandera.api.polars.types import PolarsData

from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.frames import is_sorted_by_ticker
from surgewatch.core.vocabulary import VERDICTS


class _Strict(pa.DataFrameModel):
    class Config(BaseConfig):
        strict = False
        coerce = False


class DailyPrices(_Strict):
    """Raw daily bars as every source returns them: one row per (ticker, NYSE session)."""

    ticker: str
    date: pl.Date
    open: float = pa.Field(gt=0)
    high: float = pa.Field(gt=0)
    low: float = pa.Field(gt=0)
    close: float = pa.Field(gt=0)
    adj_close: float = pa.Field(gt=0, nullable=True)
    volume: pl.Int64 = pa.Field(ge=0, nullable=True)

    @pa.dataframe_check(error="ticker is not empty")
    def ticker_not_empty(cls, data: PolarsData) -> pl.LazyFrame:
        # Byte length reads the string view's length; str_length decodes UTF-8 (4x slower).
        return data.lazyframe.select(pl.col("ticker").str.len_bytes() > 0)

    @pa.dataframe_check(error="one row per key (duplicate rows)")
    def one_row_per_ticker_date(cls, data: PolarsData) -> pl.LazyFrame | bool:
        # Sorted with dates strictly rising per ticker proves it in O(n); else hash.
        if is_sorted_by_ticker(data.lazyframe.select("ticker", "date").collect(), "date"):
            return True
        return data.lazyframe.select(~pl.struct("ticker", "date").is_duplicated())

    @pa.dataframe_check(error="high >= max(open, close)")
    def high_is_highest(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("high") >= pl.max_horizontal("open", "close"))

    @pa.dataframe_check(error="low <= min(open, close)")
    def low_is_lowest(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("low") <= pl.min_horizontal("open", "close"))

    @pa.dataframe_check(error="date is an NYSE session")
    def date_is_session(cls, data: PolarsData) -> pl.LazyFrame:
        bounds = data.lazyframe.select(pl.col("date").min().alias("lo"), pl.col("date").max().alias("hi")).collect()
        lo, hi = bounds.row(0)
        if lo is None:
            return data.lazyframe.select(pl.lit(True).alias("date"))
        sessions = nyse_sessions(lo, hi)["date"]
        return data.lazyframe.select(pl.col("date").is_in(sessions.implode()))


class MonthEnd(_Strict):
    """One row per (ticker, calendar month) with data: the month-end close and daily context."""

    ticker: str
    month: pl.Date = pa.Field(description="first day of the month")
    as_of: pl.Date = pa.Field(description="last session of the month present in the data")
    close: float = pa.Field(gt=0, description="close on as_of, on the study's basis")
    complete: bool
    sessions: pl.UInt32 = pa.Field(gt=0)
    up_sessions: pl.UInt32 = pa.Field(ge=0)
    prior_drawdown: float = pa.Field(le=0, nullable=True)
    prior_12m: float = pa.Field(gt=-1, nullable=True, description="C[m-1] / C[m-13] - 1")
    up_share: float = pa.Field(ge=0, le=1, description="up_sessions / sessions")

    @pa.dataframe_check(error="one row per key (duplicate rows)")
    def one_row_per_ticker_month(cls, data: PolarsData) -> pl.LazyFrame | bool:
        if is_sorted_by_ticker(data.lazyframe.select("ticker", "month").collect(), "month"):
            return True
        return data.lazyframe.select(~pl.struct("ticker", "month").is_duplicated())

    @pa.dataframe_check(error="up_sessions <= sessions")
    def up_within_sessions(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("up_sessions") <= pl.col("sessions"))

    @pa.dataframe_check(error="as_of falls inside month")
    def as_of_in_month(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("as_of").dt.truncate("1mo") == pl.col("month"))


class MonthlyReturns(MonthEnd):
    """MonthEnd plus each month's move and its forward returns and drawdowns."""

    move: float = pa.Field(gt=-1, nullable=True)
    fwd: float = pa.Field(gt=-1, nullable=True, regex=True, alias=r"^fwd_\d+m$")
    mdd: float = pa.Field(le=0, ge=-1, nullable=True, regex=True, alias=r"^mdd_\d+m$")


class SignalEvents(MonthlyReturns):
    """The qualifying months: MonthlyReturns rows whose move crossed the threshold."""

    move: float = pa.Field(gt=-1)
    first_crossed_on: pl.Date = pa.Field(nullable=True)

    @pa.dataframe_check(error="first_crossed_on falls inside month")
    def crossed_in_month(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("first_crossed_on").is_null() | (pl.col("first_crossed_on").dt.truncate("1mo") == pl.col("month"))
        )


class SignalSummary(_Strict):
    """Per (ticker, horizon): n, average, median, win rate, Sharpe, max drawdown."""

    ticker: str
    horizon: pl.Int64 = pa.Field(gt=0)
    n: pl.UInt32 = pa.Field(ge=0)
    average: float = pa.Field(nullable=True)
    median: float = pa.Field(nullable=True)
    win_rate: float = pa.Field(ge=0, le=1, nullable=True)
    sharpe: float = pa.Field(nullable=True)
    max_drawdown: float = pa.Field(le=0, ge=-1, nullable=True)

    class Config(BaseConfig):
        strict = False
        unique = ["ticker", "horizon"]


class SignalStats(_Strict):
    """Per (ticker, horizon): the signal-or-noise figures of SPEC §2b."""

    ticker: str
    horizon: pl.Int64 = pa.Field(gt=0)
    n: pl.UInt32 = pa.Field(ge=0)
    n_independent: pl.UInt32 = pa.Field(ge=0)
    average_independent: float = pa.Field(nullable=True)
    excess: float = pa.Field(nullable=True)
    ci_low: float = pa.Field(nullable=True)
    ci_high: float = pa.Field(nullable=True)
    placebo_p: float = pa.Field(ge=0, le=1, nullable=True)
    placebo_percentile: float = pa.Field(ge=0, le=1, nullable=True)
    placebo_draws: pl.UInt32 = pa.Field(ge=0)
    chance_low: float = pa.Field(nullable=True)
    chance_high: float = pa.Field(nullable=True)
    win_p: float = pa.Field(ge=0, le=1, nullable=True)
    t_hac: float = pa.Field(nullable=True)
    q_value: float = pa.Field(ge=0, le=1, nullable=True)
    verdict: str = pa.Field(isin=VERDICTS)

    class Config(BaseConfig):
        strict = False
        unique = ["ticker", "horizon"]

    @pa.dataframe_check(error="ci_low <= ci_high")
    def interval_in_order(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("ci_low").is_null() | (pl.col("ci_low") <= pl.col("ci_high")))

    @pa.dataframe_check(error="chance_low <= chance_high, both set exactly when placebo_p is")
    def band_in_order(cls, data: PolarsData) -> pl.LazyFrame:
        band = pl.col("chance_low").is_not_null() & (pl.col("chance_low") <= pl.col("chance_high"))
        return data.lazyframe.select(
            pl.when(pl.col("placebo_p").is_null()).then(pl.col("chance_low").is_null()).otherwise(band)
        )

    @pa.dataframe_check(error="n_independent <= n")
    def independent_within_n(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("n_independent") <= pl.col("n"))

"""Against a benchmark (SPEC §2d): relative forward returns, returns since a date, and
the daily path after the events. Pure functions of polars frames."""

import datetime as dt
from collections.abc import Sequence

import polars as pl

from surgewatch.core.vocabulary import drawdown_column, forward_column


def relative_returns(monthly: pl.DataFrame, benchmark: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """monthly with fwd_hm replaced by the buy-and-hold abnormal return
    rel_fwd_hm = fwd_hm(ticker) − fwd_hm(B), B's row of the same month (benchmark: one
    ticker's monthly returns); null where either is null. mdd_hm is null: a drawdown of
    the difference is no figure of the spec."""
    fwd = [forward_column(h) for h in horizons]
    theirs = benchmark.select("month", *(pl.col(c).alias(f"_b_{c}") for c in fwd))
    return (
        monthly.join(theirs, on="month", how="left", maintain_order="left")
        .with_columns(
            *((pl.col(c) - pl.col(f"_b_{c}")).alias(c) for c in fwd),
            *(pl.lit(None, dtype=pl.Float64).alias(drawdown_column(h)) for h in horizons),
        )
        .drop(f"_b_{c}" for c in fwd)
    )


def returns_since(
    prices: pl.DataFrame, tickers: Sequence[str], since: dt.date, as_of: dt.date, column: str = "close"
) -> pl.DataFrame:
    """Per ticker of `tickers`, in that order: start_date = its last session before
    `since`, end_date = its last session on or before `as_of`, return = C[end] / C[start] − 1,
    and vs_first = return − the first ticker's return. A ticker with no session before
    `since` has null start_date and return."""
    order = pl.DataFrame({"ticker": list(tickers)}, schema={"ticker": pl.String})
    start = (
        prices.filter(pl.col("date") < since)
        .group_by("ticker")
        .agg(start_date=pl.col("date").max(), _start=pl.col(column).sort_by("date").last())
    )
    end = (
        prices.filter(pl.col("date") <= as_of)
        .group_by("ticker")
        .agg(end_date=pl.col("date").max(), _end=pl.col(column).sort_by("date").last())
    )
    out = order.join(start, on="ticker", how="left", maintain_order="left").join(
        end, on="ticker", how="left", maintain_order="left"
    )
    out = out.with_columns(**{"return": pl.col("_end") / pl.col("_start") - 1})
    return out.select(
        "ticker", "start_date", "end_date", "return", vs_first=pl.col("return") - pl.col("return").first()
    )


def event_paths(prices: pl.DataFrame, anchors: pl.DataFrame, sessions: int, column: str = "close") -> pl.DataFrame:
    """(anchor, d, date, path) for d = 0 … sessions: path = C[t + d] / C[t] − 1, t the
    anchor's date (a session of prices, one ticker's) and t + d (`date`) the d-th session
    after it in the prices; rows only where that session exists. anchors: (anchor, date)."""
    indexed = prices.select("date", pl.col(column).alias("_c")).sort("date").with_row_index("_i")
    start = anchors.join(indexed, on="date").select("anchor", "_i", _c0="_c")
    steps = pl.DataFrame({"d": pl.int_range(0, sessions + 1, eager=True, dtype=pl.UInt32)})
    return (
        start.join(steps, how="cross")
        .with_columns(_j=pl.col("_i") + pl.col("d"))
        .join(indexed.select(_j="_i", date="date", _cd="_c"), on="_j")
        .select("anchor", "d", "date", path=pl.col("_cd") / pl.col("_c0") - 1)
        .sort("anchor", "d")
    )


def relative_paths(
    paths: pl.DataFrame, anchors: pl.DataFrame, benchmark: pl.DataFrame, column: str = "close"
) -> pl.DataFrame:
    """paths less B's over the same dates: path − (B[date] / B[t] − 1), t the anchor's
    date; a row whose date, or anchor date, B has no close for is dropped."""
    bench = benchmark.select("date", _b=pl.col(column))
    return (
        paths.join(anchors.select("anchor", _t="date"), on="anchor")
        .join(bench.select(_t="date", _b0="_b"), on="_t")
        .join(bench, on="date")
        .select("anchor", "d", "date", path=pl.col("path") - (pl.col("_b") / pl.col("_b0") - 1))
        .sort("anchor", "d")
    )


def path_summary(paths: pl.DataFrame) -> pl.DataFrame:
    """Per d: n, mean, median, p25, p75 of path over the anchors (linear quantiles, as
    numpy's default)."""
    path = pl.col("path")
    return (
        paths.group_by("d")
        .agg(
            n=pl.len().cast(pl.UInt32),
            mean=path.mean(),
            median=path.median(),
            p25=path.quantile(0.25, "linear"),
            p75=path.quantile(0.75, "linear"),
        )
        .sort("d")
    )

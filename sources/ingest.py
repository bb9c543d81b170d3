"""Stored prices + freshly fetched prices → what changed, and whether history was restated.

The fetch's own bookkeeping (sources/incremental.py uses it), not a figure of the study."""

import polars as pl

from surgewatch.core.vocabulary import BAR_COLUMNS, PRICE_KEY

KEY = list(PRICE_KEY)
VALUES = list(BAR_COLUMNS)
# Providers re-send the overlap window as float32-rounded text; anything closer than
# this is the same number, anything further is a restatement.
RESTATEMENT_TOLERANCE = 1e-6


def restated_prices(stored: pl.DataFrame, fetched: pl.DataFrame) -> pl.DataFrame:
    """(ticker, date, column, stored, fetched) for each overlapping session whose close
    (a split) or adj_close (a new dividend) moved: |fetched / stored - 1| > 1e-6.

    A value present on one side only counts as moved for adj_close, since a provider
    that starts or stops adjusting has restated the series.
    """
    both = stored.join(fetched, on=KEY, suffix="_new")
    moved = [
        both.filter(
            ((pl.col(f"{c}_new") / pl.col(c) - 1).abs() > RESTATEMENT_TOLERANCE)
            | (pl.col(c).is_null() != pl.col(f"{c}_new").is_null())
        ).select(*KEY, pl.lit(c).alias("column"), pl.col(c).alias("stored"), pl.col(f"{c}_new").alias("fetched"))
        for c in ("close", "adj_close")
    ]
    return pl.concat(moved).sort(*KEY, "column")


def new_prices(stored: pl.DataFrame, fetched: pl.DataFrame) -> pl.DataFrame:
    """The fetched rows that are not already stored with the same values (rows to write)."""
    return fetched.join(stored.select(*KEY, *VALUES), on=[*KEY, *VALUES], how="anti", nulls_equal=True).sort(KEY)


def merged_prices(stored: pl.DataFrame, fetched: pl.DataFrame) -> pl.DataFrame:
    """Stored rows overlaid with fetched ones: on the same (ticker, date) the fetched row wins."""
    kept = stored.join(fetched.select(KEY), on=KEY, how="anti")
    return pl.concat([kept.select(fetched.columns), fetched]).sort(KEY)


def dividend_adjusted(prices: pl.DataFrame, dividends: pl.DataFrame) -> pl.DataFrame:
    """One ticker's prices (sorted by date) with adj_close re-based for `dividends`
    (date = ex-date, amount = cash per share): every row before an ex-date D has its
    adj_close multiplied by 1 − amount / C, C the close of the last session before D
    (the standard factor, CRSP's and Yahoo's), so a total return across D stays exact;
    rows from D on keep theirs. A dividend with no session before it changes nothing."""
    adjusted = prices
    for ex_date, amount in dividends.sort("date").select("date", "amount").iter_rows():
        before = prices.filter(pl.col("date") < ex_date)
        if before.is_empty():
            continue
        factor = 1 - amount / before["close"][-1]
        adjusted = adjusted.with_columns(
            pl.when(pl.col("date") < ex_date).then(pl.col("adj_close") * factor).otherwise(pl.col("adj_close"))
        )
    return adjusted

"""Data-quality findings: what the data lacks, reported and never silently filled."""

import polars as pl


def missing_sessions(prices: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """(ticker, date) for every NYSE session between a ticker's first and last row that
    has no row. Counts are compared first so only short tickers pay for the anti-join.
    """
    calendar = sessions["date"].sort()
    spans = prices.group_by("ticker").agg(
        pl.col("date").min().alias("first"), pl.col("date").max().alias("last"), pl.len().alias("rows")
    )
    expected = calendar.search_sorted(spans["last"], side="right") - calendar.search_sorted(
        spans["first"], side="left"
    )
    short = spans.filter(pl.Series(expected).cast(pl.UInt32) > pl.col("rows"))
    if short.is_empty():
        return pl.DataFrame(schema={"ticker": pl.Utf8, "date": pl.Date})
    return (
        short.join(sessions.select("date"), how="cross")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("last")))
        .join(prices.select("ticker", "date"), on=["ticker", "date"], how="anti")
        .select("ticker", "date")
        .sort("ticker", "date")
    )

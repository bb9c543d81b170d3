"""Data-quality findings: what the data lacks, reported and never silently filled."""

import polars as pl

from surgewatch.frames import in_order, ticker_runs


def missing_sessions(prices: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """(ticker, date) for every NYSE session between a ticker's first and last row that
    has no row. Counts are compared first so only short tickers pay for the anti-join,
    and only their rows are read for it.
    """
    calendar = sessions["date"].sort()
    all_runs = ticker_runs(prices)
    runs = all_runs if in_order(prices, "date", all_runs) else None
    if runs is not None:  # spans from run boundaries: no hashing
        dates = prices["date"]
        spans = runs.select(
            "ticker",
            dates.gather(runs["start"]).alias("first"),
            dates.gather(runs["start"] + runs["rows"] - 1).alias("last"),
            pl.col("rows"),
        )
    else:
        spans = prices.group_by("ticker").agg(
            pl.col("date").min().alias("first"), pl.col("date").max().alias("last"), pl.len().alias("rows")
        )
    expected = calendar.search_sorted(spans["last"], side="right") - calendar.search_sorted(
        spans["first"], side="left"
    )
    short = spans.filter(pl.Series(expected).cast(pl.UInt32) > pl.col("rows"))
    if short.is_empty():
        return pl.DataFrame(schema={"ticker": pl.Utf8, "date": pl.Date})
    if runs is not None:  # only the short tickers' rows, sliced out
        where = runs.join(short.select("ticker"), on="ticker", how="semi")
        present = pl.concat(
            [prices.select("ticker", "date").slice(start, rows) for start, rows in where.select("start", "rows").rows()]
        ).lazy()
    else:
        present = prices.lazy().select("ticker", "date").filter(pl.col("ticker").is_in(short["ticker"].implode()))
    return (
        short.lazy()
        .join(sessions.lazy().select("date"), how="cross")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("last")))
        .join(present, on=["ticker", "date"], how="anti")
        .select("ticker", "date")
        .sort("ticker", "date")
        .collect()
    )

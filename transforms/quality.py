"""Data-quality findings: what the data lacks, reported and never silently filled."""

import polars as pl

from surgewatch.core.frames import sorted_with_runs


def missing_sessions(prices: pl.DataFrame, sessions: pl.DataFrame, runs: pl.DataFrame | None = None) -> pl.DataFrame:
    """(ticker, date) for every NYSE session between a ticker's first and last row that
    has no row. Counts are compared first so only short tickers pay for the anti-join,
    and only their rows are read for it; each ticker's rows are one slice of the frame
    sorted by (ticker, date), so nothing is hashed until then. runs: prices'
    (sorted_with_runs), when the caller has them.
    """
    calendar = sessions["date"].sort()
    prices, runs = sorted_with_runs(prices, "date", runs)
    dates = prices["date"]
    spans = runs.select(
        "ticker",
        dates.gather(runs["start"]).alias("first"),
        dates.gather(runs["start"] + runs["rows"] - 1).alias("last"),
        pl.col("rows"),
    )
    expected = calendar.search_sorted(spans["last"], side="right") - calendar.search_sorted(spans["first"], side="left")
    short = spans.filter(pl.Series(expected).cast(pl.UInt32) > pl.col("rows"))
    if short.is_empty():
        return pl.DataFrame(schema={"ticker": pl.Utf8, "date": pl.Date})
    where = runs.join(short.select("ticker"), on="ticker", how="semi")
    present = pl.concat(
        [prices.select("ticker", "date").slice(start, rows) for start, rows in where.select("start", "rows").rows()]
    ).lazy()
    return (
        short.lazy()
        .join(sessions.lazy().select("date"), how="cross")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("last")))
        .join(present, on=["ticker", "date"], how="anti")
        .select("ticker", "date")
        .sort("ticker", "date")
        .collect()
    )

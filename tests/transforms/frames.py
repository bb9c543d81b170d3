"""Small hand-made price frames for transform tests."""

import datetime as dt

import polars as pl

from surgewatch.core.calendar import nyse_sessions


def daily(ticker: str, closes: dict[str, float], adj: dict[str, float] | None = None) -> pl.DataFrame:
    """A DailyPrices frame with open = high = low = close on the given ISO dates."""
    dates = [dt.date.fromisoformat(d) for d in closes]
    values = list(closes.values())
    return pl.DataFrame(
        {
            "ticker": [ticker] * len(dates),
            "date": dates,
            "open": values,
            "high": values,
            "low": values,
            "close": values,
            "adj_close": [None if adj is None else adj[d] for d in closes],
            "volume": [1000] * len(dates),
        },
        schema_overrides={"adj_close": pl.Float64, "volume": pl.Int64},
    )


def month_end_closes(ticker: str, closes: list[float], start: str = "2024-01") -> pl.DataFrame:
    """One row per month on that month's last NYSE session: a series whose month-end
    closes are exactly `closes`, starting with month `start`."""
    first = dt.date.fromisoformat(start + "-01")
    months = pl.date_range(first, first.replace(year=first.year + 10), "1mo", eager=True)[: len(closes)]
    sessions = nyse_sessions(months[0], months[-1])
    last = sessions.group_by(pl.col("date").dt.month_start().alias("m")).agg(pl.col("date").max()).sort("m")
    return daily(ticker, {d.isoformat(): c for d, c in zip(last["date"][: len(closes)], closes)})


def sessions_for(prices: pl.DataFrame) -> pl.DataFrame:
    """The NYSE sessions covering prices' months."""
    return nyse_sessions(prices["date"].min(), prices["date"].max())

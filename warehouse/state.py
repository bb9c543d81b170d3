"""What a night reads: each ticker's span of sessions, the daily rows its recomputed
months need, and the published results it builds on (surgewatch.study.update).

Never the whole price history: a night reads a window of about 330 sessions per ticker
and the month-end rows (one per ticker-month), which a next night turns into the new
version's tables.
"""

from collections.abc import Sequence

import polars as pl

from surgewatch.core.vocabulary import PRICE_COLUMNS
from surgewatch.warehouse.readers import Reader

_PRICES = ", ".join(f"p.{c}" for c in PRICE_COLUMNS)


def session_spans(reader: Reader) -> pl.DataFrame:
    """(ticker, first_session, last_session) of every stored ticker, by ticker."""
    return reader.read(
        "SELECT ticker, min(date) AS first_session, max(date) AS last_session "
        "FROM prices_daily GROUP BY ticker ORDER BY ticker"
    )


def price_window(reader: Reader, starts: pl.DataFrame) -> pl.DataFrame:
    """Stored daily rows of each ticker of starts (ticker, start) dated on or after its
    start, as the raw frame sorted by (ticker, date)."""
    frame = starts.select("ticker", "start")
    return reader.read_with(
        frame,
        f"SELECT {_PRICES} FROM prices_daily AS p JOIN _sw_keys AS k ON p.ticker = k.ticker AND p.date >= k.start "
        "ORDER BY p.ticker, p.date",
    )


def published_results(
    reader: Reader, since: pl.DataFrame, columns: Sequence[str], recent_months: int
) -> dict[str, pl.DataFrame]:
    """The published rows of the tickers of since (ticker, since), by table: month_end
    with `columns` only, "recent" with every month_end column from `recent_months`
    before each ticker's since on, signal_events and signal_stats."""
    keys = since.select("ticker", "since")
    picked = ", ".join(f't."{c}"' for c in columns)
    queries = {
        "month_end": f"SELECT {picked} FROM month_end AS t SEMI JOIN _sw_keys AS k ON t.ticker = k.ticker",
        "recent": "SELECT t.* FROM month_end AS t JOIN _sw_keys AS k ON t.ticker = k.ticker "
        f"AND t.month >= k.since - INTERVAL {int(recent_months)} MONTH",
        "signal_events": "SELECT t.* FROM signal_events AS t SEMI JOIN _sw_keys AS k ON t.ticker = k.ticker",
        "signal_stats": "SELECT t.* FROM signal_stats AS t SEMI JOIN _sw_keys AS k ON t.ticker = k.ticker",
    }
    return {table: reader.read_with(keys, f"{query} ORDER BY t.ticker, 2") for table, query in queries.items()}

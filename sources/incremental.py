"""Where each ticker's next fetch starts: incremental state is the warehouse's last session."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

from surgewatch.sources.base import PriceSource
from surgewatch.calendar import nyse_sessions
from surgewatch.errors import SourceError
from surgewatch.sources.ingest import merged_prices, new_prices, restated_prices

# Re-fetching a week of sessions we already hold is how a restatement (a new dividend
# moving adj_close, a split moving close) is noticed without downloading everything.
OVERLAP_SESSIONS = 5


def fetch_start(last_session: dt.date | None, *, full: bool = False, overlap: int = OVERLAP_SESSIONS) -> dt.date | None:
    """None (full history) when nothing is stored or full is asked; else the session
    `overlap` sessions before the last stored one."""
    if full or last_session is None:
        return None
    sessions = nyse_sessions(last_session - dt.timedelta(days=3 * overlap + 10), last_session)["date"]
    earlier = sessions.filter(sessions <= last_session)
    return earlier[max(len(earlier) - overlap, 0)]


@dataclass(frozen=True)
class Fetched:
    """One ticker's fetch: the rows to merge, and whether they replace its whole history."""

    ticker: str
    prices: pl.DataFrame
    full_history: bool
    restated: pl.DataFrame
    requests: int


def fetch_incremental(
    source: PriceSource,
    ticker: str,
    stored: pl.DataFrame,
    *,
    as_of: dt.date | None,
    full: bool = False,
) -> Fetched:
    """Fetch from the last stored session minus the overlap window (or everything when
    nothing is stored or full is asked). When the overlap shows the provider restated
    history, fetch the full history instead, so old rows never mix two adjustment bases.

    `stored` holds the ticker's stored rows (only the window's are compared).
    """
    last: dt.date | None = stored["date"].max() if stored.height else None  # type: ignore[assignment]  # max of a Date column
    start = fetch_start(last, full=full)
    fetched = _not_empty(source, ticker, start, as_of, source.daily_prices(ticker, start, as_of))
    if start is None:
        return Fetched(ticker, fetched, True, restated_prices(stored, fetched), 1)
    restated = restated_prices(stored.filter(pl.col("date") >= start), fetched)
    if restated.is_empty():
        return Fetched(ticker, fetched, False, restated, 1)
    history = _not_empty(source, ticker, None, as_of, source.daily_prices(ticker, None, as_of))
    return Fetched(ticker, history, True, restated, 2)


def _not_empty(source: PriceSource, ticker: str, start: dt.date | None, end: dt.date | None, bars: pl.DataFrame) -> pl.DataFrame:
    """The bars, or SourceError when a provider answered none for a range that must hold some.

    A full-history request always must; an incremental one starts on a stored session, so
    an empty answer means the provider lost the ticker (or answered nonsense), not that
    nothing happened. Published as is, it would replace a history with nothing (full) or
    report a healthy ticker that silently stopped updating (incremental).
    """
    if bars.height or (start is not None and end is not None and start > end):
        return bars
    window = f"from {start}" if start is not None else "for its whole history"
    raise SourceError(ticker, f"empty answer ({source.name}: no bars {window}{f' to {end}' if end else ''})")


@dataclass(frozen=True)
class Ingested:
    """The universe after this run's fetches, and what the warehouse must write for it."""

    prices: pl.DataFrame
    to_write: pl.DataFrame
    replace_history: frozenset[str]
    rows_ingested: dict[str, int]
    restated: tuple[str, ...]


def ingested(stored: pl.DataFrame, fetches: list[Fetched]) -> Ingested:
    """Overlay each fetch on the stored prices of its ticker.

    A full-history fetch replaces the ticker's stored series; an incremental one adds
    the sessions it brought and overwrites the overlap. rows_ingested counts the rows
    that are new, changed or gone, so a re-run of the same night counts 0.
    """
    tickers = [f.ticker for f in fetches]
    whole = [f.ticker for f in fetches if f.full_history]
    fetched = pl.concat([f.prices for f in fetches]) if fetches else stored.head(0)
    before = stored.filter(pl.col("ticker").is_in(tickers))
    after = merged_prices(before.filter(~pl.col("ticker").is_in(whole)), fetched)
    changed = new_prices(before, fetched)
    gone = before.join(after, on=["ticker", "date"], how="anti")
    counts = pl.concat([changed.select("ticker"), gone.select("ticker")])["ticker"].value_counts()
    rows = dict.fromkeys(tickers, 0) | dict(zip(counts["ticker"], counts["count"]))
    return Ingested(
        prices=after,
        to_write=pl.concat([changed.filter(~pl.col("ticker").is_in(whole)), fetched.filter(pl.col("ticker").is_in(whole))]),
        replace_history=frozenset(whole),
        rows_ingested=rows,
        restated=tuple(f.ticker for f in fetches if f.restated.height),
    )

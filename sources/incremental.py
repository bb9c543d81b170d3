"""Where each ticker's next fetch starts: incremental state is the warehouse's last session."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

from surgewatch.sources.base import PriceSource
from surgewatch.calendar import nyse_sessions
from surgewatch.errors import SourceError
from surgewatch.sources.ingest import KEY, VALUES, merged_prices, new_prices, restated_prices

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


def _not_empty(
    source: PriceSource, ticker: str, start: dt.date | None, end: dt.date | None, bars: pl.DataFrame
) -> pl.DataFrame:
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

    Memory: a first load is all full-history fetches, tens of millions of rows at
    thousands of tickers. Their frames are concatenated without copying (pl.concat
    does not rechunk) in ticker order and serve as `prices` and `to_write` as they
    are; only a night that overlays stored rows makes a sorted copy. Rows equal to
    stored ones are found with a semi join, skipped when nothing is stored yet.
    """
    tickers = [f.ticker for f in fetches]
    whole = [f.ticker for f in fetches if f.full_history]
    empty = stored.head(0)
    # Each fetch is sorted by date (PriceSource), so in ticker order they are sorted by KEY.
    in_order = sorted(fetches, key=lambda f: f.ticker)
    replaced = pl.concat([f.prices for f in in_order if f.full_history] or [empty])
    overlay = pl.concat([f.prices for f in in_order if not f.full_history] or [empty])
    before = stored.filter(pl.col("ticker").is_in(tickers))
    kept_before = before.filter(~pl.col("ticker").is_in(whole))
    if kept_before.is_empty() and overlay.is_empty():
        after = replaced  # a first load: the fetched frames themselves, no sorted copy
    else:
        after = pl.concat([merged_prices(kept_before, overlay), replaced]).sort(KEY)
    changed = new_prices(kept_before, overlay)
    # Even an empty right side costs a join's row encoding of the left: skip it then.
    unchanged = (
        empty
        if before.is_empty()
        else replaced.join(before.select(*KEY, *VALUES), on=[*KEY, *VALUES], how="semi", nulls_equal=True)
    )
    gone = empty if before.is_empty() else before.join(after, on=KEY, how="anti")
    counts: dict[str, int] = {}
    for frame, sign in ((changed, 1), (gone, 1), (replaced, 1), (unchanged, -1)):
        for ticker, n in frame["ticker"].value_counts().iter_rows():
            counts[ticker] = counts.get(ticker, 0) + sign * n
    return Ingested(
        prices=after,
        to_write=pl.concat([changed, replaced]),
        replace_history=frozenset(whole),
        rows_ingested=dict.fromkeys(tickers, 0) | counts,
        restated=tuple(f.ticker for f in fetches if f.restated.height),
    )

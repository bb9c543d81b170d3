"""Where each ticker's next fetch starts: incremental state is the warehouse's last session.

A night fetches its tickers in batches (fetch_many): each ticker as fetch_incremental
fetches it, several side by side, a failure or a retry ending or delaying only its own.
"""

import contextvars
import functools
import datetime as dt
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from surgewatch.sources.base import PriceSource, empty_frame
from surgewatch.core.calendar import sessions_through
from surgewatch.core.errors import SourceError
from surgewatch.sources.ingest import restated_prices
from surgewatch.core.frames import latest_date

# Re-fetching a week of sessions we already hold is how a restatement (a new dividend
# moving adj_close, a split moving close) is noticed without downloading everything.
OVERLAP_SESSIONS = 5
# Requests to one provider overlap this many at a time: enough to hide a round trip's
# latency behind the others, fewer than requests' 10 pooled connections per host.
FETCH_WORKERS = 8
# A ticker failing transiently (timeout, 429, 5xx) gets this many more attempts, the
# waits doubling from TRANSIENT_BACKOFF seconds (10 s, 20 s; up to half as much again of
# jitter): what the per-ticker Prefect task's retries allowed before fetches were batched.
TRANSIENT_RETRIES = 2
TRANSIENT_BACKOFF = 10.0

T = TypeVar("T")


@functools.lru_cache(maxsize=64)  # a night's tickers share a handful of last sessions
def fetch_start(last_session: dt.date | None, *, full: bool = False, overlap: int = OVERLAP_SESSIONS) -> dt.date | None:
    """None (full history) when nothing is stored or full is asked; else the session
    `overlap` sessions before the last stored one."""
    if full or last_session is None:
        return None
    return sessions_through(last_session, overlap)[0]


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
    last = latest_date(stored["date"])
    start = fetch_start(last, full=full)
    fetched = _not_empty(source, ticker, start, as_of, source.daily_prices(ticker, start, as_of))
    if start is None:
        return Fetched(ticker, fetched, True, restated_prices(stored, fetched), 1)
    restated = restated_prices(stored.filter(pl.col("date") >= start), fetched)
    if restated.is_empty():
        return Fetched(ticker, fetched, False, restated, 1)
    history = _not_empty(source, ticker, None, as_of, source.daily_prices(ticker, None, as_of))
    return Fetched(ticker, history, True, restated, 2)


# One ticker's end in a batch: its fetch, or what failed it.
Outcome = Fetched | Exception


@dataclass(frozen=True)
class Pace:
    """How fetch_many goes: requests side by side, and how patient with a transient failure."""

    workers: int = FETCH_WORKERS
    retries: int = TRANSIENT_RETRIES
    backoff: float = TRANSIENT_BACKOFF


def stored_tails(stored: pl.DataFrame, *, whole: Collection[str] = ()) -> dict[str, pl.DataFrame]:
    """Each stored ticker's rows that its next fetch compares: those from the start of its
    overlap window on (see fetch_start), or all of them for a ticker in `whole`, whose
    re-fetched history is compared with everything stored (Fetched.restated).

    A night's batch then carries a few rows per ticker instead of 30-year histories.
    """
    if stored.is_empty():
        return {}
    lasts = stored.lazy().group_by("ticker").agg(last=pl.col("date").max()).collect()
    # Every ticker updated on the same night shares its last session: one look-up each.
    distinct = lasts["last"].unique().to_list()
    starts = pl.LazyFrame(
        {"last": distinct, "start": [fetch_start(d) for d in distinct]}, schema_overrides={"start": pl.Date}
    )
    # Lazy, so the join's result is filtered as it is made, not copied whole first.
    kept = (
        stored.lazy()
        .join(lasts.lazy().join(starts, on="last").select("ticker", "start"), on="ticker", maintain_order="left")
        .filter((pl.col("date") >= pl.col("start")) | pl.col("ticker").is_in(list(whole)))
        .select(stored.columns)
        .collect()
    )
    return {ticker: rows for (ticker,), rows in kept.partition_by("ticker", as_dict=True, maintain_order=True).items()}


def fetch_many(
    source: PriceSource,
    tickers: Sequence[str],
    stored: Mapping[str, pl.DataFrame],
    *,
    as_of: dt.date | None,
    whole: Collection[str] = frozenset(),
    workers: int = FETCH_WORKERS,
    retries: int = TRANSIENT_RETRIES,
    backoff: float = TRANSIENT_BACKOFF,
    on_done: Callable[[str, Outcome], None] | None = None,
) -> list[Outcome]:
    """Each ticker fetched as fetch_incremental does (`full` for those in `whole`), several
    at a time: the outcomes in the order of `tickers`, each a Fetched or the exception
    that failed that ticker alone.

    `stored` maps a ticker to its stored rows (stored_tails: its overlap window suffices);
    a ticker without an entry has nothing stored, so its whole history is fetched.
    A SourceError marked transient is retried `retries` times, after `backoff` seconds,
    then twice that, ... plus jitter, so tickers that failed together do not ask again
    together; any other failure ends the ticker at once. `on_done(ticker, outcome)` is
    called in the calling thread as each ticker ends, in the order they end.

    The fetches run on `workers` threads: sources are I/O bound, and the HTTP ones pace
    and retry each request thread-safely (sources.http), so overlapping requests only
    hides latency; they never exceed the provider's pace.
    """
    if not tickers:
        return []
    if hasattr(source, "fetch_night"):  # a bulk source (sources.bulk) fetches a night its own way
        return source.fetch_night(
            tickers, stored, as_of, whole, on_done, Pace(workers, retries, backoff)
        )  # sources.bulk.BulkSource.fetch_night
    if hasattr(source, "daily_prices_many"):
        return _fetch_together(source, tickers, stored, as_of, whole, on_done)
    nothing = empty_frame()
    ended: dict[int, Outcome] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(tickers))), thread_name_prefix="fetch")
    try:
        # Each fetch runs in a copy of the caller's context (Prefect's run context among
        # it), as it would inline; one copy per fetch, since a context is entered by one
        # thread at a time.
        futures = {
            pool.submit(
                contextvars.copy_context().run,
                _fetch_retried,
                source,
                ticker,
                stored.get(ticker, nothing),
                as_of,
                ticker in whole,
                retries,
                backoff,
            ): i
            for i, ticker in enumerate(tickers)
        }
        for future in as_completed(futures):
            i = futures[future]
            outcome = ended[i] = future.result()
            if on_done is not None:
                on_done(tickers[i], outcome)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [ended[i] for i in range(len(tickers))]


def _fetch_together(
    source: PriceSource,
    tickers: Sequence[str],
    stored: Mapping[str, pl.DataFrame],
    as_of: dt.date | None,
    whole: Collection[str],
    on_done: Callable[[str, Outcome], None] | None,
) -> list[Outcome]:
    """fetch_many for a source that reads many tickers in one call (daily_prices_many):
    the same outcomes, every window asked at once, restatements found in one join."""
    nothing = empty_frame()
    last = {t: latest_date(stored[t]["date"]) if t in stored else None for t in tickers}
    starts = {t: fetch_start(last[t], full=t in whole) for t in tickers}
    answers = source.daily_prices_many(starts, as_of)  # type: ignore[attr-defined]  # checked by the caller
    outcomes: dict[str, Outcome] = {}
    fetched: dict[str, pl.DataFrame] = {}
    for t in tickers:
        answer = answers[t]
        if isinstance(answer, Exception):
            outcomes[t] = answer
            continue
        try:
            fetched[t] = _not_empty(source, t, starts[t], as_of, answer)
        except SourceError as exc:
            outcomes[t] = exc
    overlap = [t for t in fetched if starts[t] is not None]
    restated = (
        restated_prices(
            pl.concat([stored[t].filter(pl.col("date") >= starts[t]) for t in overlap if t in stored] or [nothing]),
            pl.concat([fetched[t] for t in overlap] or [nothing]),
        )
        if overlap
        else nothing.head(0)
    )
    moved = set(restated["ticker"].unique()) if restated.height else set()
    unmoved = restated_prices(nothing, nothing)
    for t, frame in fetched.items():
        if starts[t] is None:
            # A ticker with nothing stored (a first load's every ticker) has nothing to compare.
            outcomes[t] = Fetched(t, frame, True, restated_prices(stored[t], frame) if t in stored else unmoved, 1)
        elif t in moved:
            outcomes[t] = _refetched(source, t, as_of, restated.filter(pl.col("ticker") == t))
        else:
            outcomes[t] = Fetched(t, frame, False, restated.head(0), 1)
    for t in tickers:
        if on_done is not None:
            on_done(t, outcomes[t])
    return [outcomes[t] for t in tickers]


def _refetched(source: PriceSource, ticker: str, as_of: dt.date | None, restated: pl.DataFrame) -> Outcome:
    """A restated ticker's whole history, as fetch_incremental fetches it."""
    try:
        history = _not_empty(source, ticker, None, as_of, source.daily_prices(ticker, None, as_of))
    except Exception as exc:  # noqa: BLE001  (one ticker's failure is its own)
        return exc
    return Fetched(ticker, history, True, restated, 2)


def _fetch_retried(
    source: PriceSource,
    ticker: str,
    stored: pl.DataFrame,
    as_of: dt.date | None,
    full: bool,
    retries: int,
    backoff: float,
) -> Outcome:
    try:
        return retried(lambda: fetch_incremental(source, ticker, stored, as_of=as_of, full=full), retries, backoff)
    except Exception as exc:  # noqa: BLE001  (one ticker's failure, whatever it is, is its own)
        return exc


def retried(call: Callable[[], T], retries: int, backoff: float) -> T | SourceError:
    """call(), again after a transient SourceError up to `retries` more times, waiting
    backoff · 2^attempt · (1 + U(0, 0.5)) s before each (the jitter spreads many tickers'
    retries apart); the SourceError when it is not transient or the attempts run out."""
    attempt = 0
    while True:
        try:
            return call()
        except SourceError as exc:
            if not exc.transient or attempt >= retries:
                return exc
        time.sleep(backoff * 2**attempt * (1 + random.uniform(0, 0.5)))
        attempt += 1


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

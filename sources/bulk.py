"""A bulk source: a night's bars for the whole universe in one request per session.

Histories (a new ticker, `--full`, a split) come from a per-ticker provider (`history`,
SURGEWATCH_HISTORY_SOURCE); nights from the market-wide answer (sources.polygon). A
night asks for each session after the universe's last stored one (usually one), the
splits and the dividends of those days (one request each), whatever the number of
tickers; the answers are kept for the night, so every batch of tickers shares them.

What a ticker's night becomes:
- listed on every new session: its new bars (adj_close = close: the basis has no later
  dividend yet, as the provider's own adjusted series starts at today's close);
- a split after its last stored session: its history re-fetched from `history`, as a
  restatement is on a per-ticker source;
- a dividend going ex after it: its adj_close re-derived from its stored history
  (sources.ingest.dividend_adjusted), so no history is re-fetched; the refresh reads
  such tickers whole (`rederived` names them before it plans);
- missing from a session's answer: failed for the night, the others published.

A ticker whose own history stops earlier (delisted, halted) is not asked for its gap,
session by session: it fails the night when the new sessions do not list it either.
"""

import bisect
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence

import polars as pl

from surgewatch.core.calendar import NEW_YORK, nyse_sessions, sessions_through
from surgewatch.core.errors import SourceError
from surgewatch.core.frames import latest_date
from surgewatch.sources.base import PriceSource, finish_bars
from surgewatch.sources.incremental import (
    TRANSIENT_BACKOFF,
    TRANSIENT_RETRIES,
    Fetched,
    Outcome,
    Pace,
    fetch_many,
    retried,
)
from surgewatch.sources.ingest import dividend_adjusted, restated_prices
from surgewatch.sources.polygon import PolygonClient

log = logging.getLogger(__name__)

# A session the provider has not published yet is asked for again after each of these
# waits (seconds), then the night's tickers fail: its bars usually land within the hour.
UNPUBLISHED_WAITS = (900.0, 900.0, 900.0, 900.0)
# Without an as_of, a night reaches the latest session closed by then: a session's bars
# are not asked for before this New York time of its day (the close, 16:00, plus margin).
BARS_FROM = dt.time(17, 0)


def night_end(as_of: dt.date | None, now: dt.datetime | None = None) -> dt.date:
    """The last session a night asks for: as_of, or the latest one closed at `now`
    (today after BARS_FROM New York time, else the session before)."""
    if as_of is not None:
        return as_of
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(NEW_YORK)
    day = now.date() if now.time() >= BARS_FROM else now.date() - dt.timedelta(days=1)
    return sessions_through(day, 1)[0]


class BulkSource:
    """PriceSource for histories (delegated to `history`) plus a night for many tickers at once."""

    def __init__(self, client: PolygonClient, history: PriceSource):
        self.name = client.name
        self.history = history
        self._client = client
        self._lock = threading.Lock()
        self._days: dict[dt.date, pl.DataFrame | SourceError] = {}
        self._actions: tuple[dt.date, dt.date, pl.DataFrame, pl.DataFrame] | None = None
        # The universe's latest stored session, once rederived has seen them all.
        self._latest = dt.date.min

    def daily_prices(self, ticker: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        """A ticker's bars from the history provider (see PriceSource)."""
        return self.history.daily_prices(ticker, start, end)

    def rederived(self, last_sessions: Mapping[str, dt.date], as_of: dt.date | None) -> frozenset[str]:
        """The stored tickers whose adj_close a night re-derives (a dividend going ex
        after their last session): the refresh hands fetch_night their whole stored
        history. Raises SourceError when the dividends cannot be read."""
        if not last_sessions:
            return frozenset()
        self._latest = max(self._latest, *last_sessions.values())
        _, dividends = self.actions(self._latest + dt.timedelta(days=1), night_end(as_of))
        return frozenset(_paid(dividends, last_sessions))

    def actions(self, first: dt.date, last: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(splits, dividends) over [first, last], asked once a night: a later call within
        the range asked before is answered from it."""
        with self._lock:
            held = self._actions
            if held is None or not (held[0] <= first and last <= held[1]):
                if held is not None:
                    first, last = min(first, held[0]), max(last, held[1])
                held = self._actions = (
                    first,
                    last,
                    self._client.splits(first, last),
                    self._client.dividends(first, last),
                )
        return held[2], held[3]

    def day(
        self, session: dt.date, retries: int = TRANSIENT_RETRIES, backoff: float = TRANSIENT_BACKOFF
    ) -> pl.DataFrame:
        """Every symbol's bar of one session, asked once a night: a transient failure is
        asked again `retries` times (waits doubling from `backoff` s, as fetch_many's), a
        session not published yet after each of UNPUBLISHED_WAITS; then SourceError."""
        with self._lock:
            if session not in self._days:
                self._days[session] = self._published(session, retries, backoff)
            answer = self._days[session]
        if isinstance(answer, SourceError):
            raise answer
        return answer

    def _published(self, session: dt.date, retries: int, backoff: float) -> pl.DataFrame | SourceError:
        waited = 0.0
        for wait in (*UNPUBLISHED_WAITS, None):
            bars = retried(lambda: self._client.grouped_daily(session), retries, backoff)
            if isinstance(bars, SourceError):
                return bars
            if bars is not None:
                return bars
            if wait is None:
                break
            log.warning("%s has not published %s yet; asking again in %g s", self.name, session, wait)
            time.sleep(wait)
            waited += wait
        return SourceError(
            f"grouped daily {session}",
            f"not published yet ({self.name} has no bars for the session {session}; "
            f"asked {len(UNPUBLISHED_WAITS) + 1} times over {waited / 60:.0f} min)",
        )

    def fetch_night(
        self,
        tickers: Sequence[str],
        stored: Mapping[str, pl.DataFrame],
        as_of: dt.date | None,
        whole: Collection[str],
        on_done: Callable[[str, Outcome], None] | None,
        pace: Pace,
    ) -> list[Outcome]:
        """fetch_many for this source: tickers with nothing stored or in `whole` from the
        history provider, the others from the sessions' bars (see the module docstring).
        `stored` maps a ticker to its stored rows from its overlap window on, or to its
        whole history where `rederived` named it."""
        history = [t for t in tickers if t in whole or t not in stored or stored[t].is_empty()]
        fetched = fetch_many(
            self.history,
            history,
            stored,
            as_of=as_of,
            whole=whole,
            workers=pace.workers,
            retries=pace.retries,
            backoff=pace.backoff,
            on_done=on_done,
        )
        outcomes: dict[str, Outcome] = dict(zip(history, fetched))
        nightly = [t for t in tickers if t not in outcomes]
        for t, outcome in self._nights(nightly, stored, as_of, pace.retries, pace.backoff).items():
            outcomes[t] = outcome
            if on_done is not None:
                on_done(t, outcome)
        return [outcomes[t] for t in tickers]

    def _nights(
        self,
        tickers: Sequence[str],
        stored: Mapping[str, pl.DataFrame],
        as_of: dt.date | None,
        retries: int,
        backoff: float,
    ) -> dict[str, Outcome]:
        if not tickers:
            return {}
        last = {t: latest_date(stored[t]["date"]) or dt.date.min for t in tickers}
        # The sessions after the universe's latest stored one, never a stale ticker's gap:
        # a delisted ticker would otherwise have the night ask every session since.
        first, end = max(self._latest, *last.values()) + dt.timedelta(days=1), night_end(as_of)
        days = nyse_sessions(first, end)["date"]
        sessions: list[dt.date] = days.filter(days.is_between(first, end)).to_list()
        splits: pl.DataFrame | None = None
        dividends: pl.DataFrame | None = None
        try:
            bars = [self.day(s, retries, backoff).filter(pl.col("ticker").is_in(list(tickers))) for s in sessions]
            if sessions:
                splits, dividends = self.actions(first, end)
        except SourceError as exc:
            return {t: SourceError(t, exc.reason, transient=exc.transient) for t in tickers}
        # Vectorised over the batch: one frame's operations, not a few per ticker.
        dated = [t for t in tickers if stored[t]["adj_close"].tail(1).is_not_null().any()]
        since = pl.DataFrame({"ticker": list(tickers), "last": [last[t] for t in tickers]})
        new = (
            (finish_bars(pl.concat(bars), self.name, first, end) if bars else stored[tickers[0]].head(0))
            .join(since, on="ticker", maintain_order="left")
            .filter(pl.col("date") > pl.col("last"))
            .with_columns(adj_close=pl.when(pl.col("ticker").is_in(dated)).then(pl.col("close")))
            .drop("last")
        )
        by_ticker = new.partition_by("ticker", as_dict=True)
        split = (
            set()
            if splits is None
            else {t for t, d in splits.select("ticker", "date").iter_rows() if t in last and d > last[t]}
        )
        paid = {} if dividends is None else _paid(dividends, last)
        unmoved = restated_prices(new.head(0), new.head(0))
        outcomes: dict[str, Outcome] = {}
        for t in tickers:
            rows = by_ticker.get((t,), new.head(0))
            due = len(sessions) - bisect.bisect_right(sessions, last[t])
            if rows.height < due:
                missing = sorted(set(s for s in sessions if s > last[t]) - set(rows["date"]))
                shown = ", ".join(str(d) for d in missing[:5])
                outcomes[t] = SourceError(t, f"not listed ({self.name} has no bar for {t} on {shown})")
            elif t in split:
                outcomes[t] = self._restated(t, stored[t], as_of)
            elif t in paid:
                history = dividend_adjusted(pl.concat([stored[t].select(new.columns), rows]), paid[t])
                outcomes[t] = Fetched(t, history, False, restated_prices(stored[t], history), 0)
            else:
                outcomes[t] = Fetched(t, rows, False, unmoved, 0)
        return outcomes

    def _restated(self, ticker: str, stored: pl.DataFrame, as_of: dt.date | None) -> Outcome:
        """A split: the ticker's whole history from the history provider, as a restatement."""
        try:
            history = self.history.daily_prices(ticker, None, as_of)
        except Exception as exc:  # noqa: BLE001  (one ticker's failure is its own)
            return exc
        if history.is_empty():
            return SourceError(ticker, f"empty answer ({self.history.name}: no bars for its whole history)")
        return Fetched(ticker, history, True, restated_prices(stored, history), 1)


def _paid(dividends: pl.DataFrame, last: Mapping[str, dt.date]) -> dict[str, pl.DataFrame]:
    """Each ticker's dividends going ex after its last stored session."""
    since = pl.DataFrame({"ticker": list(last), "last": list(last.values())})
    held = dividends.join(since, on="ticker").filter(pl.col("date") > pl.col("last")).drop("last")
    return {ticker: rows for (ticker,), rows in held.partition_by("ticker", as_dict=True).items()}

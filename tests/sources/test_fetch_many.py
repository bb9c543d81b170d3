"""fetch_many(): a batch of tickers fetched as fetch_incremental fetches each, side by side."""

import contextvars
import datetime as dt
import threading
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.core.errors import SourceError
from surgewatch.sources import incremental
from surgewatch.sources.csv_files import CsvSource
from surgewatch.sources.incremental import Fetched, fetch_incremental, fetch_many, fetch_start, stored_tails
from tests.fake_providers import sessions, synthetic_bars

DAYS = sessions(dt.date(2026, 3, 2), dt.date(2026, 5, 29))
AS_OF = DAYS[-1]


def with_ticker(ticker: str, bars: pl.DataFrame) -> pl.DataFrame:
    return bars.select(pl.lit(ticker).alias("ticker"), pl.all())


@pytest.fixture
def night(tmp_path: Path) -> tuple[CsvSource, pl.DataFrame]:
    """Files through AS_OF and the warehouse's rows as of a few sessions earlier: AAA and
    DDD as the files hold them, BBB with a close in the overlap window since restated,
    CCC not stored at all."""
    stored = []
    for n, ticker in enumerate(("AAA", "BBB", "CCC", "DDD")):
        bars = synthetic_bars(DAYS, first_close=50.0 + 10 * n)
        bars.write_csv(tmp_path / f"{ticker}.csv")
        held = with_ticker(ticker, bars.filter(pl.col("date") <= DAYS[-4]))
        if ticker == "BBB":
            held = held.with_columns(close=pl.when(pl.col("date") == DAYS[-6]).then(1.0).otherwise(pl.col("close")))
        if ticker != "CCC":
            stored.append(held)
    return CsvSource(tmp_path), pl.concat(stored)


TICKERS = ["DDD", "MISSING", "BBB", "AAA", "CCC"]
WHOLE = {"DDD"}


def assert_same(got: Fetched, expected: Fetched) -> None:
    assert (got.ticker, got.full_history, got.requests) == (expected.ticker, expected.full_history, expected.requests)
    assert_frame_equal(got.prices, expected.prices)
    assert_frame_equal(got.restated, expected.restated)


class OneAtATime:
    """The csv source without its many-files read: fetch_many's thread pool serves it."""

    name = "csv"

    def __init__(self, inner: CsvSource):
        self.daily_prices = inner.daily_prices


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["read together", "thread pool"])
def test_each_ticker_ends_as_fetch_incremental_ends_it_in_the_order_asked(night, one_at_a_time):
    source, stored = night
    batch = OneAtATime(source) if one_at_a_time else source
    by_ticker = {t: rows for (t,), rows in stored.partition_by("ticker", as_dict=True).items()}
    expected = {}
    for ticker in TICKERS:
        try:
            expected[ticker] = fetch_incremental(
                source, ticker, by_ticker.get(ticker, stored.head(0)), as_of=AS_OF, full=ticker in WHOLE
            )
        except SourceError as exc:
            expected[ticker] = exc
    for workers in (1, 3):
        for given in (by_ticker, stored_tails(stored, whole=WHOLE)):
            outcomes = fetch_many(batch, TICKERS, given, as_of=AS_OF, whole=WHOLE, workers=workers, backoff=0)
            assert [o.ticker for o in outcomes if isinstance(o, Fetched)] == ["DDD", "BBB", "AAA", "CCC"]
            for ticker, outcome in zip(TICKERS, outcomes):
                if ticker == "MISSING":
                    assert isinstance(outcome, SourceError) and str(outcome) == str(expected[ticker])
                else:
                    assert isinstance(outcome, Fetched)
                    assert_same(outcome, expected[ticker])
    aaa, bbb, ccc, ddd = (expected[t] for t in ("AAA", "BBB", "CCC", "DDD"))
    assert not aaa.full_history and aaa.prices["date"].min() == fetch_start(DAYS[-4])
    assert bbb.full_history and bbb.requests == 2 and bbb.restated.height == 1  # restated: re-fetched whole
    assert ccc.full_history and ddd.full_history and ddd.requests == 1


def test_stored_tails_hold_each_window_and_the_whole_tickers_histories(night):
    _, stored = night
    tails = stored_tails(stored, whole={"DDD"})
    assert sorted(tails) == ["AAA", "BBB", "DDD"]
    start = fetch_start(DAYS[-4])
    assert_frame_equal(tails["AAA"], stored.filter((pl.col("ticker") == "AAA") & (pl.col("date") >= start)))
    assert tails["AAA"].height == 5
    assert_frame_equal(tails["DDD"], stored.filter(pl.col("ticker") == "DDD"))
    assert stored_tails(stored.head(0)) == {}


def test_on_done_hears_of_each_ticker_once_in_the_calling_thread(night):
    source, stored = night
    heard: list[tuple[str, object, threading.Thread]] = []
    outcomes = fetch_many(
        source,
        TICKERS,
        stored_tails(stored),
        as_of=AS_OF,
        workers=4,
        on_done=lambda ticker, outcome: heard.append((ticker, outcome, threading.current_thread())),
    )
    assert sorted(t for t, _, _ in heard) == sorted(TICKERS)
    assert all(outcomes[TICKERS.index(t)] is o for t, o, _ in heard)
    assert {thread for _, _, thread in heard} == {threading.current_thread()}


class Flaky:
    """A source whose first `failures` asks for a ticker (of `only`, if given) fail with `error(ticker)`."""

    name = "flaky"

    def __init__(self, inner: CsvSource, failures: int, error, only: set[str] | None = None):
        self._inner, self._failures, self._error, self._only = inner, failures, error, only
        self.asks: dict[str, int] = {}
        self._lock = threading.Lock()

    def daily_prices(self, ticker: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        with self._lock:
            self.asks[ticker] = self.asks.get(ticker, 0) + 1
            failing = self.asks[ticker] <= self._failures and (self._only is None or ticker in self._only)
        if failing:
            raise self._error(ticker)
        return self._inner.daily_prices(ticker, start, end)


def timed_out(ticker: str) -> SourceError:
    return SourceError(ticker, "timed out (flaky: no answer within 20 s, 6 attempts)", transient=True)


def test_a_transient_failure_is_retried_until_the_retries_run_out(night):
    source, stored = night
    flaky = Flaky(source, failures=2, error=timed_out)
    outcomes = fetch_many(flaky, ["AAA", "CCC"], stored_tails(stored), as_of=AS_OF, retries=2, backoff=0)
    assert all(isinstance(o, Fetched) for o in outcomes)
    assert flaky.asks == {"AAA": 3, "CCC": 3}
    assert_same(outcomes[0], fetch_incremental(source, "AAA", stored_tails(stored)["AAA"], as_of=AS_OF))

    flaky = Flaky(source, failures=3, error=timed_out)
    [outcome] = fetch_many(flaky, ["AAA"], stored_tails(stored), as_of=AS_OF, retries=2, backoff=0)
    assert isinstance(outcome, SourceError) and outcome.transient and "timed out" in str(outcome)
    assert flaky.asks == {"AAA": 3}


def test_each_retry_waits_twice_the_last_wait_plus_jitter(night, monkeypatch):
    source, stored = night
    waits: list[float] = []
    monkeypatch.setattr(incremental.time, "sleep", waits.append)
    flaky = Flaky(source, failures=3, error=timed_out)
    fetch_many(flaky, ["AAA"], stored_tails(stored), as_of=AS_OF, retries=3, backoff=2.0)
    assert len(waits) == 3
    assert all(2.0 * 2**i <= wait <= 3.0 * 2**i for i, wait in enumerate(waits)), waits


@pytest.mark.parametrize(
    "error",
    [
        lambda t: SourceError(t, "unknown symbol (flaky HTTP 404: No data found)"),
        lambda t: RuntimeError(f"a bug reading {t}"),
    ],
)
def test_any_other_failure_ends_its_ticker_at_once_and_only_it(night, error):
    source, _ = night
    flaky = Flaky(source, failures=1, error=error, only={"AAA"})
    outcomes = fetch_many(flaky, ["AAA", "BBB"], {}, as_of=AS_OF, retries=2, backoff=0)
    assert type(outcomes[0]) is type(error("AAA")) and str(outcomes[0]) == str(error("AAA"))
    assert isinstance(outcomes[1], Fetched)
    assert flaky.asks == {"AAA": 1, "BBB": 1}


def test_fetches_overlap_and_see_the_callers_context(night):
    # Three fetches can only pass the barrier together: with fewer threads it times out.
    source, _ = night
    barrier = threading.Barrier(3, timeout=10)
    run = contextvars.ContextVar("run", default="none")

    class Meeting:
        name = "meeting"

        def daily_prices(self, ticker, start, end):
            barrier.wait()
            assert run.get() == "tonight"
            return source.daily_prices(ticker, start, end)

    run.set("tonight")
    outcomes = fetch_many(Meeting(), ["AAA", "BBB", "CCC"], {}, as_of=AS_OF, workers=3)
    assert all(isinstance(o, Fetched) for o in outcomes), outcomes
    assert fetch_many(Meeting(), [], {}, as_of=AS_OF) == []

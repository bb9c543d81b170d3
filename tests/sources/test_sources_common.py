"""What every HTTP source must do the same way, run against the fake Yahoo, Tiingo and Stooq."""

import datetime as dt
import logging
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.sources import RAW_SCHEMA
from surgewatch.core.errors import InputError, SourceError
from tests.fake_providers import Fault, FakeProviders, sessions, shared_prices, synthetic_bars

HTTP_SOURCES = ["yahoo", "tiingo", "stooq"]
# Spans the 2026-03-08 switch to daylight saving time.
DST_START, DST_END = dt.date(2026, 3, 2), dt.date(2026, 3, 13)


def expected(bars: pl.DataFrame, ticker: str, source: str) -> pl.DataFrame:
    """The raw frame a source should return for served bars (Stooq has no adjusted close)."""
    frame = bars.with_columns(pl.lit(ticker).alias("ticker"))
    if source == "stooq":
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias("adj_close"))
    return frame.select(RAW_SCHEMA.names()).cast(RAW_SCHEMA)


@pytest.fixture
def fake(fake_providers: FakeProviders) -> FakeProviders:
    fake_providers.add_prices("TEST", synthetic_bars(sessions(dt.date(2026, 2, 2), dt.date(2026, 4, 30))))
    return fake_providers


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_returns_exactly_the_served_sessions_across_dst(fake, source):
    bars = synthetic_bars(sessions(dt.date(2026, 2, 2), dt.date(2026, 4, 30)))
    frame = fake.source(source).daily_prices("test", DST_START, DST_END)
    want = expected(bars.filter(pl.col("date").is_between(DST_START, DST_END)), "TEST", source)
    assert frame.height == 10
    assert_frame_equal(frame, want)


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_full_history_matches_the_shared_csv(fake_providers, source):
    prices = shared_prices()
    rows = pl.read_csv(prices / "IWM.csv", schema_overrides={"date": pl.Date, "volume": pl.Int64})
    frame = fake_providers.source(source).daily_prices("IWM", None, None)
    assert_frame_equal(frame, expected(rows, "IWM", source))


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_asks_for_the_requested_window_only(fake, source):
    fake.source(source).daily_prices("TEST", DST_START, DST_END)
    (hit,) = fake.requests
    assert (hit.provider, hit.symbol, hit.start) == (source, "TEST", DST_START)
    # Tiingo is asked up to the latest session so later splits are known (see sources.tiingo).
    assert hit.end == (None if source == "tiingo" else DST_END)


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_a_range_without_sessions_is_an_empty_frame(fake, source):
    saturday = dt.date(2026, 3, 7)
    frame = fake.source(source).daily_prices("TEST", saturday, saturday + dt.timedelta(days=1))
    assert frame.is_empty()
    assert frame.schema == RAW_SCHEMA


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_start_after_end_asks_nothing(fake, source):
    frame = fake.source(source).daily_prices("TEST", DST_END, DST_START)
    assert frame.is_empty() and frame.schema == RAW_SCHEMA
    assert fake.count() == 0


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_bars_with_missing_prices_are_dropped_and_logged(fake, source, caplog):
    fake.script("TEST", [Fault("null_bars", rows=(1, 3))])
    with caplog.at_level(logging.WARNING, logger="surgewatch.sources"):
        frame = fake.source(source).daily_prices("TEST", DST_START, DST_END)
    days = sessions(DST_START, DST_END)
    assert frame["date"].to_list() == [d for i, d in enumerate(days) if i not in (1, 3)]
    assert f"dropped: {days[1]}, {days[3]}" in caplog.text


@pytest.mark.parametrize(
    ("source", "explanation"),
    [
        ("yahoo", "unknown symbol (yahoo HTTP 404: No data found, symbol may be delisted)"),
        ("tiingo", "unknown symbol (tiingo HTTP 404: Error: Ticker 'nosuch' not found)"),
        ("stooq", "unknown symbol (stooq has no data for nosuch.us"),
    ],
)
def test_unknown_symbol_names_the_providers_explanation(fake, source, explanation):
    with pytest.raises(SourceError, match="^NOSUCH: ") as caught:
        fake.source(source).daily_prices("NOSUCH", DST_START, DST_END)
    assert explanation in str(caught.value)
    assert caught.value.ticker == "NOSUCH"
    assert fake.count("NOSUCH") == 1


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_retries_ride_out_server_errors(fake, source):
    fake.script("TEST", ["500", "502", "504"])
    frame = fake.source(source, http_retries=3).daily_prices("TEST", DST_START, DST_END)
    assert frame.height == 10
    assert fake.count("TEST") == 4
    assert [h.status for h in fake.requests] == [500, 502, 504, 200]


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_gives_up_after_the_retry_budget(fake, source):
    fake.script("TEST", ["503"] * 5)
    with pytest.raises(SourceError, match=rf"request failed \({source} HTTP 503: .*, 3 attempts\)"):
        fake.source(source, http_retries=2).daily_prices("TEST", DST_START, DST_END)
    assert fake.count("TEST") == 3


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_connection_resets_are_retried(fake, source):
    fake.script("TEST", ["reset", "reset"])
    assert fake.source(source).daily_prices("TEST", DST_START, DST_END).height == 10
    fake.script("TEST", ["reset"] * 4)
    with pytest.raises(SourceError, match=rf"connection failed \({source}: .*4 attempts\)"):
        fake.source(source, http_retries=3).daily_prices("TEST", DST_START, DST_END)


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_a_stalled_provider_times_out_quickly(fake, source):
    fake.script("TEST", ["stall", "stall"])
    began = time.monotonic()
    with pytest.raises(SourceError, match=rf"timed out \({source}: no answer within 0.25 s, 2 attempts\)"):
        fake.source(source, http_timeout=0.25, http_retries=1).daily_prices("TEST", DST_START, DST_END)
    assert time.monotonic() - began < 2


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_an_answer_cut_short_is_an_error(fake, source):
    fake.script("TEST", ["short_body"])
    with pytest.raises(SourceError, match=rf"answer cut off \({source}: IncompleteRead"):
        fake.source(source).daily_prices("TEST", DST_START, DST_END)


@pytest.mark.parametrize(
    ("source", "explanation"),
    [
        ("yahoo", "request refused (yahoo: Bad Request: Invalid input - fake refusal)"),
        ("tiingo", "request refused (tiingo: Error: fake refusal)"),
        ("stooq", "unexpected answer (stooq: Exceeded the daily hits limit)"),
    ],
)
def test_an_error_inside_a_200_answer_is_an_error(fake, source, explanation):
    fake.script("TEST", ["error200"])
    with pytest.raises(SourceError) as caught:
        fake.source(source).daily_prices("TEST", DST_START, DST_END)
    assert str(caught.value) == f"TEST: {explanation}"


@pytest.mark.parametrize("source", [*HTTP_SOURCES, "csv"])
@pytest.mark.parametrize("symbol", ["IWM;DROP", "../etc/passwd", "A\x00", "", "IWM US", "'; --"])
def test_implausible_symbols_are_refused_before_any_request(fake, tmp_path, source, symbol):
    overrides = {"csv_dir": tmp_path} if source == "csv" else {}
    with pytest.raises(InputError, match="not a plausible ticker symbol"):
        fake.source(source, **overrides).daily_prices(symbol, DST_START, DST_END)
    assert fake.count() == 0


@pytest.mark.parametrize(
    ("source", "symbol", "target"),
    [
        ("yahoo", "^RUT", "/v8/finance/chart/%5ERUT?"),
        ("yahoo", "BRK-B", "/v8/finance/chart/BRK-B?"),
        ("yahoo", "brk.b", "/v8/finance/chart/BRK.B?"),
        ("tiingo", "BRK-B", "/tiingo/daily/brk-b/prices?"),
        ("stooq", "^RUT", "/q/d/l/?s=%5Erut&"),
        ("stooq", "BRK-B", "/q/d/l/?s=brk-b.us&"),
    ],
)
def test_symbols_are_url_encoded(fake, source, symbol, target):
    bars = synthetic_bars(sessions(DST_START, DST_END))
    fake.add_prices(symbol, bars)
    frame = fake.source(source).daily_prices(symbol, DST_START, DST_END)
    assert_frame_equal(frame, expected(bars, symbol.upper(), source))
    (hit,) = fake.requests
    assert hit.target.startswith(target)

"""Polygon's client against the fake server speaking its format: grouped daily bars,
splits and dividends page by page, and answers it must refuse."""

import datetime as dt
import json

import polars as pl
import pytest

from surgewatch.core.errors import SettingsError, SourceError
from surgewatch.core.settings import load_settings
from surgewatch.sources import polygon
from surgewatch.core.calendar import NEW_YORK
from surgewatch.sources.bulk import BulkSource, night_end
from tests.fake_polygon import TEST_KEY
from tests.fake_providers import Fault, sessions, synthetic_bars

DAYS = sessions(dt.date(2026, 3, 2), dt.date(2026, 3, 31))


def _client(fake) -> polygon.PolygonClient:
    source = fake.source("polygon")
    assert isinstance(source, BulkSource)
    return source._client


def test_grouped_daily_is_every_symbols_bar_of_the_day(fake_providers):
    for i, symbol in enumerate(("AAA", "BBB")):
        fake_providers.add_prices(symbol, synthetic_bars(DAYS, first_close=10.0 + i))
    bars = _client(fake_providers).grouped_daily(DAYS[3])
    expected = pl.concat(
        synthetic_bars(DAYS, first_close=10.0 + i).filter(pl.col("date") == DAYS[3]).with_columns(ticker=pl.lit(s))
        for i, s in enumerate(("AAA", "BBB"))
    )
    assert bars is not None
    got = bars.filter(pl.col("ticker").is_in(["AAA", "BBB"])).sort("ticker")
    for column in ("ticker", "date", "open", "high", "low", "close"):
        assert got[column].to_list() == expected[column].to_list(), column
    assert got["volume"].to_list() == pytest.approx(expected["volume"].to_list())
    (hit,) = fake_providers.requests
    assert hit.headers["Authorization"] == f"Bearer {TEST_KEY}" and TEST_KEY not in hit.target


def test_a_day_without_bars_is_none_and_a_bar_of_another_day_is_refused(fake_providers):
    fake_providers.add_prices("AAA", synthetic_bars(DAYS))
    client = _client(fake_providers)
    assert client.grouped_daily(dt.date(2026, 3, 7)) is None  # a Saturday: resultsCount 0
    fake_providers.script("GROUPED", [Fault("body", status=404, body=b'{"status":"NOT_FOUND"}')])
    assert client.grouped_daily(DAYS[0]) is None
    answer = {
        "status": "OK",
        "resultsCount": 1,
        "results": [{"T": "AAA", "o": 1, "h": 2, "l": 0.5, "c": 1.5, "v": 10, "t": 1_700_000_000_000}],
    }
    fake_providers.script("GROUPED", [Fault("body", body=json.dumps(answer).encode())])
    with pytest.raises(SourceError, match=r"malformed answer \(polygon: ValueError: bars stamped 2023-11-14"):
        client.grouped_daily(DAYS[0])
    answer["results"][0] |= {"t": 1_772_485_200_000, "c": True}
    fake_providers.script("GROUPED", [Fault("body", body=json.dumps(answer).encode())])
    with pytest.raises(SourceError, match="true is not a number"):
        client.grouped_daily(DAYS[0])


def test_actions_are_read_page_by_page(fake_providers, monkeypatch):
    monkeypatch.setattr(polygon, "PAGE", 2)
    for i, day in enumerate(DAYS[:5]):
        fake_providers.add_dividend(f"D{i}", day, 0.25 * (i + 1))
    fake_providers.add_split("SPL", DAYS[2], 4)
    fake_providers.add_dividend("LATE", DAYS[10], 1.0)
    client = _client(fake_providers)
    dividends = client.dividends(DAYS[0], DAYS[4])
    assert dividends.rows() == [(f"D{i}", DAYS[i], 0.25 * (i + 1)) for i in range(5)]
    assert client.splits(DAYS[0], DAYS[4]).rows() == [("SPL", DAYS[2], 4.0)]
    asked = [h for h in fake_providers.requests if h.symbol == "DIVIDENDS"]
    assert len(asked) == 3 and all("cursor" in h.query for h in asked[1:])
    assert all(h.headers["Authorization"] == f"Bearer {TEST_KEY}" for h in asked)


def test_a_refused_key_is_one_line_without_the_key(fake_providers):
    client = _client(fake_providers)  # with TEST_KEY
    fake_providers.polygon_key = "the-right-one"
    with pytest.raises(SourceError) as refused:
        client.grouped_daily(DAYS[0])
    assert str(refused.value) == "grouped daily 2026-03-02: not authorised (polygon HTTP 401: Unknown API Key)"
    assert TEST_KEY not in str(refused.value) and not refused.value.transient


def test_settings_name_what_the_bulk_source_lacks(monkeypatch, tmp_path):
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path))
    monkeypatch.setenv("SURGEWATCH_SOURCE", "polygon")
    with pytest.raises(
        SettingsError, match="^bad setting SURGEWATCH_POLYGON_KEY: the polygon source needs an API key$"
    ):
        load_settings(_env_file=None)
    monkeypatch.setenv("SURGEWATCH_POLYGON_KEY", "k")
    monkeypatch.setenv("SURGEWATCH_HISTORY_SOURCE", "csv")
    with pytest.raises(SettingsError, match="SURGEWATCH_CSV_DIR"):
        load_settings(_env_file=None)
    monkeypatch.setenv("SURGEWATCH_HISTORY_SOURCE", "polygon")
    with pytest.raises(SettingsError, match="SURGEWATCH_HISTORY_SOURCE"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("new_york", "expected"),
    [
        ("2026-12-07 10:00", "2026-12-04"),  # Monday morning: Friday's bars
        ("2026-12-07 17:30", "2026-12-07"),  # Monday after the close: Monday's
        ("2026-12-06 20:00", "2026-12-04"),  # Sunday: Friday's
        ("2026-11-27 18:00", "2026-11-27"),  # the day after Thanksgiving is a session
        ("2026-11-26 18:00", "2026-11-25"),  # Thanksgiving is not
    ],
)
def test_a_night_without_as_of_asks_up_to_the_latest_closed_session(new_york, expected):
    now = dt.datetime.fromisoformat(new_york).replace(tzinfo=NEW_YORK)
    assert night_end(None, now) == dt.date.fromisoformat(expected)
    assert night_end(dt.date(2026, 1, 5), now) == dt.date(2026, 1, 5)


@pytest.mark.parametrize(
    "script",
    [["500", "503", "503"], ["reset"], [Fault("stall", seconds=3)], ["short_body"], [Fault("429", retry_after=1)]],
    ids=["5xx run (3)", "connection reset", "stall past timeout", "short body", "429 + Retry-After"],
)
def test_a_passing_fault_gives_the_days_bars_once(fake_providers, script, monkeypatch):
    """The retry budget of a night (HTTP retries 1, then the night's own 2 tries) outlasts
    each fault; the session's answer is then kept, so a second batch asks nothing."""
    for symbol in ("AAA", "BBB"):
        fake_providers.add_prices(symbol, synthetic_bars(DAYS))
    source = fake_providers.source("polygon", http_retries=1, http_timeout=1.0)
    assert isinstance(source, BulkSource)
    clean = source._client.grouped_daily(DAYS[4])
    fake_providers.clear()
    fake_providers.script("GROUPED", script)
    got = source.day(DAYS[4], retries=2, backoff=0.0)
    assert clean is not None and got.equals(clean)
    asked = fake_providers.count()
    assert source.day(DAYS[4]).equals(clean) and fake_providers.count() == asked

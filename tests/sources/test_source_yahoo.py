"""Yahoo chart API specifics: the real answer's shape, timestamps, odd answers."""

import datetime as dt
import json
import logging

import polars as pl
import pytest
import requests
from polars.testing import assert_frame_equal

from surgewatch.core.errors import SourceError
from tests.fake_providers import SHARED, Fault, sessions, shared_prices, synthetic_bars, yahoo_stamp

START, END = dt.date(2026, 6, 11), dt.date(2026, 6, 17)
OHLC = ("open", "high", "low", "close")
NOT_FOUND = json.dumps(
    {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}
).encode()


def chart(symbol: str = "TEST", **result: object) -> bytes:
    return json.dumps({"chart": {"result": [{"meta": {"symbol": symbol}, **result}], "error": None}}).encode()


def test_parses_the_recorded_real_answer_exactly(fake_providers):
    prices = shared_prices()
    recorded = (SHARED / "data" / "reference" / "yahoo_chart_IWM_2026-06-11_2026-06-17.json").read_bytes()
    fake_providers.script("IWM", [Fault("body", body=recorded)])
    frame = fake_providers.source("yahoo").daily_prices("IWM", START, END)
    rows = pl.read_csv(prices / "IWM.csv", schema_overrides={"date": pl.Date, "volume": pl.Int64})
    want = rows.filter(pl.col("date").is_between(START, END)).select(pl.lit("IWM").alias("ticker"), pl.all())
    assert_frame_equal(frame, want)


def test_period_covers_start_and_end_days_in_utc_midnights(fake_providers):
    fake_providers.add_prices("TEST", synthetic_bars(sessions(START, END)))
    fake_providers.source("yahoo").daily_prices("TEST", START, END)
    fake_providers.source("yahoo").daily_prices("TEST", None, END)
    first, full = fake_providers.requests
    assert first.query["period1"] == "1781136000"  # 2026-06-11 00:00 UTC
    assert first.query["period2"] == "1781740800"  # 2026-06-18 00:00 UTC
    assert full.query["period1"] == "-2208988800"  # 1900-01-01 00:00 UTC
    assert first.query["interval"] == "1d"
    assert first.query["events"] == "div|split"
    assert first.query["includeAdjustedClose"] == "true"


@pytest.mark.parametrize("bar_time", [dt.time(0, 0), dt.time(9, 30), dt.time(16, 0), dt.time(23, 0)])
def test_bars_take_the_new_york_date_on_both_sides_of_dst(fake_providers, bar_time):
    # 23:00 New York is already the next day in UTC, by 3 h in EST and 4 h in EDT.
    days = sessions(dt.date(2026, 3, 2), dt.date(2026, 3, 13)) + sessions(dt.date(2026, 10, 26), dt.date(2026, 11, 6))
    fake_providers.add_prices("TEST", synthetic_bars(days))
    fake_providers.yahoo_bar_time = bar_time
    frame = fake_providers.source("yahoo").daily_prices("TEST", None, None)
    assert frame["date"].to_list() == days


def test_open_stamps_are_the_new_york_0930_open():
    assert yahoo_stamp(dt.date(2026, 6, 11)) == 1781184600  # EDT: 13:30 UTC, as in the recorded answer
    assert yahoo_stamp(dt.date(2026, 1, 5)) == int(dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC).timestamp())


def test_volume_may_be_float_or_null(fake_providers):
    stamps = [yahoo_stamp(d) for d in sessions(START, END)][:3]
    quote = {"open": [10.0] * 3, "high": [11.0] * 3, "low": [9.0] * 3, "close": [10.5] * 3, "volume": [1.5e6, None, 7]}
    fake_providers.script("TEST", [Fault("body", body=chart(timestamp=stamps, indicators={"quote": [quote]}))])
    frame = fake_providers.source("yahoo").daily_prices("TEST", START, END)
    assert frame["volume"].to_list() == [1_500_000, None, 7]
    assert frame["volume"].dtype == pl.Int64
    assert frame["adj_close"].to_list() == [None] * 3


def test_a_live_bar_beside_the_days_bar_keeps_the_later(fake_providers, caplog):
    # During a session Yahoo can add the live bar (stamped now) after the day's 09:30 bar.
    day = dt.date(2026, 6, 11)
    stamps = [yahoo_stamp(day), yahoo_stamp(day, dt.time(15, 1))]
    quote = {"open": [10.0, 10.0], "high": [11.0, 12.0], "low": [9.0, 9.0], "close": [10.5, 11.5], "volume": [5, 6]}
    fake_providers.script("TEST", [Fault("body", body=chart(timestamp=stamps, indicators={"quote": [quote]}))])
    with caplog.at_level(logging.WARNING, logger="surgewatch.sources"):
        frame = fake_providers.source("yahoo").daily_prices("TEST", START, END)
    assert frame.select("date", "close").rows() == [(day, 11.5)]
    assert "several bars for 2026-06-11" in caplog.text


def test_a_result_without_timestamps_is_no_data(fake_providers):
    fake_providers.script("TEST", [Fault("body", body=chart(indicators={"quote": [{}], "adjclose": [{}]}))])
    assert fake_providers.source("yahoo").daily_prices("TEST", START, END).is_empty()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("truncated", r"^TEST: malformed answer \(yahoo: JSONDecodeError: "),
        ("empty", r"^TEST: empty answer \(yahoo: no chart result and no error\)$"),
        ("wrong_symbol", r"^TEST: answer is for another symbol \(yahoo sent 'SPY'\)$"),
        (Fault("body", body=b"<html>gateway</html>"), r"^TEST: malformed answer \(yahoo: JSONDecodeError"),
        (Fault("body", body=b'{"finance": {}}'), r"^TEST: malformed answer \(yahoo: KeyError: 'chart'\)$"),
        (
            Fault("body", body=chart(timestamp=[1781184600], indicators={"quote": [{c: [] for c in OHLC}]})),
            r"malformed answer \(yahoo: ValueError: open has 0 values for 1 timestamps\)",
        ),
        (
            Fault("body", body=chart(timestamp=[1781184600], indicators={"quote": [{c: ["x"] for c in OHLC}]})),
            r"^TEST: malformed answer \(yahoo: ",
        ),
        (
            Fault("body", status=404, body=NOT_FOUND),
            r"^TEST: unknown symbol \(yahoo HTTP 404: No data found, symbol may be delisted\)$",
        ),
        (Fault("body", status=404, body=b"<html>404</html>"), r"^TEST: unknown symbol \(yahoo HTTP 404: Not Found\)$"),
    ],
)
def test_odd_answers_are_source_errors_naming_the_ticker(fake_providers, fault, message):
    fake_providers.add_prices("TEST", synthetic_bars(sessions(START, END)))
    fake_providers.script("TEST", [fault])
    with pytest.raises(SourceError, match=message):
        fake_providers.source("yahoo").daily_prices("TEST", START, END)


def test_the_fake_answers_like_the_recorded_real_one(fake_providers):
    """Guards the fake itself: its chart answer has the recorded answer's shape and values."""
    shared_prices()
    recorded = json.loads((SHARED / "data" / "reference" / "yahoo_chart_IWM_2026-06-11_2026-06-17.json").read_text())
    served = requests.get(
        f"{fake_providers.url}/v8/finance/chart/IWM", params={"period1": 1781136000, "period2": 1781740800}, timeout=5
    ).json()
    want, got = recorded["chart"]["result"][0], served["chart"]["result"][0]
    assert got["timestamp"] == want["timestamp"]
    assert got["indicators"] == want["indicators"]
    assert got["meta"]["symbol"] == want["meta"]["symbol"]
    assert served["chart"]["error"] is None

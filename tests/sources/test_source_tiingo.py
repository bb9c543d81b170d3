"""Tiingo specifics: the token stays in the header, raw prices become split-adjusted."""

import datetime as dt
import json

import polars as pl
import pytest
import requests
from polars.testing import assert_frame_equal

from surgewatch.sources import make_source
from surgewatch.core.errors import SettingsError, SourceError
from tests.fake_providers import TEST_TOKEN, Fault, sessions, synthetic_bars

START, END = dt.date(2026, 3, 2), dt.date(2026, 4, 30)
SPLIT = dt.date(2026, 4, 1)


def served(fake_providers) -> pl.DataFrame:
    bars = synthetic_bars(sessions(START, END))
    fake_providers.add_prices("TEST", bars, splits={SPLIT: 2.0, dt.date(2026, 4, 20): 4.0})
    return bars


def test_raw_prices_are_split_adjusted_like_yahoos(fake_providers):
    bars = served(fake_providers)
    frame = fake_providers.source("tiingo").daily_prices("TEST", START, END)
    assert_frame_equal(frame.drop("ticker"), bars)


def test_the_fake_really_serves_raw_prices(fake_providers):
    bars = served(fake_providers)
    fake_providers.source("tiingo").daily_prices("TEST", START, END)
    settings = fake_providers.settings("tiingo")
    rows = requests.get(
        f"{settings.tiingo_url}/tiingo/daily/test/prices",
        params={"startDate": "2026-03-02"},
        headers={"Authorization": f"Token {TEST_TOKEN}"},
        timeout=5,
    ).json()
    assert rows[0]["close"] == bars["close"][0] * 8
    assert rows[0]["volume"] == bars["volume"][0] / 8
    assert rows[0]["date"] == "2026-03-02T00:00:00.000Z"
    assert [r["splitFactor"] for r in rows if r["splitFactor"] != 1.0] == [2.0, 4.0]


def test_a_window_before_a_split_is_adjusted_for_it(fake_providers):
    bars = served(fake_providers)
    end = SPLIT - dt.timedelta(days=1)
    frame = fake_providers.source("tiingo").daily_prices("TEST", START, end)
    assert_frame_equal(frame.drop("ticker"), bars.filter(pl.col("date") <= end))
    (hit,) = fake_providers.requests
    assert "endDate" not in hit.query
    assert hit.query == {"startDate": "2026-03-02", "format": "json", "resampleFreq": "daily"}


def test_the_token_travels_only_in_the_authorization_header(fake_providers):
    served(fake_providers)
    fake_providers.source("tiingo").daily_prices("TEST", START, END)
    (hit,) = fake_providers.requests
    assert hit.headers["Authorization"] == f"Token {TEST_TOKEN}"
    assert TEST_TOKEN not in hit.target
    assert all(TEST_TOKEN not in v for k, v in hit.headers.items() if k != "Authorization")


def test_a_refused_token_is_a_clear_error_without_the_token(fake_providers):
    served(fake_providers)
    source = fake_providers.source("tiingo", tiingo_token="wrong-token-abc")
    with pytest.raises(SourceError) as caught:
        source.daily_prices("TEST", START, END)
    assert str(caught.value) == "TEST: not authorised (tiingo HTTP 401: Invalid token.)"
    assert "wrong-token-abc" not in str(caught.value)
    assert fake_providers.count() == 1


def test_a_token_echoed_by_the_provider_is_blanked(fake_providers):
    body = json.dumps({"detail": f"Token {TEST_TOKEN} is not valid"}).encode()
    fake_providers.script("TEST", [Fault("body", status=401, body=body)])
    with pytest.raises(SourceError) as caught:
        fake_providers.source("tiingo").daily_prices("TEST", START, END)
    assert TEST_TOKEN not in str(caught.value)
    assert "Token *** is not valid" in str(caught.value)
    source = fake_providers.source("tiingo")
    assert TEST_TOKEN not in repr(source) and TEST_TOKEN not in repr(vars(source))


@pytest.mark.parametrize("token", [None, "", "  "])
def test_a_missing_token_names_the_setting(fake_providers, token):
    with pytest.raises(SettingsError, match="SURGEWATCH_TIINGO_TOKEN"):
        make_source(fake_providers.settings("tiingo", tiingo_token=token))


def test_index_symbols_are_refused_without_a_request(fake_providers):
    with pytest.raises(SourceError, match=r"^\^RUT: tiingo has no index data"):
        fake_providers.source("tiingo").daily_prices("^RUT", START, END)
    assert fake_providers.count() == 0


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("truncated", r"^TEST: malformed answer \(tiingo: JSONDecodeError: "),
        (Fault("body", body=b"[1, 2]"), r"^TEST: malformed answer \(tiingo: "),
        (
            Fault("body", body=b'[{"date": "March 2nd", "open": 1, "high": 1, "low": 1, "close": 1}]'),
            "malformed answer",
        ),
        (
            Fault("body", body=b'{"detail": "You have run over your hourly request allocation."}'),
            r"request refused \(tiingo: You have run over",
        ),
    ],
)
def test_odd_answers_are_source_errors(fake_providers, fault, message):
    served(fake_providers)
    fake_providers.script("TEST", [fault])
    with pytest.raises(SourceError, match=message):
        fake_providers.source("tiingo").daily_prices("TEST", START, END)

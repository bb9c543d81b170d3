"""The fake provider server itself: recording, scripting, lifecycle, command line."""

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from surgewatch.core.errors import SourceError
from tests.fake_providers import SHARED, Fault, FakeProviders, sessions, synthetic_bars

START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 5)


def test_records_each_request_with_its_window():
    with FakeProviders() as fake:
        fake.add_prices("TEST", synthetic_bars(sessions(START, END)))
        fake.source("stooq").daily_prices("TEST", START, END)
        fake.source("tiingo").daily_prices("TEST", START, None)
        requests.get(f"{fake.url}/elsewhere", timeout=5)
        stooq, tiingo, other = fake.requests
    assert (stooq.provider, stooq.symbol, stooq.start, stooq.end, stooq.status) == ("stooq", "TEST", START, END, 200)
    assert (tiingo.provider, tiingo.start, tiingo.end) == ("tiingo", START, None)
    assert (other.provider, other.symbol, other.status) == ("other", None, 404)
    assert fake.count("test") == 2 and fake.count(provider="tiingo") == 1 and fake.count() == 3


def test_faults_are_used_once_each_in_order_and_per_provider():
    with FakeProviders() as fake:
        fake.add_prices("TEST", synthetic_bars(sessions(START, END)))
        fake.script("TEST", ["500", Fault("429", retry_after=0)], provider="yahoo")
        fake.source("stooq").daily_prices("TEST", START, END)
        fake.source("yahoo").daily_prices("TEST", START, END)
        assert [(h.provider, h.fault, h.status) for h in fake.requests] == [
            ("stooq", None, 200),
            ("yahoo", "500", 500),
            ("yahoo", "429", 429),
            ("yahoo", None, 200),
        ]
        fake.script("TEST", ["503"])
        fake.clear()
        assert fake.requests == []
        fake.source("yahoo").daily_prices("TEST", START, END)
        assert fake.requests[0].fault is None


def test_unknown_fault_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown fault kind 'explode'"):
        Fault("explode")


def test_stop_ends_a_stalled_answer_promptly():
    fake = FakeProviders().start()
    fake.add_prices("TEST", synthetic_bars(sessions(START, END)))
    fake.script("TEST", [Fault("stall", seconds=60)])
    source = fake.source("yahoo", http_timeout=0.2, http_retries=0)
    with pytest.raises(SourceError, match="timed out"):
        source.daily_prices("TEST", START, END)
    url = fake.url
    began = time.monotonic()
    fake.stop()
    assert time.monotonic() - began < 1
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=1)


def test_command_line_serves_until_stopped():
    if not (SHARED / "data" / "prices").is_dir():
        pytest.skip("shared price data absent")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_providers", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        first = process.stdout.readline()
        url = first.rsplit(" at ", 1)[1].strip()
        query = {"s": "iwm.us", "i": "d", "d1": "20260611", "d2": "20260612"}
        answer = requests.get(f"{url}/q/d/l/", params=query, timeout=5)
        assert answer.text.startswith("Date,Open,High,Low,Close,Volume\r\n2026-06-11,")
    finally:
        process.terminate()
        process.wait(timeout=5)

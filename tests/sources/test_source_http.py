"""The shared HTTP client: retry policy, timeouts, pacing, User-Agent, and make_source."""

import datetime as dt
import logging
import socket
import threading
import time

import pytest

from surgewatch.sources import USER_AGENT, CsvSource, StooqSource, TiingoSource, YahooSource, make_session, make_source
from surgewatch.sources.http import RETRY_STATUSES, _HostThrottle, fetch
from surgewatch import __version__
from surgewatch.core.errors import SourceError, UnreachableSource
from surgewatch.core.progress import LOGGER
from tests.fake_providers import Fault, sessions, synthetic_bars

START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 5)


@pytest.fixture
def fake(fake_providers):
    fake_providers.add_prices("TEST", synthetic_bars(sessions(START, END)))
    return fake_providers


def test_session_policy(fake):
    settings = fake.settings(http_retries=4, http_timeout=7.5)
    session = make_session(settings, backoff_factor=0.3)
    adapter = session.get_adapter("https://query1.finance.yahoo.com/")
    retry = adapter.max_retries
    assert (retry.total, retry.backoff_factor, retry.backoff_jitter) == (4, 0.3, 0.3)
    assert set(retry.status_forcelist) == set(RETRY_STATUSES) == {429, 500, 502, 503, 504}
    assert retry.allowed_methods == frozenset({"GET"})
    assert retry.respect_retry_after_header and not retry.raise_on_status
    assert adapter.timeout == 7.5
    assert session.get_adapter("http://127.0.0.1/") is adapter
    assert session.headers["User-Agent"] == USER_AGENT == f"surgewatch/{__version__} (+https://github.com/surgewatch)"


def test_requests_carry_the_user_agent(fake):
    fake.source("yahoo").daily_prices("TEST", START, END)
    assert fake.requests[0].headers["User-Agent"] == USER_AGENT


def test_retry_after_is_honoured(fake):
    fake.script("TEST", [Fault("429", retry_after=1)])
    began = time.monotonic()
    frame = fake.source("yahoo").daily_prices("TEST", START, END)
    assert time.monotonic() - began >= 0.95
    assert frame.height == 5
    assert [h.status for h in fake.requests] == [429, 200]


def test_rate_limited_to_the_end_is_reported(fake):
    fake.script("TEST", [Fault("429", retry_after=0)] * 2)
    with pytest.raises(SourceError, match=r"^TEST: rate limited \(stooq HTTP 429: .*, 2 attempts\)$"):
        fake.source("stooq", http_retries=1).daily_prices("TEST", START, END)


def test_requests_to_one_host_are_spaced(fake):
    source = fake.source("yahoo", http_min_interval=0.15)
    began = time.monotonic()
    for _ in range(3):
        source.daily_prices("TEST", START, END)
    assert time.monotonic() - began >= 0.3


def test_the_throttle_keeps_hosts_apart_and_is_thread_safe():
    throttle = _HostThrottle(0.1)
    began = time.monotonic()
    threads = [threading.Thread(target=throttle.wait, args=("a",)) for _ in range(4)]
    threads.append(threading.Thread(target=throttle.wait, args=("b",)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Four slots for host a: 0, 0.1, 0.2, 0.3 s; host b does not wait behind them.
    assert 0.28 <= time.monotonic() - began < 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _retries(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and getattr(r, "step", "") == "retry"]


def test_a_refused_connection_is_a_source_error(fake):
    settings = fake.settings(http_retries=1)
    with pytest.raises(
        SourceError,
        match=r"^TEST: connection failed \(yahoo: cannot reach 127\.0\.0\.1: Connection refused; gave up after 2 attempts\)$",
    ):
        fetch(
            make_session(settings, backoff_factor=0),
            f"http://127.0.0.1:{_closed_port()}/x",
            ticker="TEST",
            provider="yahoo",
        )


def test_a_host_that_never_answered_is_given_up_after_three_attempts(fake, caplog):
    caplog.set_level(logging.INFO, LOGGER)
    session = make_session(fake.settings(http_retries=5), backoff_factor=0.01)
    url = f"http://127.0.0.1:{_closed_port()}/x"
    reason = "connection failed (yahoo: cannot reach 127.0.0.1: Connection refused; gave up after 3 attempts)"
    with pytest.raises(UnreachableSource) as first:
        fetch(session, url, ticker="IWM", provider="yahoo")
    assert str(first.value) == f"IWM: {reason}" and not first.value.transient
    assert _retries(caplog) == [
        "yahoo: connection failed for IWM, retrying now (attempt 2 of 3)",
        "yahoo: connection failed for IWM, retrying now (attempt 3 of 3)",
    ]
    # The next ticker is not asked for: it fails at once, with the same reason.
    caplog.clear()
    with pytest.raises(UnreachableSource) as second:
        fetch(session, url, ticker="SPY", provider="yahoo")
    assert second.value.reason == reason and _retries(caplog) == []


def test_a_host_that_answered_keeps_its_patient_retries(fake, caplog):
    caplog.set_level(logging.INFO, LOGGER)
    session = make_session(fake.settings(http_retries=4), backoff_factor=0.01)
    fetch(session, f"{fake.url}/v8/finance/chart/TEST", ticker="TEST", provider="yahoo")
    # The same host (127.0.0.1) answered, so its refusal now may pass: five attempts.
    with pytest.raises(SourceError) as failed:
        fetch(session, f"http://127.0.0.1:{_closed_port()}/x", ticker="TEST", provider="yahoo")
    assert not isinstance(failed.value, UnreachableSource) and failed.value.transient
    assert failed.value.reason == "connection failed (yahoo: Connection refused, 5 attempts)"
    assert [line.rsplit("(", 1)[1] for line in _retries(caplog)] == [f"attempt {n} of 5)" for n in range(2, 6)]


def test_each_retry_is_announced_before_its_wait(fake, caplog):
    caplog.set_level(logging.INFO, LOGGER)
    fake.script("TEST", ["503", Fault("429", retry_after=1)])
    fake.source("yahoo", http_retries=5).daily_prices("TEST", START, END)
    assert _retries(caplog) == [
        "yahoo: HTTP 503 for TEST, retrying now (attempt 2 of 6)",
        "yahoo: HTTP 429 for TEST, retrying in 1 s (attempt 3 of 6)",
    ]


def test_make_source_picks_the_configured_provider(fake, tmp_path):
    kinds = {"yahoo": YahooSource, "tiingo": TiingoSource, "stooq": StooqSource, "csv": CsvSource}
    for name, kind in kinds.items():
        source = make_source(fake.settings(name, csv_dir=tmp_path))
        assert isinstance(source, kind)
        assert source.name == name


def test_make_source_uses_the_given_session(fake):
    session = make_session(fake.settings(), backoff_factor=0)
    session.headers["X-Probe"] = "1"
    make_source(fake.settings("stooq"), session).daily_prices("TEST", START, END)
    assert fake.requests[0].headers["X-Probe"] == "1"

"""The provider fault matrix for the bulk source: each fault of Polygon's answers on a
night, through the real refresh flow (the other passing faults, which end in the same
answer, at the source: tests/sources/test_source_polygon.py). A bulk night rests on one answer for the whole
universe, so a fault either passes within the retry budget (the night equals a clean
one) or fails the night whole: nothing written, a `runs` row naming the fault in one
line, and the next night catches up.
"""

import datetime as dt

import polars as pl
import pytest

from surgewatch.core.settings import load_settings
from surgewatch.flows.refresh import refresh
from surgewatch.sources import bulk
from surgewatch.warehouse import Warehouse
from tests.fake_polygon import TEST_KEY
from tests.fake_providers import Fault, sessions, synthetic_bars

DAYS = sessions(dt.date(2025, 1, 2), dt.date(2025, 12, 31))
TICKERS = ["AAA", "BBB", "CCC"]
# fault -> (pseudo-symbol, script, None when the night recovers, else words of the failure)
# Budget: SURGEWATCH_HTTP_RETRIES=1 (2 attempts a try) and the fetch's 2 further tries.
FAULTS = {
    "429 + Retry-After": ("GROUPED", [Fault("429", retry_after=1)], None),
    "published late": ("GROUPED", ["empty"], None),
    "5xx beyond budget": ("GROUPED", ["503"] * 6, "request failed (polygon HTTP 503"),
    "truncated body": ("GROUPED", ["truncated"], "malformed answer (polygon: JSONDecodeError"),
    "not JSON": ("GROUPED", [Fault("body", body=b"<html>busy</html>", content_type="text/html")], "malformed answer"),
    "error object (HTTP 200)": ("GROUPED", ["error200"], "request refused (polygon: fake refusal)"),
    "not published yet": ("GROUPED", ["empty", "empty"], "not published yet"),
    "dividends down": ("DIVIDENDS", ["503"] * 2, "request failed (polygon HTTP 503"),
    "splits truncated": ("SPLITS", ["truncated"], "malformed answer (polygon: JSONDecodeError"),
}


@pytest.fixture
def night_env(env, monkeypatch, tmp_path):
    for name, value in {
        "SURGEWATCH_SOURCE": "polygon",
        "SURGEWATCH_POLYGON_URL": env.url,
        "SURGEWATCH_POLYGON_KEY": TEST_KEY,
        "SURGEWATCH_HTTP_TIMEOUT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(bulk, "UNPUBLISHED_WAITS", (0.05,))
    for i, t in enumerate(TICKERS):
        env.add_prices(t, synthetic_bars(DAYS, first_close=50.0 + 10 * i))
    return env


def _state() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    with Warehouse.open(load_settings(), read_only=True) as wh:
        return (
            wh.prices(),
            wh.sql("SELECT * FROM month_end ORDER BY ticker, month"),
            wh.sql("SELECT status, source, message FROM runs ORDER BY started_at"),
        )


def test_each_fault_passes_or_fails_the_night_whole(night_env):
    """One campaign: a first load, then every failing fault on the same night (each must
    leave the warehouse as it was), then every passing one on a night of its own.
    Every fault is judged; the failures are reported together."""
    assert refresh(tickers=TICKERS, as_of=DAYS[-20]).status == "published"
    clean = _state()
    problems = []
    failing = {f: v for f, v in FAULTS.items() if v[2] is not None}
    for fault, (symbol, script, failure) in failing.items():
        night_env.clear()
        night_env.script(symbol, script)
        report = refresh(tickers=TICKERS, as_of=DAYS[-19])
        prices, months, runs = _state()
        if (report.status, report.exit_code) != ("failed", 1) or failure not in report.message:
            problems.append(f"{fault}: {report.status} {report.message!r}")
        elif "\n" in report.message or not (prices.equals(clean[0]) and months.equals(clean[1])):
            problems.append(f"{fault}: more than one line, or something written")
        elif runs["status"][-1] != "failed" or failure not in runs["message"][-1]:
            problems.append(f"{fault}: the runs row does not name it: {runs.row(-1)}")
    passing = [f for f, v in FAULTS.items() if v[2] is None]
    for fault, night in zip(passing, DAYS[-19:]):
        symbol, script, _ = FAULTS[fault]
        night_env.clear()
        night_env.script(symbol, script)
        report = refresh(tickers=TICKERS, as_of=night)
        written = _state()[0].filter(pl.col("date") == night).height
        if (report.status, report.failed, written) != ("published", {}, len(TICKERS)):
            problems.append(f"{fault}: {report.status} {report.failed} ({written} rows of {night})")
    assert not problems, "\n".join(problems)
    # Every failed night was caught up by the next one: every session is there once.
    assert _state()[0].group_by("ticker").len()["len"].to_list() == [DAYS.index(DAYS[-19 + len(passing) - 1]) + 1] * 3


def test_an_invalid_key_fails_the_night_in_one_line_and_is_never_shown(night_env, monkeypatch, caplog):
    assert refresh(tickers=TICKERS, as_of=DAYS[-3]).status == "published"
    wrong = "pk-WRONG-key-0123456789"
    monkeypatch.setenv("SURGEWATCH_POLYGON_KEY", wrong)
    report = refresh(tickers=TICKERS, as_of=DAYS[-2])
    assert (report.status, report.exit_code) == ("failed", 1)
    assert "not authorised (polygon HTTP 401: Unknown API Key" in report.message
    _, _, runs = _state()
    shown = caplog.text + report.message + str(runs.to_dicts())
    assert wrong not in shown and TEST_KEY not in shown

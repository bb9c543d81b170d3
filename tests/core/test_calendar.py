"""The NYSE sessions: from exchange_calendars once, then from the user's cache folder."""

import datetime as dt

import numpy as np
import pytest

from surgewatch.core import calendar


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calendar._all_sessions.cache_clear()
    yield tmp_path / "surgewatch"
    calendar._all_sessions.cache_clear()


def test_sessions_are_built_once_then_read_back_equal(fresh_cache):
    built = calendar.nyse_sessions(dt.date(2020, 3, 2), dt.date(2020, 4, 30))
    (cached,) = fresh_cache.glob("xnys-*.npy")
    calendar._all_sessions.cache_clear()
    read = calendar.nyse_sessions(dt.date(2020, 3, 2), dt.date(2020, 4, 30))
    assert read.equals(built)
    # Exactly exchange_calendars' sessions: Good Friday 2020-04-10 is not one.
    end = dt.date(dt.date.today().year + 2, 12, 31)
    assert np.array_equal(np.load(cached), calendar._xnys_days(end))
    assert dt.date(2020, 4, 10) not in read["date"].to_list() and read.height == 22 + 21


def test_a_cache_it_cannot_read_or_write_only_costs_the_rebuild(fresh_cache):
    fresh_cache.parent.mkdir(parents=True, exist_ok=True)
    fresh_cache.write_text("a file where the folder would go")
    assert calendar.nyse_sessions(dt.date(2024, 1, 1), dt.date(2024, 1, 31)).height == 21


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        # Good Friday 2020-04-10 and the weekend after: the last sessions are the 8th and 9th.
        (dt.date(2020, 4, 12), 2, [dt.date(2020, 4, 8), dt.date(2020, 4, 9)]),
        # A session itself counts; the window reaches back across a month end.
        (dt.date(2020, 4, 1), 3, [dt.date(2020, 3, 30), dt.date(2020, 3, 31), dt.date(2020, 4, 1)]),
        (dt.date(2020, 4, 13), 1, [dt.date(2020, 4, 13)]),
    ],
)
def test_sessions_through_a_day_are_the_last_ones_on_or_before_it(day, count, expected):
    assert calendar.sessions_through(day, count).to_list() == expected

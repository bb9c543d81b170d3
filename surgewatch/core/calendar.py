"""The NYSE trading calendar (exchange_calendars' XNYS) as polars frames.

Transforms never call this: flows and commands pass its frames in, so the transforms
stay pure functions of their inputs.

Building XNYS (importing exchange_calendars and pandas, then the calendar) takes about
0.6 s of every process that needs a session; its session dates are kept in the user's
cache folder, keyed by exchange_calendars' version and the span, and read from there after.
"""

import datetime as dt
import os
import tempfile
import warnings
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from surgewatch.core.errors import InputError

# XNYS is defined from 1885 on, but building it that far back is slow; no listed
# ETF or index we track starts before this.
CALENDAR_START = dt.date(1980, 1, 1)
# The exchange's clock: a session's date, and "today", are New York's.
NEW_YORK = ZoneInfo("America/New_York")


def today_in_new_york(now: dt.datetime | None = None) -> dt.date:
    """Today's date in New York (at `now`, default the current time)."""
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(NEW_YORK).date()


def refuse_future(as_of: dt.date | None, option: str = "`as_of`") -> None:
    """InputError when as_of is after today in New York: that night has not happened,
    and a run stored as of it would hold every later night back."""
    today = today_in_new_york()
    if as_of is not None and as_of > today:
        raise InputError(f"{option} {as_of} is in the future (today is {today} in New York): give a date up to today")


def _xnys_days(end: dt.date) -> np.ndarray:
    """XNYS's sessions from CALENDAR_START to end, as days since 1970-01-01."""
    import exchange_calendars as xc

    # exchange_calendars 4.13 still reads Series.values, which pandas 3 deprecates;
    # the warning is theirs, not ours, and would otherwise reach every user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Series.values returning")
        calendar = xc.get_calendar("XNYS", start=CALENDAR_START.isoformat(), end=end.isoformat())
    return calendar.sessions.to_numpy().astype("datetime64[D]").astype(np.int32)


def cache_folder() -> Path:
    """Where surgewatch keeps what it can rebuild: $XDG_CACHE_HOME/surgewatch (~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "surgewatch"


@lru_cache(maxsize=1)
def _all_sessions() -> pl.Series:
    end = dt.date(dt.date.today().year + 2, 12, 31)
    path = cache_folder() / f"xnys-{version('exchange_calendars')}-{CALENDAR_START}-{end}.npy"
    try:
        days = np.load(path)
    except (OSError, ValueError):
        days = _xnys_days(end)
        try:  # written whole or not at all; a folder it cannot write only costs the rebuild
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as part:
                np.save(part, days)
            os.replace(part.name, path)
        except OSError:
            pass
    return pl.Series("date", days).cast(pl.Date)


def nyse_sessions(start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every NYSE session from the first day of start's month to the last day of end's month.

    Whole months, so a partial month still knows its last session.
    """
    first = start.replace(day=1)
    last = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    sessions = _all_sessions()
    return pl.DataFrame(sessions.filter((sessions >= first) & (sessions <= last)))


def sessions_through(day: dt.date, count: int) -> pl.Series:
    """The last `count` NYSE sessions on or before day, oldest first."""
    sessions = _all_sessions()
    end = sessions.search_sorted(day, side="right")
    return sessions.slice(max(end - count, 0), min(end, count))

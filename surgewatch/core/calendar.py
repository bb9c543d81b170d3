"""The NYSE trading calendar (exchange_calendars' XNYS) as polars frames.

Transforms never call this: flows and commands pass its frames in, so the transforms
stay pure functions of their inputs.
"""

import datetime as dt
import warnings
from functools import lru_cache

from zoneinfo import ZoneInfo

import exchange_calendars as xc
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


@lru_cache(maxsize=1)
def _xnys() -> xc.ExchangeCalendar:
    end = dt.date(dt.date.today().year + 2, 12, 31)
    # exchange_calendars 4.13 still reads Series.values, which pandas 3 deprecates;
    # the warning is theirs, not ours, and would otherwise reach every user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Series.values returning")
        return xc.get_calendar("XNYS", start=CALENDAR_START.isoformat(), end=end.isoformat())


@lru_cache(maxsize=1)
def _all_sessions() -> pl.Series:
    return pl.Series("date", _xnys().sessions.to_numpy()).cast(pl.Date)


def nyse_sessions(start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every NYSE session from the first day of start's month to the last day of end's month.

    Whole months, so a partial month still knows its last session.
    """
    first = start.replace(day=1)
    last = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    sessions = _all_sessions()
    return pl.DataFrame(sessions.filter((sessions >= first) & (sessions <= last)))

"""The NYSE trading calendar (exchange_calendars' XNYS) as polars frames.

Transforms never call this: flows and commands pass its frames in, so the transforms
stay pure functions of their inputs.
"""

import datetime as dt
import warnings
from functools import lru_cache

import exchange_calendars as xc
import polars as pl

# XNYS is defined from 1885 on, but building it that far back is slow; no listed
# ETF or index we track starts before this.
CALENDAR_START = dt.date(1980, 1, 1)


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

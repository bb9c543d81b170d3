"""Dated series from outside prices (SPEC §2d): `date,value` CSV files, FRED's CSV as
downloaded (first column the date, second the value, any header, `.` for a missing
value), and FRED's public graph CSV over HTTP (`fredgraph.csv?id=ID`, no key).

The only module that talks to FRED."""

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import requests

from surgewatch.core.errors import InputError, SourceError, one_line
from surgewatch.sources.http import HttpSettings, fetch, make_session

SERIES_SCHEMA = {"date": pl.Date(), "value": pl.Float64()}
FRED = "fred"


def parse_series_csv(text: str, origin: str) -> pl.DataFrame:
    """(date, value) rows of a series CSV, sorted by date; InputError naming `origin` and
    the line of a bad date, a value that is no number, a date given twice, or no rows.
    The first line is a header when its first field is no date."""
    rows = list(csv.reader(io.StringIO(text)))
    if rows and rows[0] and _date(rows[0][0]) is None:
        rows, first = rows[1:], 2
    else:
        first = 1
    dates, values = [], []
    for number, row in enumerate(rows, first):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise InputError(f"{origin}, line {number}: expected date,value, got {one_line(','.join(row), 60)!r}")
        day = _date(row[0])
        if day is None:
            raise InputError(f"{origin}, line {number}: {row[0]!r} is not a date (YYYY-MM-DD)")
        raw = row[1].strip()
        value = None if raw in (".", "") else _number(raw)
        if value is None and raw not in (".", ""):
            raise InputError(f"{origin}, line {number}: {raw!r} is not a number (`.` marks a missing value)")
        dates.append(day)
        values.append(value)
    if not dates:
        raise InputError(f"{origin}: no rows (expected date,value lines)")
    frame = pl.DataFrame({"date": dates, "value": values}, schema=SERIES_SCHEMA).sort("date")
    twice = frame.filter(pl.col("date").is_duplicated())["date"]
    if len(twice):
        raise InputError(f"{origin}: the date {twice[0]} is given twice")
    return frame


def read_series_csv(path: Path) -> pl.DataFrame:
    """parse_series_csv of a file; InputError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text CSV") from None
    return parse_series_csv(text, str(path))


def fred_series(session: requests.Session, base_url: str, series_id: str) -> pl.DataFrame:
    """FRED's graph CSV of one series (GET {base}/graph/fredgraph.csv?id=ID) as (date,
    value); SourceError(series_id, one line) when FRED fails, answers something else than
    its CSV (an HTML page, a cut body) or knows no such series."""
    response = fetch(
        session, f"{base_url}/graph/fredgraph.csv", ticker=series_id, provider=FRED, params={"id": series_id}
    )
    text = response.text
    head = text.lstrip()[:200].lower()
    if head.startswith("<") or "<html" in head:
        raise SourceError(series_id, "unexpected answer (fred sent a web page, not the series' CSV: is the id right?)")
    if not text.endswith("\n"):
        # FRED ends every line; without the last newline the body was cut, maybe inside a number.
        raise SourceError(series_id, "answer cut off (fred: the CSV's last line is incomplete)", transient=True)
    try:
        return parse_series_csv(text, f"fred {series_id}")
    except InputError as exc:
        raise SourceError(series_id, f"malformed answer ({exc})") from None


@dataclass(frozen=True)
class _FredHttp:
    """The price providers' HTTP settings, for FRED (its own name in retry messages)."""

    http_timeout: float
    http_retries: int
    http_min_interval: float
    source: str = FRED


def fred_id(raw: str) -> str:
    """A FRED series id, upper-cased; InputError unless letters, digits and _."""
    ident = raw.strip().upper()
    if not re.fullmatch(r"[A-Z0-9_]{1,40}", ident):
        raise InputError(f"--fred {raw!r}: a FRED series id is letters, digits and _ (e.g. FEDFUNDS)")
    return ident


def fetch_fred(settings: HttpSettings, base_url: str, series_id: str) -> pl.DataFrame:
    """fred_series over a session with the price providers' retries, timeout and pace."""
    http = _FredHttp(settings.http_timeout, settings.http_retries, settings.http_min_interval)
    return fred_series(make_session(http), base_url, series_id)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

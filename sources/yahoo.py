"""Yahoo Finance's v8 chart API: the default source.

``GET {yahoo_url}/v8/finance/chart/{SYMBOL}?period1=…&period2=…&interval=1d``: each
bar is stamped with its session's 09:30 New York open (epoch seconds), so the session
date is the New York calendar date of the stamp. `close` is split-adjusted but not
dividend-adjusted; `adjclose` adds dividends. period1 is 00:00 UTC on `start` (before
that day's open) and period2 00:00 UTC the day after `end` (after that day's open), so
exactly the sessions in [start, end] are asked for.
"""

import datetime as dt
import time
from typing import Any
from urllib.parse import quote

import polars as pl

from surgewatch.sources.base import (
    DETAIL_CHARS,
    HttpSource,
    EARLIEST,
    OHLC,
    empty_frame,
    finish_frame,
    malformed_answer,
    no_booleans,
)
from surgewatch.sources.http import fetch
from surgewatch.core.errors import SourceError, one_line

NAME = "yahoo"
EXCHANGE_TZ = "America/New_York"


class YahooSource(HttpSource):
    """Daily bars from Yahoo's chart API."""

    name = NAME

    def _bars(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        response = fetch(
            self._session,
            # safe="" so ^RUT goes out as %5ERUT and nothing in a symbol can add a path segment.
            f"{self._base}/v8/finance/chart/{quote(symbol, safe='')}",
            ticker=symbol,
            provider=NAME,
            params={
                "period1": _epoch(start or EARLIEST),
                "period2": _epoch(end + dt.timedelta(days=1)) if end else int(time.time()),
                "interval": "1d",
                "events": "div|split",
                "includeAdjustedClose": "true",
            },
            detail_path=("chart", "error", "description"),
        )
        with malformed_answer(symbol, NAME):
            bars = _parse_chart(response.json(), symbol)
            return empty_frame() if bars is None else finish_frame(bars, symbol, NAME, start, end)


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _parse_chart(body: Any, symbol: str) -> pl.DataFrame | None:
    """The bars of a chart answer, or None when it holds no bars for the range."""
    chart = body["chart"]
    error = chart.get("error")
    if error:
        what = "unknown symbol" if error.get("code") == "Not Found" else "request refused"
        detail = one_line(f"{error.get('code')}: {error.get('description')}", DETAIL_CHARS)
        raise SourceError(symbol, f"{what} (yahoo: {detail})")
    results = chart.get("result")
    if not results:
        raise SourceError(symbol, "empty answer (yahoo: no chart result and no error)")
    result = results[0]
    answered_for = result["meta"].get("symbol")
    if str(answered_for).upper() != symbol:
        raise SourceError(symbol, f"answer is for another symbol (yahoo sent {answered_for!r})")
    stamps = result.get("timestamp") or []
    if not stamps:
        return None
    quote_arrays = result["indicators"]["quote"][0]
    adjclose = (result["indicators"].get("adjclose") or [{}])[0].get("adjclose")
    columns = {c: quote_arrays[c] for c in OHLC}
    columns["volume"] = quote_arrays.get("volume") or [None] * len(stamps)
    columns["adj_close"] = adjclose or [None] * len(stamps)
    no_booleans(stamps, "timestamp")
    for name, values in columns.items():
        if len(values) != len(stamps):
            raise ValueError(f"{name} has {len(values)} values for {len(stamps)} timestamps")
        no_booleans(values, name)
    dates = (
        pl.from_epoch(pl.Series(stamps, dtype=pl.Int64), time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(EXCHANGE_TZ)
        .dt.date()
    )
    return pl.DataFrame({name: pl.Series(values, dtype=pl.Float64) for name, values in columns.items()}).with_columns(
        date=dates
    )

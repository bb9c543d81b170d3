"""Stooq's CSV download.

``GET {stooq_url}/q/d/l/?s={symbol}&i=d&d1=YYYYMMDD&d2=YYYYMMDD`` answers
``Date,Open,High,Low,Close,Volume`` with split-adjusted prices and no adjusted close
(`adj_close` is null). Symbols: US listings are the lower-cased ticker with ``.us``
(``IWM`` → ``iwm.us``, ``BRK-B`` → ``brk-b.us``); indices keep their caret and get no
suffix (``^RUT`` → ``^rut``). Stooq's own suffixes for other markets are not supported.

Stooq answers the body ``No data`` (HTTP 200) both for an unknown symbol and for a
range with no bars; when the range holds an NYSE session that can only mean the symbol
is unknown (or not covered that far back), otherwise it is an empty frame.
"""

import datetime as dt
import io

import polars as pl

from surgewatch.sources.base import HttpSource, OHLC, empty_frame, finish_frame, malformed_answer
from surgewatch.sources.http import fetch
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.errors import SourceError, one_line

NAME = "stooq"
_HEADER = "Date,Open,High,Low,Close"


class StooqSource(HttpSource):
    """Daily bars from Stooq's CSV download."""

    name = NAME

    def _bars(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        params = {"s": stooq_symbol(symbol), "i": "d"}
        if start is not None:
            params["d1"] = start.strftime("%Y%m%d")
        if end is not None:
            params["d2"] = end.strftime("%Y%m%d")
        response = fetch(self._session, f"{self._base}/q/d/l/", ticker=symbol, provider=NAME, params=params)
        text = response.text.strip()
        if text.lower().startswith("no data"):
            if start is not None and not _has_session(start, end or dt.date.today()):
                return empty_frame()
            raise SourceError(symbol, f"unknown symbol (stooq has no data for {params['s']} in the range asked)")
        if not text.startswith(_HEADER):
            raise SourceError(symbol, f"unexpected answer (stooq: {one_line(text, 120)})")
        if not response.text.endswith("\n"):
            # Every line Stooq writes ends with CRLF. Without it the last line may be cut
            # inside a number ("1234.5" read as "12"), which parses fine and is wrong.
            raise SourceError(symbol, "answer cut off (stooq: the CSV's last line is incomplete)", transient=True)
        with malformed_answer(symbol, NAME):
            bars = pl.read_csv(io.StringIO(text), infer_schema=False).rename(str.lower)
            numeric = [c for c in (*OHLC, "volume") if c in bars.columns]
            bars = bars.with_columns(
                pl.col("date").str.to_date("%Y-%m-%d"), *(pl.col(c).cast(pl.Float64) for c in numeric)
            )
            return finish_frame(bars, symbol, NAME, start, end)


def stooq_symbol(symbol: str) -> str:
    """Stooq's name for a normalised symbol: ``^rut`` for indices, ``iwm.us`` for US listings."""
    return symbol.lower() if symbol.startswith("^") else f"{symbol.lower()}.us"


def _has_session(start: dt.date, end: dt.date) -> bool:
    sessions = nyse_sessions(start, end)["date"]
    return bool(sessions.is_between(start, end).any())

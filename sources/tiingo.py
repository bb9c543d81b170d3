"""Tiingo's end-of-day prices API.

``GET {tiingo_url}/tiingo/daily/{ticker}/prices?startDate=…&format=json&resampleFreq=daily``
with the token in an ``Authorization: Token …`` header only (never in the URL, a log
line or an error message).

Basis. Tiingo's `open/high/low/close/volume` are the raw prints of the day, while the
spec's `close` is split-adjusted and not dividend-adjusted (as Yahoo's chart API gives
it). Each row carries `splitFactor` (new shares per old share on a split's ex-date,
else 1), so a row's split-adjusted price is its raw price divided by the product of
the splitFactor of every *later* row, and its volume is multiplied by it. That product
must include every split up to today, not only those up to `end`, so the request never
sends `endDate`: it asks for `startDate` to the latest session and the rows after `end`
are dropped once the adjustment is done. `adj_close` is Tiingo's `adjClose` (splits and
dividends). Index symbols (``^RUT``) are not carried by Tiingo and are refused without
a request.
"""

import datetime as dt
from typing import Any
from urllib.parse import quote

import polars as pl
import requests
from pydantic import SecretStr

from surgewatch.sources.base import (
    DETAIL_CHARS,
    HttpSource,
    EARLIEST,
    OHLC,
    finish_frame,
    malformed_answer,
    no_booleans,
)
from surgewatch.sources.http import fetch
from surgewatch.core.errors import SettingsError, SourceError, one_line

NAME = "tiingo"
_FIELDS = {
    "date": pl.Utf8,
    **{c: pl.Float64 for c in (*OHLC, "volume", "adjClose", "splitFactor")},
}


class TiingoSource(HttpSource):
    """Daily bars from Tiingo, split-adjusted to match Yahoo's basis."""

    name = NAME

    def __init__(self, base_url: str, token: SecretStr | None, session: requests.Session):
        if token is None or not token.get_secret_value().strip():
            raise SettingsError("the tiingo source needs an API token: set SURGEWATCH_TIINGO_TOKEN")
        # Kept wrapped so no repr, vars() or pickle inspection of the source prints it.
        self._token = SecretStr(token.get_secret_value().strip())
        super().__init__(base_url, session)

    def _refuse(self, symbol: str) -> None:
        if symbol.startswith("^"):
            raise SourceError(symbol, "tiingo has no index data; use the yahoo, stooq or csv source")

    def _bars(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        token = self._token.get_secret_value()
        response = fetch(
            self._session,
            f"{self._base}/tiingo/daily/{quote(symbol.lower(), safe='')}/prices",
            ticker=symbol,
            provider=NAME,
            params={"startDate": (start or EARLIEST).isoformat(), "format": "json", "resampleFreq": "daily"},
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            detail_path=("detail",),
            secret=token,
        )
        with malformed_answer(symbol, NAME):
            bars = _parse_prices(response.json(), symbol)
            return finish_frame(bars, symbol, NAME, start, end)


def _parse_prices(body: Any, symbol: str) -> pl.DataFrame:
    if isinstance(body, dict):
        # Tiingo explains refusals (unknown ticker, plan limits) in a {"detail": …} object.
        raise SourceError(symbol, f"request refused (tiingo: {one_line(str(body.get('detail', body)), DETAIL_CHARS)})")
    if not isinstance(body, list):
        raise TypeError(f"expected a list of days, got {type(body).__name__}")
    if not body:
        return pl.DataFrame(schema={"date": pl.Date, **{c: pl.Float64 for c in OHLC}})
    for day in body:
        no_booleans((day.get(name) for name in _FIELDS), "a day's values")
    rows = pl.from_dicts(body, schema=_FIELDS).sort("date")
    factors = rows["splitFactor"].drop_nulls()
    if not (factors.is_finite() & (factors > 0)).all():
        # Every adjusted price is divided by these: a zero, negative or infinite factor
        # would make up prices the provider never quoted.
        raise ValueError(
            f"splitFactor must be a positive number, got {factors.filter(~(factors.is_finite() & (factors > 0)))[0]}"
        )
    later_splits = pl.col("splitFactor").fill_null(1.0).shift(-1, fill_value=1.0).reverse().cum_prod().reverse()
    return rows.select(
        # Tiingo stamps each day as midnight UTC of the session date: the date part is it.
        pl.col("date").str.slice(0, 10).str.to_date("%Y-%m-%d"),
        *(pl.col(c) / later_splits for c in OHLC),
        pl.col("adjClose").alias("adj_close"),
        pl.col("volume") * later_splits,
    )

"""Polygon's REST API: the whole US market's bars for one session, and its splits and dividends.

``GET {polygon_url}/v2/aggs/grouped/locale/us/market/stocks/{date}?adjusted=true``
answers ``{"status": "OK", "resultsCount": n, "results": [{"T", "o", "h", "l", "c",
"v", "vw", "t", "n"}, …]}``: every listed symbol's bar of that session, split-adjusted
(the spec's `close` basis), `t` the bar's end in epoch milliseconds. A date Polygon has
no bars for (a holiday, or a session it has not published yet) answers
``resultsCount: 0`` without `results` (some mirrors: HTTP 404).

``GET {polygon_url}/v3/reference/splits?execution_date.gte=…&execution_date.lte=…`` and
``/v3/reference/dividends?ex_dividend_date.gte=…&ex_dividend_date.lte=…`` list the
corporate actions of a date range, a page of `limit` at a time with ``next_url`` to the
next one.

The key goes in an ``Authorization: Bearer …`` header only: never in a URL, a log line
or an error message (Polygon's own next_url links carry no key).
"""

import datetime as dt
from typing import Any

import polars as pl
import requests
from pydantic import SecretStr

from surgewatch.core.calendar import NEW_YORK
from surgewatch.core.errors import SettingsError, SourceError, one_line
from surgewatch.sources.base import DETAIL_CHARS, malformed_answer, no_booleans
from surgewatch.sources.http import fetch

NAME = "polygon"
PAGE = 1000  # the reference endpoints' largest page
_BAR = {
    "T": pl.Utf8,
    "o": pl.Float64,
    "h": pl.Float64,
    "l": pl.Float64,
    "c": pl.Float64,
    "v": pl.Float64,
    "t": pl.Int64,
}
SPLITS_SCHEMA = {"ticker": pl.Utf8, "date": pl.Date, "ratio": pl.Float64}
DIVIDENDS_SCHEMA = {"ticker": pl.Utf8, "date": pl.Date, "amount": pl.Float64}


class PolygonClient:
    """The three questions a bulk night asks Polygon, each one request (or a few pages)."""

    name = NAME

    def __init__(self, base_url: str, key: SecretStr | None, session: requests.Session):
        if key is None or not key.get_secret_value().strip():
            raise SettingsError("the polygon source needs an API key: set SURGEWATCH_POLYGON_KEY")
        # Kept wrapped so no repr, vars() or pickle inspection of the client prints it.
        self._key = SecretStr(key.get_secret_value().strip())
        self._base = base_url
        self._session = session

    def grouped_daily(self, day: dt.date) -> pl.DataFrame | None:
        """Every symbol's bar of `day` as (ticker, date, open, high, low, close, volume),
        or None when Polygon has no bars for that date (yet)."""
        label = f"grouped daily {day}"
        try:
            body = self._get(f"/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}", {"adjusted": "true"}, label)
        except SourceError as exc:
            if "HTTP 404" in exc.reason:
                return None
            raise
        with malformed_answer(label, NAME):
            return _parse_grouped(body, day)

    def splits(self, first: dt.date, last: dt.date) -> pl.DataFrame:
        """(ticker, date, ratio) of the splits executed in [first, last]: ratio = new
        shares per old share (split_to / split_from), 2.0 for 2-for-1."""
        rows = self._pages(
            "/v3/reference/splits", "execution_date", first, last, f"splits {first}..{last}", ("split_from", "split_to")
        )
        with malformed_answer(f"splits {first}..{last}", NAME):
            frame = pl.DataFrame(
                {
                    "ticker": [str(r["ticker"]) for r in rows],
                    "date": [dt.date.fromisoformat(r["execution_date"]) for r in rows],
                    "ratio": [float(r["split_to"]) / float(r["split_from"]) for r in rows],
                },
                schema=SPLITS_SCHEMA,
            )
            if not (frame["ratio"].is_finite() & (frame["ratio"] > 0)).all():
                raise ValueError("a split's split_from or split_to is not a positive number")
            return frame

    def dividends(self, first: dt.date, last: dt.date) -> pl.DataFrame:
        """(ticker, date, amount) of the cash dividends going ex in [first, last], amount
        per share in the currency of the prices."""
        rows = self._pages(
            "/v3/reference/dividends", "ex_dividend_date", first, last, f"dividends {first}..{last}", ("cash_amount",)
        )
        with malformed_answer(f"dividends {first}..{last}", NAME):
            frame = pl.DataFrame(
                {
                    "ticker": [str(r["ticker"]) for r in rows],
                    "date": [dt.date.fromisoformat(r["ex_dividend_date"]) for r in rows],
                    "amount": [float(r["cash_amount"]) for r in rows],
                },
                schema=DIVIDENDS_SCHEMA,
            )
            if not (frame["amount"].is_finite() & (frame["amount"] >= 0)).all():
                raise ValueError("a dividend's cash_amount is not a number of zero or more")
            return frame

    def _pages(
        self, path: str, field: str, first: dt.date, last: dt.date, label: str, numbers: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """Every result of a reference endpoint over [first, last], following next_url."""
        params: dict[str, str | int] | None = {
            f"{field}.gte": first.isoformat(),
            f"{field}.lte": last.isoformat(),
            "limit": PAGE,
        }
        url, rows = self._base + path, []
        while url:
            body = self._get(url, params, label, absolute=True)
            with malformed_answer(label, NAME):
                _check_status(body, label)
                page = body.get("results") or []
                if not isinstance(page, list):
                    raise TypeError(f"results is a {type(page).__name__}, not a list")
                for row in page:
                    no_booleans((row.get(name) for name in numbers), label)
                rows += page
                url = body.get("next_url") or ""
            params = None  # next_url carries the query (Polygon's cursor) itself
        return rows

    def _get(self, path: str, params: dict[str, str | int] | None, label: str, *, absolute: bool = False) -> Any:
        key = self._key.get_secret_value()
        response = fetch(
            self._session,
            path if absolute else self._base + path,
            ticker=label,
            provider=NAME,
            params=params,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            detail_path=("error",),
            secret=key,
        )
        with malformed_answer(label, NAME):
            return response.json()


def _check_status(body: Any, label: str) -> None:
    """SourceError for an answer whose status says it is not one (HTTP 200 with an error)."""
    status = body.get("status")
    if status not in ("OK", "DELAYED"):
        detail = body.get("error") or body.get("message") or status
        raise SourceError(label, f"request refused (polygon: {one_line(str(detail), DETAIL_CHARS)})")


def _parse_grouped(body: Any, day: dt.date) -> pl.DataFrame | None:
    _check_status(body, f"grouped daily {day}")
    results = body.get("results") or []
    if not isinstance(results, list):
        raise TypeError(f"results is a {type(results).__name__}, not a list")
    if not results:
        return None
    for bar in results:
        no_booleans((bar.get(name) for name in _BAR if name != "T"), "a bar's values")
    bars = pl.from_dicts(results, schema=_BAR)
    stamped = (
        pl.from_epoch(bars["t"], time_unit="ms")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(NEW_YORK.key)
        .dt.date()
    )
    if (stamped != day).any():
        raise ValueError(f"bars stamped {stamped.filter(stamped != day)[0]} in the answer for {day}")
    return bars.select(
        pl.col("T").str.to_uppercase().alias("ticker"),
        pl.lit(day).alias("date"),
        pl.col("o").alias("open"),
        pl.col("h").alias("high"),
        pl.col("l").alias("low"),
        pl.col("c").alias("close"),
        pl.col("v").alias("volume"),
    )

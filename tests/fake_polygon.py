"""Polygon's part of the fake providers (tests.fake_providers serves it beside the others).

Answers in Polygon's real JSON from the fake's frames (every registered symbol, and the
prices folder's CSVs once asked for): grouped daily (``/v2/aggs/grouped/locale/us/market/
stocks/{date}``: ``{"status", "queryCount", "resultsCount", "adjusted", "results": [{"T",
"v", "vw", "o", "c", "h", "l", "t", "n"}], "request_id"}``, no `results` on a date
without bars), splits and dividends (``/v3/reference/…``, pages of `limit` with a
`next_url` cursor). A request without ``Authorization: Bearer <key>`` gets Polygon's 401.

Faults are scripted on the pseudo-symbols GROUPED, SPLITS and DIVIDENDS; ``"empty"`` on
GROUPED is a session not published yet (``resultsCount: 0``), ``"error200"`` an HTTP 200
with ``"status": "ERROR"``.
"""

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import polars as pl

GROUPED_PATH = "/v2/aggs/grouped/locale/us/market/stocks/"
REFERENCE = {
    "/v3/reference/splits": ("SPLITS", "execution_date"),
    "/v3/reference/dividends": ("DIVIDENDS", "ex_dividend_date"),
}
TEST_KEY = "pk-test-5ecret-ABCDEF0123"
_NEW_YORK = ZoneInfo("America/New_York")
_ERRORS = {
    401: {"status": "ERROR", "request_id": "fake", "error": "Unknown API Key"},
    403: {"status": "NOT_AUTHORIZED", "request_id": "fake", "message": "You are not entitled to this data."},
    404: {"status": "NOT_FOUND", "request_id": "fake", "message": "Data not found."},
    429: {"status": "ERROR", "request_id": "fake", "error": "You've exceeded the maximum requests per minute."},
    200: {"status": "ERROR", "request_id": "fake", "error": "fake refusal"},
}


def route(path: str, params: dict[str, str]) -> tuple[str, dt.date | None, dt.date | None] | None:
    """(pseudo-symbol, first day, last day) of a Polygon request, None for any other path."""
    if path.startswith(GROUPED_PATH):
        day = dt.date.fromisoformat(path[len(GROUPED_PATH) :].strip("/"))
        return "GROUPED", day, day
    if path in REFERENCE:
        symbol, field = REFERENCE[path]
        first, last, _ = _window(params, field)
        return symbol, first, last
    return None


def error(status: int) -> bytes:
    """Polygon's error body for an HTTP status (Polygon's own words where it has them)."""
    return json.dumps(
        _ERRORS.get(status, {"status": "ERROR", "request_id": "fake", "error": f"fake {status}"})
    ).encode()


def answer(
    symbol: str,
    first: dt.date,
    params: dict[str, str],
    frames: dict[str, pl.DataFrame],
    actions: dict[str, list[dict[str, Any]]],
    base_url: str,
    *,
    empty: bool,
) -> bytes:
    """The body of a healthy answer (or of an unpublished session, `empty`)."""
    if symbol == "GROUPED":
        rows = [] if empty else _grouped(first, frames)
        body: dict[str, Any] = {"queryCount": len(rows), "resultsCount": len(rows), "adjusted": True}
        if rows:
            body["results"] = rows
        return json.dumps({**body, "status": "OK", "request_id": "fake"}).encode()
    path = next(p for p, (s, _) in REFERENCE.items() if s == symbol)
    field = REFERENCE[path][1]
    low, high, offset = _window(params, field)
    limit = int(params.get("limit", 10))
    rows = [r for r in actions[symbol] if low <= dt.date.fromisoformat(r[field]) <= high]
    page = rows[offset : offset + limit]
    body = {"results": page, "status": "OK", "request_id": "fake"}
    if offset + limit < len(rows):
        cursor = f"{offset + limit}:{low}:{high}"
        body["next_url"] = f"{base_url}{path}?{urlencode({'cursor': cursor, 'limit': limit})}"
    return json.dumps(body).encode()


def _window(params: dict[str, str], field: str) -> tuple[dt.date, dt.date, int]:
    if "cursor" in params:
        offset, low, high = params["cursor"].split(":")
        return dt.date.fromisoformat(low), dt.date.fromisoformat(high), int(offset)
    low, high = params.get(f"{field}.gte"), params.get(f"{field}.lte")
    return dt.date.fromisoformat(low or "1900-01-01"), dt.date.fromisoformat(high or "2999-12-31"), 0


def _grouped(day: dt.date, frames: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    stamp = int(dt.datetime.combine(day, dt.time(16), tzinfo=_NEW_YORK).timestamp() * 1000)
    rows = []
    for symbol, frame in sorted(frames.items()):
        for bar in frame.filter(pl.col("date") == day).iter_rows(named=True):
            rows.append(
                {
                    "T": symbol,
                    "v": bar["volume"],
                    "vw": round((bar["high"] + bar["low"] + bar["close"]) / 3, 4),
                    "o": bar["open"],
                    "c": bar["close"],
                    "h": bar["high"],
                    "l": bar["low"],
                    "t": stamp,
                    "n": 1000,
                }
            )
    return rows

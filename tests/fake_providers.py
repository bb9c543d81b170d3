"""A local stand-in for the price providers: Yahoo's chart API, Tiingo, Stooq and Polygon.

A real HTTP server on 127.0.0.1 (ephemeral port, its own thread) that answers in each
provider's real format from daily prices kept as polars frames: registered synthetic
frames first, else ``{prices_dir}/{SYMBOL}.csv`` (an index ``^RUT`` also as
``RUT.csv``). Every request is recorded (provider, symbol, query, headers, the date
window asked for), and per-symbol scripted faults make the next requests fail in the
ways real providers do.

In tests::

    def test_x(fake_providers):            # the fixture below (see tests/sources/conftest.py)
        fake_providers.add_prices("IWM", synthetic_bars(dates))
        fake_providers.script("IWM", ["503", "503"])     # next two requests for IWM fail
        source = fake_providers.source("yahoo")         # fast retries, no pacing
        frame = source.daily_prices("IWM", start, end)
        assert fake_providers.count("IWM") == 3
        assert fake_providers.requests[-1].start == start

Elsewhere: ``with FakeProviders(prices_dir) as fake: …`` or, for a demo,
``python -m tests.fake_providers --port 8765 --prices ../shared/data/prices``.

Fault kinds (strings, or `Fault` for options); each scripted fault is used by one
request, in order, then answers are normal again:

- ``"429"``, ``"500"``…: that HTTP status with the provider's error body
  (``Fault("429", retry_after=1)`` adds a Retry-After header);
  ``"404"`` is the provider's unknown-symbol answer, ``"401"`` a refused token.
- ``"reset"``: the connection is closed (RST) without an answer.
- ``"stall"``: no answer for `Fault.seconds` (default 30 s, ended early by stop()).
- ``"truncated"``: HTTP 200 whose body is the first half of the normal answer.
- ``"short_body"``: Content-Length promises the full answer, half is sent, then close.
- ``"empty"``: Yahoo ``result: []``, Tiingo ``[]``, Stooq ``No data``.
- ``"null_bars"``: the normal answer with nulls: in the served window, bar
  ``rows[0]`` has every value null (Yahoo's usual hole), bar ``rows[1]`` only its open.
- ``"error200"``: HTTP 200 carrying an error (Yahoo ``chart.error``, Tiingo
  ``{"detail"}``, Stooq's "Exceeded the daily hits limit").
- ``"wrong_symbol"``: Yahoo only: the answer's meta.symbol names another symbol
  (Tiingo and Stooq answers do not name the symbol, so they answer normally).
- ``Fault("body", body=b"…", status=200, content_type="…")``: exactly that answer.

Polygon (tests.fake_polygon) answers for every symbol at once; its faults are scripted on
the pseudo-symbols GROUPED, SPLITS and DIVIDENDS, and its actions added with add_split
and add_dividend.
"""

import argparse
import datetime as dt
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from surgewatch.sources import PriceSource, make_session, make_source
from surgewatch.sources.base import RAW_SCHEMA
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.settings import Settings
from tests import fake_polygon

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_PRICES = SHARED / "data" / "prices"
NEW_YORK = ZoneInfo("America/New_York")
YAHOO_OPEN = dt.time(9, 30)
TEST_TOKEN = "tok-test-5ecret-0123456789"
_PRICE_SCHEMA = {name: dtype for name, dtype in RAW_SCHEMA.items() if name != "ticker"}
_FAULT_KINDS = {"reset", "stall", "truncated", "short_body", "empty", "null_bars", "error200", "wrong_symbol", "body"}


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour for one request (see the module docstring for kinds)."""

    kind: str
    retry_after: int | None = None
    seconds: float = 30.0
    rows: tuple[int, int] = (1, 2)
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        if self.kind not in _FAULT_KINDS and not (self.kind.isdigit() and len(self.kind) == 3):
            raise ValueError(f"unknown fault kind {self.kind!r}")


@dataclass(frozen=True)
class Hit:
    """One request the server received, and what it did about it."""

    provider: str  # "yahoo" | "tiingo" | "stooq" | "polygon" | "other"
    symbol: str | None  # upper-case, as the provider's symbol maps back (iwm.us -> IWM)
    target: str  # the request target exactly as sent: percent-encoded path and query
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    start: dt.date | None  # the first day asked for (Yahoo: UTC date of period1)
    end: dt.date | None  # the last day asked for (Yahoo: UTC date of period2 - 1 s)
    fault: str | None
    status: int | None  # None when no answer was sent (reset, stall)
    at: float = field(default_factory=time.monotonic)  # when it arrived (request budget tests)


def synthetic_bars(dates: Iterable[dt.date], *, first_close: float = 100.0, step: float = 0.5) -> pl.DataFrame:
    """Deterministic bars on the given dates: close rises by `step` a day.

    Values are multiples of 1/8, exact in binary, so round trips compare with ==.
    """
    days = list(dates)
    return bars_from_closes(days, [first_close + step * i for i in range(len(days))])


def bars_from_closes(days: Sequence[dt.date], closes: Sequence[float]) -> pl.DataFrame:
    """Bars around the given closes (open 0.25 below, high/low 1 either side, adj_close
    0.125 below): multiples of 1/8 stay exact in binary and in decimal text."""
    return pl.DataFrame(
        {
            "date": days,
            "open": [c - 0.25 for c in closes],
            "high": [c + 1.0 for c in closes],
            "low": [c - 1.0 for c in closes],
            "close": closes,
            "adj_close": [c - 0.125 for c in closes],
            "volume": [1_000_000 + 1000 * i for i in range(len(days))],
        },
        schema=_PRICE_SCHEMA,
    )


def sessions(start: dt.date, end: dt.date) -> list[dt.date]:
    """The NYSE sessions in [start, end]."""
    days = nyse_sessions(start, end)["date"]
    return days.filter(days.is_between(start, end)).to_list()


def yahoo_stamp(day: dt.date, at: dt.time = YAHOO_OPEN) -> int:
    """Epoch seconds of `at` New York time on `day` (DST-aware), as Yahoo stamps bars."""
    return int(dt.datetime.combine(day, at, tzinfo=NEW_YORK).timestamp())


class FakeProviders:
    """The fake server: start()/stop() or use as a context manager."""

    def __init__(
        self,
        prices_dir: Path | None = None,
        *,
        tiingo_token: str | None = TEST_TOKEN,
        polygon_key: str | None = fake_polygon.TEST_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.prices_dir = prices_dir
        self.tiingo_token = tiingo_token
        self.polygon_key = polygon_key
        self._actions: dict[str, list[dict[str, Any]]] = {"SPLITS": [], "DIVIDENDS": []}
        # The New York time of day Yahoo stamps bars with; tests move it to probe dates.
        self.yahoo_bar_time = YAHOO_OPEN
        self._address = (host, port)
        self._frames: dict[str, pl.DataFrame] = {}
        self._splits: dict[str, dict[dt.date, float]] = {}
        self._faults: dict[str, list[tuple[Fault, str | None]]] = {}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> "FakeProviders":
        """Bind and serve in a daemon thread; returns self."""
        self._server = _Server(self._address, _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-providers", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (ends stalled answers too) and free the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "FakeProviders":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to use as SURGEWATCH_YAHOO_URL, _TIINGO_URL and _STOOQ_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- data and scripts ----------------------------------------------------------
    def add_prices(self, symbol: str, frame: pl.DataFrame, *, splits: Mapping[dt.date, float] | None = None) -> None:
        """Serve `frame` (date, open, high, low, close[, adj_close, volume]) for symbol.

        Prices are split-adjusted (as in the CSVs); `splits` maps ex-dates to split
        factors (2.0 for 2:1) so Tiingo can answer with raw prices and splitFactor.
        """
        missing = [c for c in ("adj_close", "volume") if c not in frame.columns]
        frame = frame.with_columns(pl.lit(None).alias(c) for c in missing)
        with self._lock:
            self._frames[symbol.upper()] = frame.select(_PRICE_SCHEMA.keys()).cast(_PRICE_SCHEMA).sort("date")
            if splits is not None:
                self._splits[symbol.upper()] = dict(splits)

    def set_splits(self, symbol: str, splits: Mapping[dt.date, float]) -> None:
        """Declare splits for a symbol served from prices_dir (see add_prices)."""
        with self._lock:
            self._splits[symbol.upper()] = dict(splits)

    def add_split(self, symbol: str, day: dt.date, ratio: float) -> None:
        """A split Polygon lists (execution_date `day`, `ratio` new shares per old)."""
        with self._lock:
            self._actions["SPLITS"].append(
                {
                    "execution_date": day.isoformat(),
                    "id": f"E{symbol}{day}",
                    "split_from": 1,
                    "split_to": ratio,
                    "ticker": symbol,
                }
            )

    def add_dividend(self, symbol: str, ex_date: dt.date, amount: float) -> None:
        """A cash dividend Polygon lists (ex_dividend_date `ex_date`, `amount` a share)."""
        with self._lock:
            self._actions["DIVIDENDS"].append(
                {
                    "cash_amount": amount,
                    "currency": "USD",
                    "dividend_type": "CD",
                    "ex_dividend_date": ex_date.isoformat(),
                    "frequency": 4,
                    "id": f"E{symbol}{ex_date}",
                    "ticker": symbol,
                }
            )

    def script(self, symbol: str, faults: Sequence[str | Fault], *, provider: str | None = None) -> None:
        """Queue faults for the next requests about symbol (optionally only from one provider)."""
        parsed = [f if isinstance(f, Fault) else Fault(f) for f in faults]
        with self._lock:
            self._faults.setdefault(symbol.upper(), []).extend((f, provider) for f in parsed)

    def clear(self) -> None:
        """Forget recorded requests and unused faults (data stays)."""
        with self._lock:
            self._hits.clear()
            self._faults.clear()

    @property
    def requests(self) -> list[Hit]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._hits)

    def count(self, symbol: str | None = None, provider: str | None = None) -> int:
        """How many requests were received, optionally for one symbol and/or provider."""
        return sum(
            1
            for h in self.requests
            if (symbol is None or h.symbol == symbol.upper()) and (provider is None or h.provider == provider)
        )

    # -- clients pointed at this server ----------------------------------------------
    def settings(self, source: str = "yahoo", **overrides: Any) -> Settings:
        """Settings aimed at this server: short timeout, 3 retries, no pacing, no .env file."""
        values: dict[str, Any] = {
            "source": source,
            "yahoo_url": self.url,
            "tiingo_url": self.url,
            "stooq_url": self.url,
            "polygon_url": self.url,
            "polygon_key": self.polygon_key,
            "tiingo_token": self.tiingo_token,
            "csv_dir": self.prices_dir,
            "http_timeout": 2.0,
            "http_retries": 3,
            "http_min_interval": 0.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    def source(self, name: str = "yahoo", *, backoff_factor: float = 0.01, **overrides: Any) -> PriceSource:
        """make_source() for this server, with near-zero backoff so retry tests are fast."""
        settings = self.settings(name, **overrides)
        return make_source(settings, make_session(settings, backoff_factor=backoff_factor))

    # -- used by the handler -------------------------------------------------------------
    def _frame(self, symbol: str) -> pl.DataFrame | None:
        with self._lock:
            if symbol in self._frames:
                return self._frames[symbol]
        if self.prices_dir is None:
            return None
        names = [f"{symbol}.csv"] + ([f"{symbol[1:]}.csv"] if symbol.startswith("^") else [])
        for name in names:
            path = self.prices_dir / name
            if "/" not in symbol and path.is_file():
                frame = pl.read_csv(path, schema=_PRICE_SCHEMA)
                with self._lock:
                    self._frames[symbol] = frame
                return frame
        return None

    def _every_frame(self) -> dict[str, pl.DataFrame]:
        """Every symbol's frame: the registered ones and the prices folder's CSVs."""
        if self.prices_dir is not None:
            for path in self.prices_dir.glob("*.csv"):
                if "_" not in path.stem:
                    self._frame(path.stem.upper())
        with self._lock:
            return dict(self._frames)

    def _next_fault(self, symbol: str | None, provider: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(symbol or "", [])
            for i, (fault, only) in enumerate(queue):
                if only in (None, provider):
                    del queue[i]
                    return fault
        return None

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeProviders):
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up on stalled or cut answers on purpose; anything else is a bug here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass
class _Ask:
    """A parsed request: which provider, symbol and window."""

    provider: str
    symbol: str | None
    start: dt.date | None = None
    end: dt.date | None = None
    params: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        ask = _route(parts.path, params)
        fault = fake._next_fault(ask.symbol, ask.provider) if ask.symbol else None
        reply = _reply(fake, ask, fault, self.headers.get("Authorization"))
        # Recorded before answering, so a client that has its answer also sees the record.
        fake._record(
            Hit(
                provider=ask.provider,
                symbol=ask.symbol,
                target=self.path,
                path=parts.path,
                query=params,
                headers=dict(self.headers.items()),
                start=ask.start,
                end=ask.end,
                fault=fault.kind if fault else None,
                status=reply.status,
            )
        )
        if reply.status is None:
            self._hang_up(fake, fault)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.declared if reply.declared is not None else len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.declared is not None:
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body)

    def _hang_up(self, fake: FakeProviders, fault: Fault) -> None:
        if fault.kind == "reset":
            # Linger 0 makes close() send RST; closing here skips socketserver's polite FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            fake._stopping.wait(fault.seconds)
        self.close_connection = True


@dataclass
class _Reply:
    status: int | None  # None: no answer at all (reset, stall)
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    declared: int | None = None  # a Content-Length to claim instead of len(body)


def _reply(fake: FakeProviders, ask: _Ask, fault: Fault | None, authorization: str | None) -> _Reply:
    kind = fault.kind if fault else None
    if kind in ("reset", "stall"):
        return _Reply(None)
    if kind == "body":
        return _Reply(fault.status, fault.body, fault.content_type)
    if ask.provider == "other":
        return _Reply(404, b"no such endpoint", "text/plain")
    if ask.provider == "tiingo" and fake.tiingo_token is not None and authorization != f"Token {fake.tiingo_token}":
        kind = "401"
    if ask.provider == "polygon":
        return _polygon_reply(fake, ask, fault, authorization)
    if kind == "error200" or (kind is not None and kind.isdigit()):
        return _error_reply(ask, 200 if kind == "error200" else int(kind), fault)
    frame = fake._frame(ask.symbol)
    if frame is None:
        return _error_reply(ask, 404, None)
    rows = frame.filter(_in_window(ask, frame, fake.yahoo_bar_time))
    if kind == "null_bars":
        rows = _with_null_bars(rows, fault.rows)
    body, content_type = _render(fake, ask, rows, empty=kind == "empty", wrong_symbol=kind == "wrong_symbol")
    if kind == "truncated":
        return _Reply(200, body[: len(body) // 2], content_type)
    if kind == "short_body":
        return _Reply(200, body[: len(body) // 2], content_type, declared=len(body))
    return _Reply(200, body, content_type)


def _polygon_reply(fake: FakeProviders, ask: _Ask, fault: Fault | None, authorization: str | None) -> _Reply:
    kind = fault.kind if fault else None
    if fake.polygon_key is not None and authorization != f"Bearer {fake.polygon_key}":
        kind = "401"
    if kind == "error200" or (kind is not None and kind.isdigit()):
        status = 200 if kind == "error200" else int(kind)
        headers = {"Retry-After": str(fault.retry_after)} if fault is not None and fault.retry_after is not None else {}
        return _Reply(status, fake_polygon.error(status), headers=headers)
    frames = fake._every_frame() if ask.symbol == "GROUPED" else {}
    with fake._lock:
        actions = {k: list(v) for k, v in fake._actions.items()}
    body = fake_polygon.answer(
        ask.symbol or "", ask.start or dt.date.min, ask.params, frames, actions, fake.url, empty=kind == "empty"
    )
    if kind == "truncated":
        return _Reply(200, body[: len(body) // 2])
    if kind == "short_body":
        return _Reply(200, body[: len(body) // 2], declared=len(body))
    return _Reply(200, body)


def _error_reply(ask: _Ask, status: int, fault: Fault | None) -> _Reply:
    if ask.provider == "stooq" and status == 404:
        # Stooq does not use 404: an unknown symbol is a 200 saying so.
        return _Reply(200, b"No data", "text/plain")
    body, content_type = _error_body(ask, status)
    headers = {"Retry-After": str(fault.retry_after)} if fault is not None and fault.retry_after is not None else {}
    return _Reply(status, body, content_type, headers)


def _route(path: str, params: dict[str, str]) -> _Ask:
    polygon = fake_polygon.route(path, params)
    if polygon is not None:
        return _Ask("polygon", polygon[0], start=polygon[1], end=polygon[2], params=params)
    segments = path.split("/")
    if path.startswith("/v8/finance/chart/") and len(segments) == 5:
        period1 = int(params.get("period1", "0"))
        period2 = int(params["period2"]) if "period2" in params else None
        return _Ask(
            "yahoo",
            unquote(segments[4]).upper(),
            start=dt.datetime.fromtimestamp(period1, dt.UTC).date(),
            end=dt.datetime.fromtimestamp(period2 - 1, dt.UTC).date() if period2 is not None else None,
            params=params,
        )
    if path.startswith("/tiingo/daily/") and len(segments) == 5 and segments[4] == "prices":
        start = params.get("startDate")
        end = params.get("endDate")
        return _Ask(
            "tiingo",
            unquote(segments[3]).upper(),
            start=dt.date.fromisoformat(start) if start else None,
            end=dt.date.fromisoformat(end) if end else None,
            params=params,
        )
    if path.rstrip("/") == "/q/d/l":
        symbol = params.get("s", "").upper()
        d1, d2 = params.get("d1"), params.get("d2")
        return _Ask(
            "stooq",
            symbol.removesuffix(".US") if symbol else None,
            start=dt.datetime.strptime(d1, "%Y%m%d").date() if d1 else None,
            end=dt.datetime.strptime(d2, "%Y%m%d").date() if d2 else None,
            params=params,
        )
    return _Ask("other", None)


def _in_window(ask: _Ask, frame: pl.DataFrame, bar_time: dt.time) -> pl.Series | pl.Expr:
    if ask.provider == "yahoo":
        # Yahoo selects by timestamp: the bars stamped in [period1, period2).
        period1 = int(ask.params.get("period1", "0"))
        period2 = int(ask.params["period2"]) if "period2" in ask.params else None
        stamps = [yahoo_stamp(d, bar_time) for d in frame["date"]]
        return pl.Series([period1 <= t and (period2 is None or t < period2) for t in stamps], dtype=pl.Boolean)
    if ask.provider == "tiingo" and ask.start is None and ask.end is None:
        # Without dates Tiingo answers only the latest session.
        return pl.col("date") == pl.col("date").max()
    return pl.col("date").is_between(ask.start or dt.date.min, ask.end or dt.date.max)


def _with_null_bars(rows: pl.DataFrame, which: tuple[int, int]) -> pl.DataFrame:
    index = pl.int_range(pl.len())
    values = [c for c in _PRICE_SCHEMA if c != "date"]
    return rows.with_columns(
        *(pl.when(index == which[0]).then(None).otherwise(pl.col(c)).alias(c) for c in values),
    ).with_columns(pl.when(index == which[1]).then(None).otherwise(pl.col("open")).alias("open"))


def _render(
    fake: FakeProviders, ask: _Ask, rows: pl.DataFrame, *, empty: bool, wrong_symbol: bool
) -> tuple[bytes, str]:
    if ask.provider == "yahoo":
        return _json(_yahoo_chart(fake, ask.symbol, rows, empty=empty, wrong_symbol=wrong_symbol))
    if ask.provider == "tiingo":
        return _json([] if empty else _tiingo_rows(rows, fake._splits.get(ask.symbol, {})))
    if empty or rows.is_empty():
        return b"No data", "text/plain"
    lines = ["Date,Open,High,Low,Close,Volume"]
    for r in rows.iter_rows(named=True):
        cells = [r["date"].isoformat(), *(_num(r[c]) for c in ("open", "high", "low", "close", "volume"))]
        lines.append(",".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(), "text/csv"


def _yahoo_chart(
    fake: FakeProviders, symbol: str, rows: pl.DataFrame, *, empty: bool, wrong_symbol: bool
) -> dict[str, Any]:
    if empty:
        return {"chart": {"result": [], "error": None}}
    answered_for = ("SPY" if symbol != "SPY" else "QQQ") if wrong_symbol else symbol
    result: dict[str, Any] = {
        "meta": {
            "currency": "USD",
            "symbol": answered_for,
            "exchangeName": "PCX",
            "instrumentType": "ETF",
            "gmtoffset": -14400,
            "timezone": "EDT",
            "exchangeTimezoneName": "America/New_York",
            "dataGranularity": "1d",
            "range": "",
        },
        "indicators": {"quote": [{}], "adjclose": [{}]},
    }
    if rows.height:
        result["timestamp"] = [yahoo_stamp(d, fake.yahoo_bar_time) for d in rows["date"]]
        result["indicators"] = {
            "quote": [{c: rows[c].to_list() for c in ("open", "high", "low", "close", "volume")}],
            "adjclose": [{"adjclose": rows["adj_close"].to_list()}],
        }
    return {"chart": {"result": [result], "error": None}}


def _tiingo_rows(rows: pl.DataFrame, splits: Mapping[dt.date, float]) -> list[dict[str, Any]]:
    out = []
    later = 1.0  # product of the split factors after the current row
    for r in reversed(rows.to_dicts()):
        factor = splits.get(r["date"], 1.0)
        ratio = r["adj_close"] / r["close"] if r["adj_close"] is not None and r["close"] else None
        raw = {c: (r[c] * later if r[c] is not None else None) for c in ("open", "high", "low", "close")}
        volume = round(r["volume"] / later) if r["volume"] is not None else None
        out.append(
            {
                "date": f"{r['date'].isoformat()}T00:00:00.000Z",
                **raw,
                "volume": volume,
                **{
                    f"adj{c.title()}": (r[c] * ratio if ratio is not None and r[c] is not None else None)
                    for c in ("open", "high", "low")
                },
                "adjClose": r["adj_close"],
                "adjVolume": r["volume"],
                "divCash": 0.0,
                "splitFactor": factor,
            }
        )
        later *= factor
    return out[::-1]


def _error_body(ask: _Ask, status: int) -> tuple[bytes, str]:
    phrase = HTTPStatus(status).phrase if status != 200 else "Bad Request"
    if ask.provider == "yahoo":
        description = {
            404: "No data found, symbol may be delisted",
            200: "Invalid input - fake refusal",
        }.get(status, f"fake {status} {phrase}")
        return _json({"chart": {"result": None, "error": {"code": phrase, "description": description}}})
    if ask.provider == "tiingo":
        detail = {
            404: f"Error: Ticker '{ask.symbol.lower()}' not found",
            401: "Invalid token.",
            200: "Error: fake refusal",
        }.get(status, f"fake {status} {phrase}")
        return _json({"detail": detail})
    text = "Exceeded the daily hits limit" if status == 200 else f"fake {status} {phrase}"
    return text.encode(), "text/plain"


def _json(value: Any) -> tuple[bytes, str]:
    return json.dumps(value).encode(), "application/json"


def _num(value: float | int | None) -> str:
    return "" if value is None else repr(value)


@pytest.fixture
def fake_providers() -> Iterator[FakeProviders]:
    """A running FakeProviders over ../shared/data/prices (when present) plus synthetic frames."""
    with FakeProviders(SHARED_PRICES if SHARED_PRICES.is_dir() else None) as fake:
        yield fake


def shared_prices() -> Path:
    """../shared/data/prices, or skip the calling test when it is absent."""
    if not SHARED_PRICES.is_dir():
        pytest.skip(f"shared price data not found at {SHARED_PRICES}")
    return SHARED_PRICES


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted: ``python -m tests.fake_providers --port 8765 --prices DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--prices", type=Path, default=SHARED_PRICES, help="folder of TICKER.csv files")
    parser.add_argument("--tiingo-token", default=TEST_TOKEN, help="token the fake Tiingo accepts")
    args = parser.parse_args(argv)
    with FakeProviders(args.prices, tiingo_token=args.tiingo_token, host=args.host, port=args.port) as fake:
        print(f"fake providers serving {args.prices} at {fake.url}")
        for name in ("YAHOO_URL", "TIINGO_URL", "STOOQ_URL", "POLYGON_URL"):
            print(f"export SURGEWATCH_{name}={fake.url}")
        print(f"export SURGEWATCH_TIINGO_TOKEN={args.tiingo_token}")
        print(f"export SURGEWATCH_POLYGON_KEY={fake.polygon_key}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

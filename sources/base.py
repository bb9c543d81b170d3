"""What every price source promises, and the shared last step that keeps the promise."""

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

import polars as pl

from surgewatch.core.errors import SourceError, one_line
from surgewatch.core.tickers import normalize_ticker
from surgewatch.core.tables import PRICES
from surgewatch.core.vocabulary import BAR_COLUMNS

if TYPE_CHECKING:  # requests is the HTTP providers' import, not the CSV source's
    import requests

log = logging.getLogger("surgewatch.sources")
DETAIL_CHARS = 200
"""How much of a provider's own words an error message quotes."""

# The raw daily frame every source returns (schemas.models.DailyPrices checks its values).
RAW_SCHEMA = PRICES
OHLC = BAR_COLUMNS[:4]
# "Full history" for providers that need an explicit first day: earlier than any
# listing they carry.
EARLIEST = dt.date(1900, 1, 1)
_SHOW_DATES = 5
_INT64_LIMIT = 2.0**63


class PriceSource(Protocol):
    """A provider of daily bars for one ticker at a time."""

    name: str

    def daily_prices(self, ticker: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        """Bars of the sessions in [start, end] (None: no bound), as RAW_SCHEMA, sorted by date.

        Raises InputError for an implausible symbol (before any request) and
        SourceError(ticker, …) when the provider fails for this ticker.
        """
        ...


def empty_frame() -> pl.DataFrame:
    """A frame with the raw columns and no rows."""
    return pl.DataFrame(schema=RAW_SCHEMA)


def check_request(ticker: str, start: dt.date | None, end: dt.date | None) -> tuple[str, bool]:
    """Normalise the symbol (InputError if implausible); say whether the range can hold any day."""
    symbol = normalize_ticker(ticker)
    return symbol, start is None or end is None or start <= end


@contextmanager
def malformed_answer(ticker: str, provider: str) -> Iterator[None]:
    """Turn a parse failure inside the block into SourceError(ticker, "malformed answer …")."""
    try:
        yield
    # ArithmeticError: an overflow (a 20-digit timestamp); RecursionError: JSON nested
    # deeper than Python's parser goes. Both are answers we cannot use, not our bugs.
    except (
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        AttributeError,
        ArithmeticError,
        RecursionError,
        pl.exceptions.PolarsError,
    ) as exc:
        raise SourceError(
            ticker, f"malformed answer ({provider}: {type(exc).__name__}: {one_line(str(exc), DETAIL_CHARS)})"
        ) from exc


def no_booleans(values: Iterable[object], what: str) -> None:
    """Raise TypeError when a provider's number is a JSON true/false: polars would read
    it as 1.0 / 0.0, a price nobody quoted."""
    for value in values:
        if isinstance(value, bool):
            raise TypeError(f"{what}: {str(value).lower()} is not a number")


def finish_frame(
    bars: pl.DataFrame, ticker: str, provider: str, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    """Shape a provider's parsed bars of one ticker into RAW_SCHEMA rows for [start, end]
    (see finish_bars)."""
    return finish_bars(bars.with_columns(pl.lit(ticker, pl.Utf8).alias("ticker")), provider, start, end)


def finish_bars(bars: pl.DataFrame, provider: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    """Shape a provider's parsed bars (a `ticker` column, any number of tickers) into
    RAW_SCHEMA rows for [start, end], sorted by (ticker, date).

    `bars` has a Date column `date`, numeric OHLC columns and optionally `adj_close`
    and `volume`. Bars missing any OHLC value cannot be used and are dropped (logged
    with their dates, so the gap shows up downstream as a missing session rather than
    a made-up price); NaN and ±inf count as missing, and so does a volume that is not
    a finite count an Int64 holds. Two bars on one date (Yahoo adds a live bar beside
    the day's bar while a session is open) keep the later one.
    """
    for optional in ("adj_close", "volume"):
        if optional not in bars.columns:
            bars = bars.with_columns(pl.lit(None, pl.Float64).alias(optional))
    floats = [*OHLC, "adj_close"]
    volume = pl.col("volume").cast(pl.Float64).round()
    frame = bars.select(
        pl.col("ticker").cast(pl.Utf8),
        pl.col("date").cast(pl.Date),
        *(pl.when(pl.col(c).cast(pl.Float64).is_finite()).then(pl.col(c).cast(pl.Float64)).alias(c) for c in floats),
        pl.when(volume.is_finite() & (volume.abs() < _INT64_LIMIT)).then(volume).cast(pl.Int64).alias("volume"),
    )
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    usable = pl.all_horizontal(pl.col(c).is_not_null() for c in OHLC) & pl.col("date").is_not_null()
    dropped = frame.filter(~usable)
    for (ticker,), rows in dropped.partition_by("ticker", as_dict=True, maintain_order=True).items():
        log.warning(
            "%s: %s sent %d bar(s) without a full open/high/low/close, dropped: %s",
            ticker,
            provider,
            rows.height,
            _dates(rows),
        )
    frame = frame.filter(usable).sort("ticker", "date", maintain_order=True)
    repeated = frame.filter(pl.struct("ticker", "date").is_duplicated())
    if repeated.height:
        for (ticker,), rows in repeated.partition_by("ticker", as_dict=True, maintain_order=True).items():
            log.warning(
                "%s: %s sent several bars for %s, kept the last",
                ticker,
                provider,
                _dates(rows.unique("date", maintain_order=True)),
            )
        frame = frame.unique(["ticker", "date"], keep="last", maintain_order=True)
    return frame.select(RAW_SCHEMA.names())


def _dates(frame: pl.DataFrame) -> str:
    shown = ", ".join(str(d) for d in frame["date"].head(_SHOW_DATES).to_list())
    more = frame.height - _SHOW_DATES
    return shown + (f" (+{more} more)" if more > 0 else "")


class HttpSource:
    """What every HTTP provider does before it asks: normalise and check the request (see
    check_request), refuse what it cannot serve, answer an empty range without a request.
    A provider sets `name` and implements `_bars` (one request, parsed) and, where some
    symbols are out of its reach, `_refuse`."""

    name: str

    def __init__(self, base_url: str, session: "requests.Session"):
        self._base = base_url
        self._session = session

    def daily_prices(self, ticker: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        """Bars for [start, end] (None: full history / up to now); see PriceSource."""
        symbol, possible = check_request(ticker, start, end)
        self._refuse(symbol)
        return self._bars(symbol, start, end) if possible else empty_frame()

    def _refuse(self, symbol: str) -> None:
        """Raise SourceError for a symbol this provider cannot serve (none by default)."""

    def _bars(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        raise NotImplementedError

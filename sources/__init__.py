"""Price providers: each module is the only code that talks to its API.

Every source returns the same raw frame (`RAW_SCHEMA`: ticker, date, open, high, low,
close, adj_close, volume; one row per session in [start, end], sorted by date) and
raises SourceError(ticker, …) when the provider fails for a ticker. `make_source`
picks the one named by SURGEWATCH_SOURCE.

The package imports its modules when a name is first asked for (PEP 562): the CSV source
reads prices without importing requests and the HTTP providers.
"""

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "RAW_SCHEMA": "base",
    "PriceSource": "base",
    "empty_frame": "base",
    "CsvSource": "csv_files",
    "read_price_csv": "csv_files",
    "USER_AGENT": "http",
    "make_session": "http",
    "StooqSource": "stooq",
    "TiingoSource": "tiingo",
    "YahooSource": "yahoo",
    "SourceSettings": "choose",
    "make_source": "choose",
}

if TYPE_CHECKING:
    from surgewatch.sources.base import RAW_SCHEMA, PriceSource, empty_frame
    from surgewatch.sources.choose import SourceSettings, make_source
    from surgewatch.sources.csv_files import CsvSource, read_price_csv
    from surgewatch.sources.http import USER_AGENT, make_session
    from surgewatch.sources.stooq import StooqSource
    from surgewatch.sources.tiingo import TiingoSource
    from surgewatch.sources.yahoo import YahooSource


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "CsvSource",
    "PriceSource",
    "RAW_SCHEMA",
    "SourceSettings",
    "StooqSource",
    "TiingoSource",
    "USER_AGENT",
    "YahooSource",
    "empty_frame",
    "make_session",
    "make_source",
    "read_price_csv",
]

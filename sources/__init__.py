"""Price providers: each module is the only code that talks to its API.

Every source returns the same raw frame (`RAW_SCHEMA`: ticker, date, open, high, low,
close, adj_close, volume; one row per session in [start, end], sorted by date) and
raises SourceError(ticker, …) when the provider fails for a ticker. `make_source`
picks the one named by SURGEWATCH_SOURCE.
"""

import requests

from surgewatch.sources.base import RAW_SCHEMA, PriceSource, empty_frame
from surgewatch.sources.csv_files import CsvSource, read_price_csv
from surgewatch.sources.http import USER_AGENT, make_session
from surgewatch.sources.stooq import StooqSource
from surgewatch.sources.tiingo import TiingoSource
from surgewatch.sources.yahoo import YahooSource
from surgewatch.settings import Settings

_HTTP_SOURCES = {"yahoo": YahooSource, "tiingo": TiingoSource, "stooq": StooqSource}


def make_source(settings: Settings, session: requests.Session | None = None) -> PriceSource:
    """The source named by settings.source; HTTP sources share `session` (default: make_session).

    Raises SettingsError when the chosen source lacks a setting it needs (Tiingo's
    token, the csv folder).
    """
    if settings.source == "csv":
        return CsvSource(settings)
    return _HTTP_SOURCES[settings.source](settings, session or make_session(settings))


__all__ = [
    "RAW_SCHEMA",
    "USER_AGENT",
    "CsvSource",
    "PriceSource",
    "StooqSource",
    "TiingoSource",
    "YahooSource",
    "empty_frame",
    "make_session",
    "make_source",
    "read_price_csv",
]

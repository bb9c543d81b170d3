"""make_source: the price source SURGEWATCH_SOURCE names, built from the settings."""

from pathlib import Path
from typing import Protocol

import requests
from pydantic import SecretStr

from surgewatch.sources.base import PriceSource
from surgewatch.sources.csv_files import CsvSource
from surgewatch.sources.http import HttpSettings, make_session
from surgewatch.sources.stooq import StooqSource
from surgewatch.sources.tiingo import TiingoSource
from surgewatch.sources.yahoo import YahooSource


class SourceSettings(HttpSettings, Protocol):
    """The configuration the sources read (surgewatch.core.settings.Settings has it): the
    sources depend on these fields, not on the settings module."""

    @property
    def source(self) -> str: ...
    @property
    def csv_dir(self) -> Path | None: ...
    @property
    def yahoo_url(self) -> str: ...
    @property
    def tiingo_url(self) -> str: ...
    @property
    def tiingo_token(self) -> SecretStr | None: ...
    @property
    def stooq_url(self) -> str: ...


def make_source(settings: SourceSettings, session: requests.Session | None = None) -> PriceSource:
    """The source named by settings.source; HTTP sources share `session` (default: make_session).

    Raises SettingsError when the chosen source lacks a setting it needs (Tiingo's
    token, the csv folder).
    """
    if settings.source == "csv":
        return CsvSource(settings.csv_dir)
    session = session or make_session(settings)
    if settings.source == "tiingo":
        return TiingoSource(settings.tiingo_url, settings.tiingo_token, session)
    if settings.source == "stooq":
        return StooqSource(settings.stooq_url, session)
    return YahooSource(settings.yahoo_url, session)

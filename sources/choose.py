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
    @property
    def history_source(self) -> str: ...
    @property
    def polygon_url(self) -> str: ...
    @property
    def polygon_key(self) -> SecretStr | None: ...


def make_source(settings: SourceSettings, session: requests.Session | None = None) -> PriceSource:
    """The source named by settings.source; HTTP sources share `session` (default: make_session).

    A bulk source (polygon) gets its histories from the per-ticker source named by
    settings.history_source, on a session of its own (its own pace and request budget).
    Raises SettingsError when the chosen source lacks a setting it needs (Tiingo's
    token, Polygon's key, the csv folder).
    """
    if settings.source == "polygon":
        from surgewatch.sources.bulk import BulkSource
        from surgewatch.sources.polygon import PolygonClient

        history = settings.model_copy(update={"source": settings.history_source})  # type: ignore[attr-defined]  # a pydantic Settings
        client = PolygonClient(settings.polygon_url, settings.polygon_key, session or make_session(settings))
        return BulkSource(client, make_source(history))
    if settings.source == "csv":
        return CsvSource(settings.csv_dir)
    session = session or make_session(settings)
    if settings.source == "tiingo":
        return TiingoSource(settings.tiingo_url, settings.tiingo_token, session)
    if settings.source == "stooq":
        return StooqSource(settings.stooq_url, session)
    return YahooSource(settings.yahoo_url, session)

"""The refresh flow under Prefect's test harness, against the fake providers."""

import datetime as dt
from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

from surgewatch.flows import tasks as tasks_module
from surgewatch.core.settings import load_settings
from surgewatch.warehouse import Warehouse


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server and database for the whole session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def env(monkeypatch, tmp_path, fake_providers, prefect_harness):
    """SURGEWATCH_* aimed at a fresh warehouse and the fake server; quick retries."""
    values = {
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_SOURCE": "yahoo",
        "SURGEWATCH_YAHOO_URL": fake_providers.url,
        "SURGEWATCH_HTTP_TIMEOUT": "2",
        "SURGEWATCH_HTTP_RETRIES": "1",
        "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    # Prefect's own retry pause between fetch attempts is minutes in production.
    monkeypatch.setattr(tasks_module, "FETCH_BACKOFF", 0)
    return fake_providers


def query(sql: str, snapshot: int | None = None):
    with Warehouse.open(load_settings(), read_only=True) as wh:
        return wh.sql(sql, snapshot=snapshot)


def night(day: str) -> dt.date:
    return dt.date.fromisoformat(day)

"""The refresh flow in the test process, against a real Prefect server and the fake providers."""

import datetime as dt
from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from surgewatch.flows import tasks as tasks_module
from surgewatch.core.settings import load_settings
from surgewatch.warehouse import Warehouse


@pytest.fixture(scope="session")
def prefect_api(prefect_server) -> Iterator[None]:
    """Flows called in this process run against the test process's real `prefect server`,
    the one the CLI's subprocesses use: one server per process, not a second one from
    prefect_test_harness (each costs ~12 s of CPU to start and ~1 s a minute idle)."""
    api, _ = prefect_server
    with temporary_settings({PREFECT_API_URL: api}):
        yield


@pytest.fixture
def env(monkeypatch, tmp_path, fake_providers, prefect_api):
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

"""The refresh flow under Prefect's test harness, against the fake providers."""

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prefect.testing.utilities import prefect_test_harness

from surgewatch.flows import refresh as refresh_module
from surgewatch.settings import load_settings
from tests.conftest import free_port
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
    monkeypatch.setattr(refresh_module, "fetch_ticker", refresh_module.fetch_ticker.with_options(retry_delay_seconds=0))
    return fake_providers


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real `prefect server` on a free loopback port, for tests that run the CLI or a
    worker in other processes; yields (api_url, environment for those processes)."""
    tmp_path = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SURGEWATCH_", "PREFECT_"))}
    env = {**inherited, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{api}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "prefect server did not start"
            time.sleep(0.5)
        yield api, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def query(sql: str, snapshot: int | None = None):
    with Warehouse.open(load_settings(), read_only=True) as wh:
        return wh.sql(sql, snapshot=snapshot)


def night(day: str) -> dt.date:
    return dt.date.fromisoformat(day)

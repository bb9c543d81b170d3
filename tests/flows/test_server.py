"""The temporary Prefect server a refresh starts when none answers (flows.server)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from surgewatch.flows.server import LOCAL_SERVER, healthy, temporary_server

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")


@pytest.fixture
def prefect_home(tmp_path, monkeypatch):
    """A Prefect of its own: no API configured, its database in tmp_path."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if healthy("http://{}:{}/api".format(*LOCAL_SERVER)):
        pytest.skip("a Prefect server answers on 127.0.0.1:4200 (`surgewatch serve`): a refresh would use it")
    return tmp_path / "prefect"


def test_the_server_answers_once_ready_and_is_gone_after_the_block(prefect_home):
    with temporary_server() as server:
        api = server.ready()
        assert healthy(api)
    assert server.process.returncode is not None
    assert not healthy(api)


def test_a_server_that_cannot_start_is_one_error(prefect_home, monkeypatch):
    from surgewatch.core.errors import SettingsError

    # A database URL that cannot be opened: the server exits during its start.
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with temporary_server() as server, pytest.raises(SettingsError, match="temporary Prefect server"):
        server.ready()


def refresh_iwm(home: Path, prices_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """`surgewatch refresh` of IWM from the shared csv files, in its own process."""
    env = {
        **os.environ,
        "SURGEWATCH_HOME": str(home),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(prices_dir),
        **env,
    }
    return subprocess.run(
        [SURGEWATCH, "refresh", "--tickers", "IWM", "--as-of", "2026-08-20", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_refresh_without_a_server_starts_one_and_exits_clean(prefect_home, prices_dir, tmp_path):
    """No "Error logging to API" at exit: Prefect's workers are drained before the
    server stops, and the run does not wait on a closed port."""
    done = refresh_iwm(tmp_path / "home", prices_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_refresh_uses_the_server_a_prefect_profile_names(prefect_home, prices_dir, tmp_path):
    """PREFECT_API_URL set in a Prefect profile, not in the environment: the run goes to
    that server (the temporary one it started before reading the profile stops again)."""
    with temporary_server() as named:
        api = named.ready()
        profiles = tmp_path / "profiles.toml"
        profiles.write_text(f'active = "team"\n\n[profiles.team]\nPREFECT_API_URL = "{api}"\n')
        done = refresh_iwm(tmp_path / "home", prices_dir, PREFECT_PROFILES_PATH=str(profiles))
        assert done.returncode == 0, done.stderr
        runs = requests.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
        assert [r["state_type"] for r in runs] == ["COMPLETED"]

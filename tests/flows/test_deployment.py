"""`prefect deploy` from prefect.yaml against a real local Prefect server, and a run of the
deployment through a process worker: the documented path for the nightly schedule."""

import json
import subprocess
import sys
from pathlib import Path

import requests

from tests.fake_providers import sessions, synthetic_bars
from tests.flows.conftest import night

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def prefect(env, *args: str, timeout: float = 180) -> str:
    proc = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_deploy_schedules_nightly_in_new_york_and_a_worker_runs_it(prefect_server, tmp_path):
    api, env = prefect_server
    env = {**env, "PWD": str(REPO)}
    prices = tmp_path / "prices"
    prices.mkdir()
    synthetic_bars(sessions(night("2024-01-02"), night("2025-06-30"))).write_csv(prices / "AAA.csv")
    env = {
        **env,
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(prices),
    }

    prefect(env, "work-pool", "create", "surgewatch", "--type", "process")
    prefect(env, "deploy", "--all")
    deployment = requests.get(f"{api}/deployments/name/surgewatch-refresh/nightly", timeout=10).json()
    (schedule,) = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "30 22 * * 1-5"
    assert schedule["schedule"]["timezone"] == "America/New_York"
    assert deployment["work_pool_name"] == "surgewatch"

    created = prefect(env, "deployment", "run", "surgewatch-refresh/nightly", "--param", 'tickers=["AAA"]')
    run_id = created.split("/runs/flow-run/")[-1].split()[0]
    prefect(env, "worker", "start", "--pool", "surgewatch", "--run-once", timeout=300)
    state = requests.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
    assert state["type"] == "COMPLETED", json.dumps(state)
    assert (tmp_path / "home" / "catalog.sqlite").is_file()  # the worker's run published

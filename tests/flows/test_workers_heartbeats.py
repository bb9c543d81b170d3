"""Crashed runs do not stay Running: the automation that marks a flow run Crashed when its
heartbeats stop, created once on a real Prefect server, and a worker's flow run killed
with SIGKILL that it then marks Crashed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from surgewatch.flows.heartbeats import AUTOMATION_NAME, HEARTBEAT_SECONDS, MISSED_BEATS
from tests.fake_providers import Fault, sessions, synthetic_bars
from tests.flows.conftest import night

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _automation(api: str) -> list[dict]:
    found = requests.post(f"{api}/automations/filter", json={}, timeout=30).json()
    return [a for a in found if a["name"] == AUTOMATION_NAME]


def _ensure(env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "surgewatch.flows.heartbeats"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_crash_automation_is_created_once(prefect_server):
    api, env = prefect_server
    assert _ensure(env).startswith(("created", "already there"))
    assert _ensure(env).startswith("already there")  # a second machine's `surgewatch serve`
    (automation,) = _automation(api)
    trigger = automation["trigger"]
    assert trigger["posture"] == "Proactive" and trigger["after"] == ["prefect.flow-run.heartbeat"]
    assert "prefect.flow-run.heartbeat" in trigger["expect"] and "prefect.flow-run.Completed" in trigger["expect"]
    assert trigger["for_each"] == ["prefect.resource.id"]
    assert trigger["within"] == HEARTBEAT_SECONDS * MISSED_BEATS
    (action,) = automation["actions"]
    assert action["type"] == "change-flow-run-state" and action["state"] == "CRASHED"


@pytest.mark.slow
def test_a_killed_worker_run_is_marked_crashed(prefect_server, fake_providers, tmp_path):
    """About 2-3 minutes: the automation waits 90 s after the last heartbeat."""
    api, env = prefect_server
    _ensure(env)
    fake_providers.add_prices("AAA", synthetic_bars(sessions(night("2025-01-02"), night("2025-06-30"))))
    fake_providers.script("AAA", [Fault("stall", seconds=600)])  # the run hangs in its fetch, Running
    env = {**env, "PWD": str(REPO), "SURGEWATCH_HOME": str(tmp_path / "home"), "SURGEWATCH_SOURCE": "yahoo",
           "SURGEWATCH_YAHOO_URL": fake_providers.url, "SURGEWATCH_HTTP_TIMEOUT": "900"}
    prefect = [str(BIN / "prefect"), "--no-prompt"]
    # The pool may exist already (test_deployment creates it on the same server).
    subprocess.run([*prefect, "work-pool", "create", "surgewatch", "--type", "process"], env=env, cwd=REPO,
                   capture_output=True, timeout=180)
    subprocess.run([*prefect, "deploy", "--all"], env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
    created = subprocess.run([*prefect, "deployment", "run", "surgewatch-refresh/nightly", "--param", 'tickers=["AAA"]'],
                             env=env, cwd=REPO, check=True, capture_output=True, text=True, timeout=180).stdout
    run_id = created.split("/runs/flow-run/")[-1].split()[0]
    worker = subprocess.Popen([*prefect, "worker", "start", "--pool", "surgewatch"], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while fake_providers.count("AAA") == 0:  # the run is in its fetch: Running, heartbeating
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never ran the flow"
            time.sleep(1)
        state = requests.get(f"{api}/flow_runs/{run_id}", timeout=30).json()["state"]
        assert state["type"] == "RUNNING", json.dumps(state)
        # The machine dies: the worker and the run's process, without a word to the server.
        for process in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
            os.kill(process.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        deadline = time.monotonic() + HEARTBEAT_SECONDS * MISSED_BEATS + 240
        while (state := requests.get(f"{api}/flow_runs/{run_id}", timeout=30).json()["state"])["type"] == "RUNNING":
            assert time.monotonic() < deadline, "the killed run still shows Running"
            time.sleep(5)
        assert state["type"] == "CRASHED", json.dumps(state)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)

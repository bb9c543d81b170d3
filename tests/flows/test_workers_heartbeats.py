"""Crashed runs do not stay Running: the automation that marks a flow run Crashed when its
heartbeats stop, created once on a real Prefect server, and a worker's flow run killed
with SIGKILL that it then marks Crashed."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests
from prefect.settings import PREFECT_API_URL, temporary_settings

from surgewatch.flows.heartbeats import AUTOMATION_NAME, HEARTBEAT_SECONDS, MISSED_BEATS, crash_silent_runs
from tests.fake_providers import Fault, sessions, synthetic_bars
from tests.flows.conftest import night
from tests.flows.test_deployment import REPO
from tests.flows.test_workers_pool import deploy, flow_run, request_nightly, start_worker

# A window of one and a half heartbeats: the crash shows 45 s after the last heartbeat
# instead of 90 s, and a live run's next heartbeat (every 30 s) still comes well within it.
TEST_BEATS = 1.5


def _automation(api: str) -> list[dict]:
    found = requests.post(f"{api}/automations/filter", json={}, timeout=30).json()
    return [a for a in found if a["name"] == AUTOMATION_NAME]


def _ensure(env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "surgewatch.flows.heartbeats"], env=env, capture_output=True, text=True, timeout=180
    )
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


def _heartbeats(api: str, run_id: str) -> int:
    """How many heartbeat events of the flow run the server has received."""
    found = requests.post(
        f"{api}/events/filter",
        json={
            "filter": {
                "event": {"name": ["prefect.flow-run.heartbeat"]},
                "resource": {"id": [f"prefect.flow-run.{run_id}"]},
            }
        },
        timeout=30,
    ).json()
    return found["total"]


def _busy_slots(api: str, deployment_id: str) -> int:
    """The deployment's concurrency slots in use (its limit is 1: one run at a time)."""
    deployment = requests.get(f"{api}/deployments/{deployment_id}", timeout=30).json()
    return deployment["global_concurrency_limit"]["active_slots"]


@pytest.mark.slow
def test_a_killed_worker_run_is_marked_crashed(prefect_server, fake_providers, tmp_path, record_property):
    api, env = prefect_server
    fake_providers.add_prices("AAA", synthetic_bars(sessions(night("2025-01-02"), night("2025-06-30"))))
    fake_providers.script("AAA", [Fault("stall", seconds=600)])  # the run hangs in its fetch, Running
    env = {
        **env,
        "PWD": str(REPO),
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_SOURCE": "yahoo",
        "SURGEWATCH_YAHOO_URL": fake_providers.url,
        "SURGEWATCH_HTTP_TIMEOUT": "900",
    }
    deploy(env)  # prefect.yaml gives the nightly runs PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30
    with temporary_settings({PREFECT_API_URL: api}):
        automation = crash_silent_runs(HEARTBEAT_SECONDS, TEST_BEATS)
        automation.create()
    log = tmp_path / "worker.log"
    worker = start_worker(env, "worker-a", log)
    try:
        run_id = request_nightly(api, ["AAA"])
        # The run is in its fetch (Running) and the server has its first heartbeat, which
        # opens the automation's window for it.
        deadline = time.monotonic() + 300
        while fake_providers.count("AAA") == 0 or _heartbeats(api, run_id) == 0:
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(1)
        run = flow_run(api, run_id)
        assert run["state"]["type"] == "RUNNING" and _busy_slots(api, run["deployment_id"]) == 1
        # The machine dies: the worker and the run's process, without a word to the server.
        for process in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
            os.kill(process.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        killed = time.monotonic()
        deadline = killed + HEARTBEAT_SECONDS * TEST_BEATS + 240
        while (state := flow_run(api, run_id)["state"])["type"] == "RUNNING":
            assert time.monotonic() < deadline, "the killed run still shows Running"
            time.sleep(2)
        record_property("crashed_after_kill_s", round(time.monotonic() - killed))
        assert state["type"] == "CRASHED", json.dumps(state)
        ours = f"no heartbeat for {HEARTBEAT_SECONDS * TEST_BEATS:g} s"  # the test's automation did it
        assert state["message"].startswith(ours), state["message"]
        assert _busy_slots(api, run["deployment_id"]) == 0  # the next night may run
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        with temporary_settings({PREFECT_API_URL: api}):
            automation.delete()

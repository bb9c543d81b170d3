"""Crashed runs do not stay Running: the automation that marks a flow run Crashed when its
heartbeats stop, created once on a real Prefect server."""

import subprocess
import sys
from pathlib import Path

import requests

from surgewatch.flows.heartbeats import AUTOMATION_NAME, HEARTBEAT_SECONDS, MISSED_BEATS

BIN = Path(sys.executable).parent


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

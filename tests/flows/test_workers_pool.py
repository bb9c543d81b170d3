"""Several workers serving one work pool: a real Prefect server, the deployment from
prefect.yaml and two process workers on the pool. Three runs requested at once never run
(so never publish) at the same time: the deployment's concurrency limit cancels the ones
that would overlap, and the warehouse lock stands behind it."""

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from tests.fake_providers import sessions, synthetic_bars
from tests.flows.conftest import night

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FINAL = {"COMPLETED", "CANCELLED", "FAILED", "CRASHED"}


@pytest.mark.slow
def test_two_workers_on_one_pool_never_run_the_refresh_at_once(prefect_server, tmp_path, record_property):
    """About a minute on an idle machine."""
    api, env = prefect_server
    prices = tmp_path / "prices"
    prices.mkdir()
    synthetic_bars(sessions(night("2024-01-02"), night("2025-06-30"))).write_csv(prices / "AAA.csv")
    env = {**env, "PWD": str(REPO), "SURGEWATCH_HOME": str(tmp_path / "home"), "SURGEWATCH_SOURCE": "csv",
           "SURGEWATCH_CSV_DIR": str(prices)}
    prefect = [str(BIN / "prefect"), "--no-prompt"]
    # The pool may exist already (test_deployment creates it on the same server).
    subprocess.run([*prefect, "work-pool", "create", "surgewatch", "--type", "process"], env=env, cwd=REPO,
                   capture_output=True, timeout=180)
    subprocess.run([*prefect, "deploy", "--all"], env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
    run_ids = []
    for _ in range(3):
        created = subprocess.run([*prefect, "deployment", "run", "surgewatch-refresh/nightly", "--param", 'tickers=["AAA"]'],
                                 env=env, cwd=REPO, check=True, capture_output=True, text=True, timeout=180).stdout
        run_ids.append(created.split("/runs/flow-run/")[-1].split()[0])
    workers = [subprocess.Popen([*prefect, "worker", "start", "--pool", "surgewatch", "--name", name], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for name in ("worker-a", "worker-b")]
    try:
        deadline = time.monotonic() + 600
        while True:
            runs = [requests.get(f"{api}/flow_runs/{run_id}", timeout=30).json() for run_id in run_ids]
            if all(run["state"]["type"] in FINAL for run in runs):
                break
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers), [r["state"] for r in runs]
            time.sleep(2)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)

    states = [run["state"]["type"] for run in runs]
    ran = sorted((datetime.fromisoformat(r["start_time"]), datetime.fromisoformat(r["end_time"])) for r in runs if r["start_time"])
    overlapping = sum(end > start for (_, end), (start, _) in zip(ran, ran[1:]))
    record_property("workers", {"runs": len(runs), "states": states, "overlapping": overlapping})
    assert set(states) <= {"COMPLETED", "CANCELLED"}, states
    assert "COMPLETED" in states
    assert overlapping == 0
    published = subprocess.run([str(BIN / "surgewatch"), "sql", "SELECT count(*) AS n FROM runs WHERE status = 'published'",
                                "--format", "csv"], env=env, capture_output=True, text=True, timeout=120)
    assert published.stdout.split() == ["n", str(states.count("COMPLETED"))], published.stderr

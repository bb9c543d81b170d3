"""Several workers serving one work pool: a real Prefect server, the deployments from
prefect.yaml and two `prefect worker start` processes on the pool. Runs requested at once
never run (so never publish) at the same time: the deployment's concurrency limit cancels
the ones that would overlap, and the warehouse lock stands behind it. When the machine
that ran a night goes away, the other worker takes the next one."""

import json
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.fake_providers import sessions, synthetic_bars
from tests.flows.conftest import night
from tests.flows.test_deployment import BIN, REPO, prefect

FINAL = {"COMPLETED", "CANCELLED", "FAILED", "CRASHED"}
WORKER = "prefect.worker.name"  # the label a worker gives each flow run it takes
# A busy test server answers 503 now and then; Prefect's own client retries those, so do we.
API = requests.Session()
API.mount(
    "http://",
    HTTPAdapter(max_retries=Retry(total=5, backoff_factor=0.5, status_forcelist=(502, 503), allowed_methods=None)),
)


def deploy(env: dict[str, str]) -> None:
    """The surgewatch pool and prefect.yaml's deployments on the test server (the pool may
    be there already: other tests make it on the same server)."""
    prefect(env, "work-pool", "create", "surgewatch", "--type", "process", "--overwrite")
    prefect(env, "deploy", "--all", timeout=300)


def request_nightly(api: str, tickers: list[str]) -> str:
    """A run of the nightly deployment, as `prefect deployment run` asks for it (through the
    API: a CLI process takes seconds to start here, and the runs are wanted at once); its id."""
    deployment = API.get(f"{api}/deployments/name/surgewatch-refresh/nightly", timeout=30).json()
    created = API.post(
        f"{api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"tickers": tickers}}, timeout=30
    )
    created.raise_for_status()
    return created.json()["id"]


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen:
    """`prefect worker start` on the pool, as on one machine, in its own process group (so a
    test can kill the worker with the runs it started); its output goes to `log`."""
    return subprocess.Popen(
        [str(BIN / "prefect"), "--no-prompt", "worker", "start", "--pool", "surgewatch", "--name", name],
        env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"},  # poll often: the tests wait on it
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def flow_run(api: str, run_id: str) -> dict:
    return API.get(f"{api}/flow_runs/{run_id}", timeout=30).json()


def wait_final(api: str, run_ids: list[str], workers: list[subprocess.Popen], logs: list[Path]) -> list[dict]:
    """The runs once each is in a final state; fails if a worker dies or ten minutes pass."""
    deadline = time.monotonic() + 600
    while True:
        runs = [flow_run(api, run_id) for run_id in run_ids]
        if all(run["state"]["type"] in FINAL for run in runs):
            return runs
        alive = all(worker.poll() is None for worker in workers)
        assert alive and time.monotonic() < deadline, (
            [run["state"]["type"] for run in runs],
            [log.read_text()[-2000:] for log in logs],
        )
        time.sleep(2)


@pytest.mark.slow
def test_two_workers_on_one_pool_never_run_the_refresh_at_once(prefect_server, tmp_path, record_property):
    api, env = prefect_server
    prices = tmp_path / "prices"
    prices.mkdir()
    synthetic_bars(sessions(night("2024-01-02"), night("2025-06-30"))).write_csv(prices / "AAA.csv")
    env = {
        **env,
        "PWD": str(REPO),
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(prices),
    }
    began = time.monotonic()
    deploy(env)
    seconds = {"deploy": round(time.monotonic() - began)}
    names = ["worker-a", "worker-b"]
    logs = [tmp_path / f"{name}.log" for name in names]
    workers = [start_worker(env, name, log) for name, log in zip(names, logs)]
    try:
        # Three nights requested at once, while both workers poll the pool.
        burst = wait_final(api, [request_nightly(api, ["AAA"]) for _ in range(3)], workers, logs)
        seconds["burst"] = round(time.monotonic() - began - seconds["deploy"])
        states = [run["state"]["type"] for run in burst]
        # A run cancelled by the limit never ran (run_count 0), though Prefect stamps it a start.
        ran = sorted((run for run in burst if run["run_count"]), key=lambda run: run["start_time"])
        spans = [(datetime.fromisoformat(run["start_time"]), datetime.fromisoformat(run["end_time"])) for run in ran]
        overlapping = sum(end > start for (_, end), (start, _) in zip(spans, spans[1:]))
        assert set(states) <= {"COMPLETED", "CANCELLED"}, [run["state"] for run in burst]
        assert "COMPLETED" in states and overlapping == 0, spans
        assert {run["labels"].get(WORKER) for run in ran} <= set(names), [(r["state"], r["labels"]) for r in ran]

        # The machine that ran the last night leaves (a worker stopped as an operator would);
        # the next night goes to the other one.
        gone = names.index(ran[-1]["labels"][WORKER])
        workers[gone].terminate()
        workers[gone].wait(timeout=120)
        (after,) = wait_final(api, [request_nightly(api, ["AAA"])], [workers[1 - gone]], [logs[1 - gone]])
        assert after["state"]["type"] == "COMPLETED", after["state"]
        assert after["labels"][WORKER] == names[1 - gone]
        seconds["after"] = round(time.monotonic() - began - seconds["deploy"] - seconds["burst"])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=120)

    completed = sorted(run["id"] for run in [*burst, after] if run["state"]["type"] == "COMPLETED")
    record_property(
        "workers",
        {
            "burst": states,
            "ran_by": [run["labels"][WORKER] for run in ran],
            "after": after["labels"][WORKER],
            "overlapping": overlapping,
            "seconds": seconds,
        },
    )
    # Every completed run published once, under its own flow run id; no run was skipped by
    # the warehouse lock (that would be a completed run with no version).
    published = subprocess.run(
        [str(BIN / "surgewatch"), "sql", "SELECT run_id FROM runs WHERE status = 'published'", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr
    assert sorted(row["run_id"] for row in json.loads(published.stdout)) == completed

"""SPEC §4b's small night: `surgewatch refresh` of 3 tickers, a next night, as a person
runs it from the shell: with a running Prefect server (≤ 5 s) and without one (≤ 10 s).

The tickers are the shared data's IWM, SPY and QQQ on the csv source (none when
../shared is absent). A first load as of FIRST is copied before each timed night
as of NEXT, so every run does the same work; the median of RUNS runs counts.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bench_nightly import settle
from surgewatch.flows.server import free_port, wait_healthy

PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"
TICKERS = "IWM,SPY,QQQ"
FIRST, NEXT = "2026-08-19", "2026-08-20"
RUNS = 3
SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")


def _env(home: Path, prefect_home: Path, api: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SURGEWATCH_", "PREFECT_API_URL"))}
    env |= {
        "SURGEWATCH_HOME": str(home),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(PRICES),
        "SURGEWATCH_TICKERS": TICKERS,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    return env | ({"PREFECT_API_URL": api} if api else {})


def _timed_nights(workdir: Path, api: str | None) -> list[tuple[float, float]]:
    """(load at start, wall seconds) of RUNS next nights, each from a copy of the first load."""
    base, home = workdir / "first", workdir / "night"
    runs = []
    for _ in range(RUNS):
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base, home)
        load = settle()
        started = time.perf_counter()
        done = subprocess.run(
            [SURGEWATCH, "refresh", "--as-of", NEXT, "--quiet"],
            env=_env(home, workdir / "prefect", api),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"the 3-ticker night failed: {done.stderr.strip()}")
        runs.append((load, wall))
    return runs


def small_nights(workdir: Path) -> dict | None:
    """{"without": [(load, wall)…], "with": […]}; None without the shared data."""
    if not (PRICES / "IWM.csv").is_file():
        print("\n== 3-ticker night: ../shared/data/prices is absent, skipped")
        return None
    workdir = workdir / "small-night"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    env = _env(workdir / "first", workdir / "prefect", None)
    subprocess.run([SURGEWATCH, "refresh", "--as-of", FIRST, "--quiet"], env=env, check=True)
    figures = {"without": _timed_nights(workdir, None)}
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        failed = wait_healthy(server, api, 120, pause=0.5)
        if failed:
            raise SystemExit(f"the Prefect server for the 3-ticker night {failed}")
        figures["with"] = _timed_nights(workdir, api)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for kind, runs in figures.items():
        shown = ", ".join(f"{wall:.2f} s (load {load:.1f})" for load, wall in runs)
        print(f"  3-ticker night {kind} a server: {shown}; median {statistics.median(w for _, w in runs):.2f} s")
    return figures

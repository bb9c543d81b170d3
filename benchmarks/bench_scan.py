"""Benchmark: `surgewatch scan` over a warehouse of the `make bench` universe (SPEC §4
`scan`, issue 31: <= 1 s at 3,000 tickers, from the published tables).

    python -m benchmarks.bench_scan [--tickers 3000] [--years 30] [--seed 7] [--repeat 5]
                                    [--workdir /tmp/surgewatch-bench-scan]

Builds (once, cached in --workdir) a warehouse holding the seeded universe's prices and
published study (run_study with its §2b figures, one version), then times, with the
1-minute load average printed as each phase starts:
- the command as a user types it: `surgewatch scan --format json` in a fresh process
  (interpreter start, imports, catalog attach, the reads and the ranking), --repeat times;
- the scan alone in this process: open the warehouse read-only, read the month's rows,
  rank them (study.scan.month_movers), --repeat times.
Prints the medians and PASS/FAIL against 1 s for the command; the target is reported,
not asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 1.0


def _build(home: Path, tickers: int, years: int, seed: int) -> None:
    from benchmarks.universe import generate_universe, publish_study
    from surgewatch.core.params import StudyParams
    from surgewatch.study.run import run_study

    print(f"  building the warehouse ({tickers} tickers x {years} years, seed {seed}) in {home} …", flush=True)
    prices = generate_universe(tickers, years, seed=seed)
    publish_study(home, prices, run_study(prices, StudyParams()), "bench-scan")
    (home / "built").write_text("ok\n")


def _in_process(home: Path) -> tuple[float, int]:
    from surgewatch.core.settings import Settings
    from surgewatch.study.scan import month_movers
    from surgewatch.warehouse import Warehouse

    start = time.perf_counter()
    with Warehouse.open(Settings(home=home, catalog=None, data_path=None, _env_file=None), read_only=True) as wh:
        inputs = wh.month_movers_inputs(None)
    found = month_movers(inputs["month_end"], inputs["events"], inputs["summary"], inputs["stats"], 0.10, "up", 0.02)
    return time.perf_counter() - start, found.height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/surgewatch-bench-scan"))
    args = parser.parse_args(argv)
    home = args.workdir / f"home-{args.tickers}x{args.years}-s{args.seed}"
    if not (home / "built").is_file():
        _build(home, args.tickers, args.years, args.seed)
    env = {**os.environ, "SURGEWATCH_HOME": str(home), "PYTHONPATH": str(REPO)}
    for name in ("SURGEWATCH_CATALOG", "SURGEWATCH_DATA_PATH", "COLUMNS"):
        env.pop(name, None)
    command = [sys.executable, "-m", "surgewatch.cli", "scan", "--near", "2", "--format", "json"]
    print(f"  the command, {args.repeat} runs … (load average {os.getloadavg()[0]:.2f})", flush=True)
    walls = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
    print(f"  the scan in process, {args.repeat} runs … (load average {os.getloadavg()[0]:.2f})", flush=True)
    inside = [_in_process(home) for _ in range(args.repeat)]
    movers = inside[0][1]
    command_s, inside_s = statistics.median(walls), statistics.median(t for t, _ in inside)
    verdict = "PASS" if command_s <= TARGET_SECONDS else "FAIL"
    print(f"scan over {args.tickers} tickers x {args.years} years ({movers} movers in the latest month, --near 2):")
    print(f"  command (fresh process) median {command_s:.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"  in process median {inside_s:.3f} s (open, read, rank)")
    print(f"{verdict}: scan <= {TARGET_SECONDS:g} s at {args.tickers} tickers (command, median {command_s:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

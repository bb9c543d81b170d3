"""Same seed, same figures, whatever the thread count (issue 32, SPEC §2b): the whole
study of 80 synthetic tickers × 20 years (every §2b figure, bootstrap interval and
chance band included) run in a process with 1 BLAS thread and in one with 2 gives
every figure to the last bit."""

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import sys
from threadpoolctl import threadpool_info
from benchmarks.universe import generate_universe
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study

threads = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
result = run_study(generate_universe(80, 20, seed=3), StudyParams(resamples=3000, seed=11))
result.stats.write_parquet(sys.argv[1])
result.events.write_parquet(sys.argv[2])
print(",".join(map(str, sorted(threads))))
"""


def _study(tmp_path: Path, threads: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    stats, events = tmp_path / f"stats-{threads}.parquet", tmp_path / f"events-{threads}.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(stats), str(events)], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(threads), f"BLAS ran with {done.stdout.strip()} thread(s), not {threads}"
    return pl.read_parquet(stats), pl.read_parquet(events)


def test_every_figure_is_the_same_at_one_and_two_blas_threads(tmp_path):
    one, two = _study(tmp_path, 1), _study(tmp_path, 2)
    stats = one[0]
    assert stats.height == 80 * 4 and stats["ci_low"].is_not_null().sum() > 250
    assert stats["chance_low"].is_not_null().sum() > 250
    for a, b in zip(one, two):
        assert_frame_equal(a, b, check_exact=True)

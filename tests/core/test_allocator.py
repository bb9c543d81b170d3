"""Importing surgewatch limits glibc's malloc arenas: eight threads allocating at once
then share two, not one each (counted by glibc's own malloc_stats); polars imported
after it starts its threads within the limit."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_THREADS = """
import ctypes, sys, threading
if sys.argv[1] == "limit":
    import surgewatch
    from surgewatch.core.allocator import limit_malloc_arenas
    assert limit_malloc_arenas()  # asked once, at import: cached since
import polars
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
barrier = threading.Barrier(8)
def work():
    barrier.wait()  # all eight alive and allocating at once
    blocks = [libc.malloc(64) for _ in range(100)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc.malloc_stats()
"""


def _arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _THREADS, mode],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_share_two_arenas_once_limited():
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    unlimited, limited = _arenas("free"), _arenas("limit")
    assert limited <= 2 < unlimited, (limited, unlimited)

"""Keep glibc's malloc from growing an arena per thread.

The study runs numpy on a few threads at once (bootstrap beside placebo, checks beside
stages). glibc gives each thread that allocates its own arena, up to eight per core, and
memory freed in one arena is not reused by another: at 3,000 tickers a process that ran
the study four times held 3.1 GB at its peak against 2.65 GB with two arenas, at the same
speed (numpy's large arrays are mmapped outside any arena, so threads seldom wait on one).
Importing surgewatch sets the limit, before any thread has allocated.
"""

import ctypes
import functools
import sys

_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


@functools.cache
def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc for at most `arenas` malloc arenas from now on; True when it agreed,
    False on another platform or C library (nothing to limit there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))

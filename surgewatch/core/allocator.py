"""Keep glibc's malloc from growing an arena per thread.

The study runs numpy on a few threads at once (bootstrap beside placebo, checks beside
stages). glibc gives each thread that allocates its own arena, up to eight per core, and
memory freed in one arena is not reused by another: at 3,000 tickers a process that ran
the study four times held 3.1 GB at its peak against 2.65 GB with two arenas, at the same
speed (numpy's large arrays are mmapped outside any arena, so threads seldom wait on one).
Importing surgewatch sets the limit, before any thread has allocated. Handing the free
pages back after each study (glibc's malloc_trim) was tried: five 3,000-ticker studies in
one process then peaked at 2.5 GB instead of 2.9, but each next study faults them in
again; one A/B pair gave 3.20 s against 2.78 without it (best of 5), a second overlapped.
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
    mallopt = _glibc("mallopt")
    return bool(mallopt and mallopt(_M_ARENA_MAX, arenas))


def _glibc(name: str):
    """glibc's function `name` on Linux, else None (musl and others lack these)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None

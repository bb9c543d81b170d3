"""Benchmarks: a seeded synthetic universe, a pandas reference study and the timed run.

`python -m benchmarks.bench_study --help` for the figures; see bench_study's docstring.
"""

# surgewatch before polars, as its console script has it: importing surgewatch limits
# glibc's malloc arenas, which must come before polars starts its threads.
import surgewatch  # noqa: F401, E402

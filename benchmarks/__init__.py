"""Benchmarks: a seeded synthetic universe, a pandas reference study and the timed run.

`python -m benchmarks.bench_study --help` for the figures; see bench_study's docstring.
"""

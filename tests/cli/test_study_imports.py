"""A one-ticker study imports only what it needs (issue 32): no pandas (pandera's polars
API is imported without it), no plotly, no Prefect, no scipy (the win test's log
factorials come from math.lgamma), no requests (the CSV source does not load the HTTP
providers), no numba (its compiled loops pay only from 64 ticker-horizons), no hypothesis
(pandera's data synthesis, unused, imports it where the test extras are installed), and no
exchange_calendars once the NYSE sessions are cached."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pandas",
    "plotly",
    "prefect",
    "exchange_calendars",
    "apprise",
    "scipy",
    "requests",
    "duckdb",
    "numba",
    "hypothesis",
)


def test_study_of_one_csv_ticker_stays_light(prices_dir):
    warm = f"""
import runpy, sys
sys.argv = ["surgewatch", "study", "--ticker", "IWM", "--prices", {str(prices_dir / "IWM.csv")!r}, "--format", "csv"]
from surgewatch.cli import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(code, ",".join(m for m in {HEAVY!r} if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The first run may build and cache the NYSE calendar (exchange_calendars, pandas).
    subprocess.run([sys.executable, "-c", warm], env=env, capture_output=True, text=True, check=True)
    done = subprocess.run([sys.executable, "-c", warm], env=env, capture_output=True, text=True, check=True)
    code, _, loaded = done.stdout.strip().partition(" ")
    assert code == "0" and loaded == "", f"a one-ticker study imported {loaded}"


def test_pandera_still_validates_without_pandas():
    """The polars-only import path of pandera still refuses a bad frame."""
    import polars as pl

    from surgewatch.core.errors import ValidationFailed
    from surgewatch.schemas import SignalStats, validate

    with pytest.raises(ValidationFailed, match="signal_stats"):
        validate(pl.DataFrame({"ticker": ["A"], "horizon": [-1]}), SignalStats, "signal_stats")

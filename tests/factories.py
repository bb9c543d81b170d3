"""Factories the test folders share: settings, price frames, runs and results, warehouses.

Everything here ignores the developer's SURGEWATCH_* variables and .env, so a test sees
only the warehouse it made.
"""

import json
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from surgewatch.cli import main
from surgewatch.core.params import StudyParams
from surgewatch.core.settings import Settings
from surgewatch.sources.base import RAW_SCHEMA
from surgewatch.transforms.resampling import _TIE, AS_FAR
from surgewatch.warehouse import RunRecord, Warehouse

SESSIONS = [date(2026, 1, d) for d in (2, 5, 6, 7, 8, 9)]
STUDY = {"params": StudyParams(threshold=0.10, direction="up", basis="price")}
"""The study parameters the warehouse tests publish with."""


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """`surgewatch ARGV` in this process, as a user runs it: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def study_json(capsys: Any, csv: Path, as_of: str, *extra: str) -> dict:
    """`surgewatch study` of the ticker in `csv` (its file name) through as_of, as JSON."""
    code, out, err = run_cli(
        capsys, "study", "--ticker", csv.stem, "--prices", str(csv), "--as-of", as_of, "--format", "json", *extra
    )
    assert code == 0, err
    return json.loads(out)


def settings_for(home: Path, *, catalog: str | None = None, **values: Any) -> Settings:
    """Settings for a warehouse under home (and `values`), nothing from the environment."""
    return Settings(_env_file=None, home=home, catalog=catalog, data_path=None, **values)


def use_home(monkeypatch: Any, home: Path) -> Path:
    """Point the commands at the warehouse under home: SURGEWATCH_HOME set, the catalog and
    data path settings and COLUMNS unset, and home the working folder (no developer's .env)."""
    for name in ("SURGEWATCH_CATALOG", "SURGEWATCH_DATA_PATH", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURGEWATCH_HOME", str(home))
    monkeypatch.chdir(home)
    return home


def open_read_only(home: Path) -> Warehouse:
    """The warehouse under home, opened read-only."""
    return Warehouse.open(settings_for(home), read_only=True)


def price_frame(rows: Iterable[tuple]) -> pl.DataFrame:
    """The raw daily frame (RAW_SCHEMA) from (ticker, date, open, high, low, close,
    adj_close, volume) tuples."""
    return pl.DataFrame(list(rows), schema=RAW_SCHEMA, orient="row")


def make_prices(tickers=("AAA", "BBB"), sessions=SESSIONS, bump: dict | None = None) -> pl.DataFrame:
    """Daily bars; bump={(ticker, date): new_close} changes single closes."""
    rows = []
    for t_index, ticker in enumerate(tickers):
        for d_index, day in enumerate(sessions):
            close = (bump or {}).get((ticker, day), 100.0 + 10 * t_index + d_index)
            rows.append((ticker, day, close, close + 1, close - 1, close, close * 0.98, 1000 + d_index))
    return price_frame(rows)


def make_run(run_id: str, status: str = "published", **fields: Any) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        status=status,
        started_at=datetime(2026, 1, 9, 22, 0, tzinfo=timezone.utc),
        source="csv",
        tickers=("AAA", "BBB"),
        as_of=date(2026, 1, 9),
        **fields,
    )


def make_results(tickers=("AAA", "BBB"), move: float = 0.12) -> dict[str, pl.DataFrame]:
    """month_end / events / summary / baseline frames shaped like the transforms' output
    (UInt32 counts, an extra fwd_24m horizon, no fwd_6m/mdd_6m, no lineage columns)."""
    n = len(tickers)
    month_end = pl.DataFrame(
        {
            "ticker": list(tickers),
            "month": [date(2026, 1, 1)] * n,
            "as_of": [date(2026, 1, 9)] * n,
            "close": [105.0] * n,
            "complete": [False] * n,
            "sessions": pl.Series([6] * n, dtype=pl.UInt32),
            "up_sessions": pl.Series([5] * n, dtype=pl.UInt32),
            "prior_drawdown": [-0.05] * n,
            "move": [move] * n,
            "fwd_1m": [None] * n,
            "fwd_3m": [None] * n,
            "fwd_12m": [None] * n,
            "fwd_24m": [0.3] * n,
            "mdd_1m": [None] * n,
        },
        schema_overrides={"fwd_1m": pl.Float64, "fwd_3m": pl.Float64, "fwd_12m": pl.Float64, "mdd_1m": pl.Float64},
    )
    events = month_end.with_columns(first_crossed_on=pl.lit(date(2026, 1, 7)))
    summary = pl.DataFrame(
        {
            "ticker": [t for t in tickers for _ in (1, 3)],
            "horizon": [h for _ in tickers for h in (1, 3)],
            "n": pl.Series([0, 0] * n, dtype=pl.UInt32),
            "average": [None, None] * n,
        },
        schema_overrides={"average": pl.Float64},
    )
    return {"month_end": month_end, "events": events, "summary": summary, "baseline": summary}


def publish(
    wh: Warehouse,
    run: RunRecord,
    *,
    prices: pl.DataFrame | None = None,
    results: dict[str, pl.DataFrame] | None = None,
    replace: Collection[str] = (),
    alerts: pl.DataFrame | None = None,
) -> int:
    """Write a run in one transaction (by default make_prices() and make_results() with
    STUDY) and return its version."""
    with wh.write(run) as tx:
        tx.prices(make_prices() if prices is None else prices, replace=replace)
        tx.results(**(make_results() if results is None else results), **STUDY)
        if alerts is not None:
            tx.alerts(alerts)
    return tx.snapshot


def sequential_figures(means: np.ndarray, population: np.ndarray, observed: float) -> tuple[float, float, int]:
    """SPEC §2b's sequential placebo_p, placebo_percentile and placebo_draws, walking the
    B means one by one: stop at the AS_FAR-th set as far as the observed mean."""
    mu = population.mean()
    far = below = 0
    for drawn, mean in enumerate(means, start=1):
        far += abs(mean - mu) >= abs(observed - mu) * (1 - _TIE)
        below += mean <= observed + _TIE * abs(observed)
        if far == AS_FAR:
            return far / drawn, below / drawn, drawn
    return (1 + far) / (len(means) + 1), below / len(means), len(means)


@contextmanager
def another_refresh_writing(settings: Settings) -> Iterator[None]:
    """Another writer holds the warehouse's lock for the block (a thread of its own: the
    lock is re-entrant only within one thread)."""
    holding, release = threading.Event(), threading.Event()

    def refresh() -> None:
        with Warehouse.writer_lock(settings):
            holding.set()
            release.wait(60)

    writer = threading.Thread(target=refresh)
    writer.start()
    try:
        assert holding.wait(60)
        yield
    finally:
        release.set()
        writer.join()

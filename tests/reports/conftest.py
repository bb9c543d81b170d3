"""Report fixtures: synthetic ReportData (no shared data needed) and a real warehouse
refreshed once per session from ../shared's CSV prices (skipped when absent)."""

import datetime as dt
import fcntl
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from surgewatch.reports.data import ReportData, RunInfo
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.core.tables import MONTH_END, SIGNAL_EVENTS, result_columns
from tests.factories import price_frame

RUN_ID = "0f1e2d3c-0000-4000-8000-000000000001"
REFRESHED = dt.datetime(2024, 6, 14, 22, 15, tzinfo=dt.timezone.utc)
SYNTHETIC_AS_OF = dt.date(2024, 6, 14)
JUMP_ON = dt.date(2024, 6, 10)
REAL_AS_OF = "2026-04-20"
"""The article's night: IWM's April 2026 is a provisional +10% month through the 20th."""


def synthetic_prices(as_of: dt.date = SYNTHETIC_AS_OF) -> pl.DataFrame:
    """Two tickers on NYSE sessions from 2015 to as_of, waves steep enough for +10% months;
    AAA jumps 20% on JUMP_ON so its last (partial) month is a provisional event."""
    sessions = nyse_sessions(dt.date(2015, 1, 2), as_of).filter(pl.col("date") <= as_of)["date"].to_list()
    rows = []
    for ticker, amplitude, period in (("AAA", 0.22, 250), ("BBB", 0.17, 180)):
        for i, day in enumerate(sessions):
            close = 100 * math.exp(0.0003 * i + amplitude * math.sin(2 * math.pi * i / period))
            if ticker == "AAA" and day >= JUMP_ON:
                close *= 1.2
            rows.append((ticker, day, close, close, close, close, close, 1000))
    return price_frame(rows)


def _run(status: str = "published", **changes) -> RunInfo:
    fields = dict(
        run_id=RUN_ID,
        status=status,
        started_at=REFRESHED - dt.timedelta(minutes=1),
        finished_at=REFRESHED,
        as_of=SYNTHETIC_AS_OF,
        source="csv",
        tickers=("AAA", "BBB"),
        snapshot_id=7,
        failed={},
        message=None,
    )
    return RunInfo(**{**fields, **changes})


def synthetic_report_data(**run_changes) -> ReportData:
    """ReportData shaped as load_report_data returns it, computed by the real study from
    synthetic_prices(); run_changes alter the latest run (e.g. status="failed")."""
    prices = synthetic_prices()
    result = run_study(prices, StudyParams())
    summary = pl.concat(
        [
            result.summary.with_columns(kind=pl.lit("events")),
            result.baseline.with_columns(kind=pl.lit("baseline")),
        ]
    ).select("ticker", "kind", "horizon", "n", "average", "median", "win_rate", "sharpe", "max_drawdown")
    tickers = ["AAA", "BBB"]
    lineage = (
        prices.group_by("ticker")
        .agg(
            first_session=pl.col("date").min(),
            last_session=pl.col("date").max(),
            sessions=pl.len(),
        )
        .with_columns(
            source=pl.lit("csv"),
            fetched_at=pl.lit(REFRESHED),
            prices_run=pl.lit(RUN_ID),
            results_runs=pl.lit([{"run": RUN_ID, "rows": 1}]),
        )
        .sort("ticker")
    )
    published = _run()
    return ReportData(
        tickers=tuple(tickers),
        studies=pl.DataFrame(
            {"ticker": tickers, "threshold": [0.10] * 2, "direction": ["up"] * 2, "basis": ["price"] * 2}
        ),
        events=result.events.select(result_columns(SIGNAL_EVENTS)),
        summary=summary,
        month_end=result.monthly.select(result_columns(MONTH_END)),
        closes=prices.select("ticker", "date", pl.col("close").alias("price")),
        lineage=lineage,
        last_published=published,
        latest_run=_run(**run_changes) if run_changes else published,
    )


@pytest.fixture(scope="session")
def synthetic() -> ReportData:
    """Synthetic ReportData with a provisional event (AAA, June 2024 to the 14th)."""
    return synthetic_report_data()


@pytest.fixture(scope="session")
def warehouse_home(prices_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SURGEWATCH_HOME of a warehouse made by a real `surgewatch refresh` of IWM, SPY and
    QQQ from the csv source, replaying the night of REAL_AS_OF (~15-30 s). Made once a run:
    under pytest-xdist the first worker to need it makes it in the run's shared temporary
    folder while the others wait on the lock, then every worker reads it (no test writes)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home = shared / "report-warehouse"
    with open(shared / "report-warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / "made").exists():
            shutil.rmtree(home, ignore_errors=True)  # a worker that failed half-way
            home.mkdir()
            _refresh_real_night(home, prices_dir)
            (home / "made").touch()
    return home


def _refresh_real_night(home: Path, prices_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURGEWATCH_")}
    env.update(
        SURGEWATCH_HOME=str(home),
        SURGEWATCH_SOURCE="csv",
        SURGEWATCH_CSV_DIR=str(prices_dir),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    # cwd is the temp folder so no developer's .env is read.
    done = subprocess.run(
        [sys.executable, "-m", "surgewatch.cli", "refresh", "--tickers", "IWM,SPY,QQQ", "--as-of", REAL_AS_OF],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"refresh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"


def four_tickers(data: ReportData) -> ReportData:
    """`data` with its two tickers copied as two more, shaped like IWM, SPY, QQQ, RUT: cards
    of unequal height (CCC keeps 4 of AAA's events, DDD 18 of BBB's) in the order AAA, CCC,
    BBB, DDD."""
    import dataclasses

    copies = {"AAA": "CCC", "BBB": "DDD"}

    def doubled(frame: pl.DataFrame, keep: dict[str, int] | None = None) -> pl.DataFrame:
        copy = frame.with_columns(pl.col("ticker").replace(copies))
        if keep is not None:
            copy = pl.concat([copy.filter(pl.col("ticker") == t).head(n) for t, n in keep.items()])
        return pl.concat([frame, copy])

    return dataclasses.replace(
        data,
        tickers=("AAA", "CCC", "BBB", "DDD"),
        studies=doubled(data.studies),
        events=doubled(data.events, keep={"CCC": 4, "DDD": 18}),
        summary=doubled(data.summary),
        month_end=doubled(data.month_end),
        closes=doubled(data.closes),
        lineage=doubled(data.lineage),
    )

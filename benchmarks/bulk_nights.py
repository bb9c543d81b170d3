"""SPEC §4b on a bulk source: a next night on `polygon` asks the provider ≤ 5 times,
whatever the universe's size, and ends with the tables of the same nights fetched per
ticker.

The universe's CSV files are served in Polygon's format by the test suite's fake server
(tests.fake_providers, on 127.0.0.1), histories come from the same files
(SURGEWATCH_HISTORY_SOURCE=csv), and the nights are bench_nightly's, each through the
real flow in a process of its own; the server counts every request it answers. The
tables are then compared with the per-ticker (csv source) run of the same nights, but
for prices_daily.adj_close: the universe's files carry adj_close on the basis of their
last day (a dividend yield folded back from it), which no night-by-night provider can
give; a bulk night's new row has its own night's basis (adj_close = close). The study
runs on close, so every result table must be equal.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Callable
from pathlib import Path

BULK_REQUESTS = 5
KEY = "bench-polygon-key"
# Which run or provider wrote a row, not what the row says.
LINEAGE = {"run_id", "source", "fetched_at"}
TABLES = ("prices_daily", "month_end", "signal_events", "signal_summary", "signal_stats")


def bulk_nights(
    workdir: Path,
    csv_dir: Path,
    tickers: list[str],
    plan: list[tuple[dt.date, str]],
    per_ticker_home: Path,
    run_night: Callable[..., dict],
    refresh_env: Callable[[Path, Path, list[str]], dict[str, str]],
) -> dict:
    """The plan's first load and next nights on the bulk source: each night's figures and
    the requests it made, and the tables compared with per_ticker_home's."""
    from tests.fake_providers import FakeProviders

    home = workdir / f"home-bulk-{len(tickers)}"
    if home.exists():
        import shutil

        shutil.rmtree(home)
    with FakeProviders(csv_dir, polygon_key=KEY) as fake:
        fake._every_frame()  # read the files now, not inside the first night's request
        env = refresh_env(home, csv_dir, tickers) | {
            "SURGEWATCH_SOURCE": "polygon",
            "SURGEWATCH_HISTORY_SOURCE": "csv",
            "SURGEWATCH_POLYGON_URL": fake.url,
            "SURGEWATCH_POLYGON_KEY": KEY,
            "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
        }
        nights = []
        for i, (day, kind) in enumerate(plan):
            fake.clear()
            label = "first load" if i == 0 else f"bulk {i}"
            night = run_night(home, csv_dir, tickers, day, label, kind, env=env)
            night["requests"] = fake.count(provider="polygon")
            night["other_requests"] = fake.count() - night["requests"]
            # The universe delists tickers (and skips a session here and there): a
            # session that does not list a ticker fails it for the night (exit 2).
            failed = [
                line for line in (home / f"night-{day}.log").read_text().splitlines() if line.startswith("failed:")
            ]
            night["not_listed"] = sum("not listed" in line for line in failed)
            night["other_failures"] = len(failed) - night["not_listed"]
            nights.append(night)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        differ = pool.apply(tables_differ, (home, per_ticker_home))
    return {"nights": nights, "differ": differ}


def tables_differ(home: Path, other: Path) -> list[str]:
    """The result tables whose rows differ between two warehouses (lineage aside)."""
    from surgewatch.core.settings import Settings
    from surgewatch.warehouse import Warehouse

    frames = []
    for where in (home, other):
        with Warehouse.open(Settings(_env_file=None, home=where), read_only=True) as wh:  # type: ignore[call-arg]  # pydantic-settings' init-only option
            tables = {}
            for table in TABLES:
                frame = wh.sql(f"SELECT * FROM {table}")
                keys = [c for c in ("ticker", "date", "month", "kind", "horizon") if c in frame.columns]
                ignored = LINEAGE | ({"adj_close"} if table == "prices_daily" else set())
                tables[table] = frame.drop(ignored & set(frame.columns)).sort(keys)
            frames.append(tables)
    return [t for t in TABLES if not frames[0][t].equals(frames[1][t], null_equal=True)]

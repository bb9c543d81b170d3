"""A seeded synthetic universe: N tickers × Y years of daily bars on the NYSE calendar.

Vectorised with numpy over a (tickers × sessions) grid, so 3,000 × 30 years (~22M rows)
takes a few seconds. Not part of any timed run.

The paths are built so that the study has something to find:
- log returns = drift + vol × Student-t(4) shocks (fat tails), scaled to unit variance;
- vol clusters: each ticker's daily vol follows a monthly AR(1) in log space around a
  ticker-specific level (0.8%–3.5% a day), so calm years and +10% months both occur;
- partial histories: a share of tickers list late (first row anywhere in the span) and a
  share delist early (last row mid-month, so their last month is partial / MTD);
- a share of tickers have a few single sessions missing inside their data (the
  data-quality case of SPEC §2: windows count sessions present, not calendar days).

Bars satisfy the DailyPrices schema: open/high/low/close > 0, high >= max(open, close),
low <= min(open, close), adj_close > 0 (close with a dividend yield folded back in),
volume Int64 >= 0; one row per (ticker, NYSE session), sorted by ticker then date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from dataclasses import dataclass

import numpy as np
import polars as pl

from surgewatch.core.calendar import nyse_sessions

DEFAULT_END = dt.date(2025, 12, 31)
CHUNK = 256  # tickers drawn per generator; part of what a seed means, keep it fixed
VOL_PHI, VOL_SHOCK = 0.85, 0.35  # monthly AR(1) of log-vol
_COLUMNS = ("date", "open", "high", "low", "close", "adj_close", "volume")
_COLUMNS_ORDER = ["ticker", *_COLUMNS]


@dataclass(frozen=True)
class UniverseShape:
    """How ragged the universe is; the defaults keep ~97% of the full grid's rows."""

    late_listing_share: float = 0.05  # first row anywhere in the span (>= 1 year before the end)
    delisting_share: float = 0.02  # last row on a random session, usually mid-month
    gappy_share: float = 0.02  # tickers with a few missing sessions inside their data
    gaps_per_gappy_ticker: int = 5


def session_grid(years: int, end: dt.date = DEFAULT_END) -> np.ndarray:
    """NYSE sessions from Jan 1 of the first of `years` calendar years to `end` (datetime64[D])."""
    start = dt.date(end.year - years + 1, 1, 1)
    dates = nyse_sessions(start, end)["date"]
    dates = dates.filter((dates >= start) & (dates <= end))
    return dates.to_numpy().astype("datetime64[D]")


def ticker_names(n: int) -> list[str]:
    """T0000, T0001, …: sort order = generation order."""
    width = max(4, len(str(n - 1)))
    return [f"T{i:0{width}d}" for i in range(n)]


def generate_universe(
    n_tickers: int,
    years: int,
    seed: int = 7,
    end: dt.date = DEFAULT_END,
    shape: UniverseShape = UniverseShape(),
) -> pl.DataFrame:
    """DailyPrices frame (ticker, date, open, high, low, close, adj_close, volume).

    Deterministic in (n_tickers, years, seed, end, shape). Per-ticker parameters come
    from one generator; the paths are drawn CHUNK tickers at a time (each chunk its own
    generator seeded by (seed, chunk)), which keeps the working set small and fast.
    """
    rng = np.random.default_rng(seed)
    dates = session_grid(years, end)
    n, s = n_tickers, len(dates)
    if n < 1 or s < 2:
        raise ValueError(f"need >= 1 ticker and >= 2 sessions, got {n} × {s}")

    # --- per ticker: span, vol level, drift, start price, dividend yield ------------
    first = np.zeros(n, dtype=np.int64)
    last = np.full(n, s - 1, dtype=np.int64)
    late = rng.random(n) < shape.late_listing_share
    first[late] = rng.integers(0, max(1, s - 252), size=late.sum())
    delisted = rng.random(n) < shape.delisting_share
    span = last - first
    last[delisted] = first[delisted] + (rng.random(delisted.sum()) * span[delisted]).astype(np.int64)
    last = np.maximum(last, first + 1)  # at least two rows
    gappy = (rng.random(n) < shape.gappy_share) & (last - first > 10)
    base_vol = np.exp(rng.normal(np.log(0.016), 0.35, size=n)).clip(0.008, 0.035)
    drift = rng.normal(0.0003, 0.0002, size=n)
    start_price = rng.uniform(10, 200, size=n)
    yield_per_session = rng.uniform(0, 0.03, size=n) / 252

    month_of_session = (dates.astype("datetime64[M]") - dates[0].astype("datetime64[M]")).astype(np.int64)
    n_months = int(month_of_session[-1]) + 1
    col = np.arange(s)
    discount = (s - 1 - col)[None, :].astype(np.float64)
    present = (col[None, :] >= first[:, None]) & (col[None, :] <= last[:, None])
    for i in np.flatnonzero(gappy):  # a handful of tickers: a plain loop is fine
        holes = rng.integers(first[i] + 1, last[i], size=shape.gaps_per_gappy_ticker)
        present[i, holes] = False  # never the first or last row: the span stays the same
    counts = present.sum(axis=1)
    ends = np.cumsum(counts)
    dtypes = {"date": np.int32, "volume": np.int64}  # date: days since the epoch, as polars stores it
    out = {name: np.empty(int(ends[-1]), dtype=dtypes.get(name, np.float64)) for name in _COLUMNS}
    day_numbers = dates.astype(np.int64).astype(np.int32)
    for c0 in range(0, n, CHUNK):
        idx = slice(c0, min(n, c0 + CHUNK))
        k = idx.stop - idx.start
        crng = np.random.default_rng([seed, c0 // CHUNK])

        # Monthly AR(1) of log-vol: clusters lasting a few months.
        log_vol = np.empty((k, n_months))
        log_vol[:, 0] = crng.normal(0, VOL_SHOCK, size=k)
        innovations = crng.normal(0, VOL_SHOCK * np.sqrt(1 - VOL_PHI**2), size=(k, n_months))
        for m in range(1, n_months):
            log_vol[:, m] = VOL_PHI * log_vol[:, m - 1] + innovations[:, m]
        vol = base_vol[idx, None] * np.exp(log_vol - VOL_SHOCK**2 / 2)[:, month_of_session]
        # Fat tails: Student-t(4) shocks scaled to unit variance (t(4) has variance 2).
        log_ret = crng.standard_t(4, size=(k, s)) * (vol / np.sqrt(2.0)) + drift[idx, None]
        log_ret[:, 0] = 0.0
        close = np.exp(np.log(start_price[idx, None]) + np.cumsum(log_ret, axis=1))
        # Open gaps from the previous close; the first bar opens near its close.
        open_ = np.empty_like(close)
        gap = np.exp(crng.normal(0, 0.3, size=(k, s)) * vol)
        open_[:, 1:] = close[:, :-1] * gap[:, 1:]
        open_[:, 0] = close[:, 0] * gap[:, 0]
        # exp(>= 0) >= 1, so high >= max(open, close); exp(<= 0) <= 1, so low <= min(open, close).
        high = np.maximum(open_, close) * np.exp(np.abs(crng.normal(0, 0.5, size=(k, s))) * vol)
        low = np.minimum(open_, close) * np.exp(-np.abs(crng.normal(0, 0.5, size=(k, s))) * vol)
        # Total-return series: dividends at a yield of 0–3%/yr, folded back into the past.
        adj_close = close * np.exp(-yield_per_session[idx, None] * discount)
        volume = np.exp(crng.normal(13, 1, size=(k, s))).astype(np.int64)

        # Row-major flattening of the present cells = sorted by ticker, then date.
        rows = slice(int(ends[c0] - counts[c0]), int(ends[idx.stop - 1]))
        mask = present[idx]
        for name, grid in (
            ("date", np.broadcast_to(day_numbers, (k, s))),
            ("open", open_),
            ("high", high),
            ("low", low),
            ("close", close),
            ("adj_close", adj_close),
            ("volume", volume),
        ):
            out[name][rows] = grid[mask]

    codes = np.repeat(np.arange(n, dtype=np.uint32), counts)
    return pl.DataFrame(
        {
            "ticker": pl.Series("ticker", ticker_names(n), dtype=pl.String).gather(codes),
            "date": pl.Series("date", out.pop("date")).cast(pl.Date),
            **out,
        }
    ).select(_COLUMNS_ORDER)


def publish_study(home: Path, prices: pl.DataFrame, result, run_id: str, as_of: dt.date | None = None) -> int:  # noqa: ANN001  (a StudyResult)
    """Write prices and a study's results (its §2b figures too) to the warehouse under
    `home` as one published run, as a night would; the version it became."""
    from surgewatch.core.settings import Settings
    from surgewatch.warehouse import RunRecord, Warehouse

    home.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    tickers = tuple(prices["ticker"].unique(maintain_order=True).to_list())
    run = RunRecord(run_id=run_id, status="published", started_at=started, source="csv", tickers=tickers, as_of=as_of)
    with Warehouse.open(Settings(home=home, catalog=None, data_path=None, _env_file=None)) as wh, wh.write(run) as tx:
        tx.prices(prices)
        tx.results(
            month_end=result.monthly,
            events=result.events,
            summary=result.summary,
            baseline=result.baseline,
            stats=result.stats,
            params=result.params,
        )
    return tx.snapshot

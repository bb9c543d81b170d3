"""The §2b figures as an analyst would write them: a loop over tickers and horizons, one
numpy generator per ticker, fixed B, numpy vectorised over the resamples of one ticker
(no sequential stopping, no sharing of draws). The peer `make bench` times the engine's
signal_stats against; its exact figures (excess, win_p, t_hac, independent episodes)
must equal the engine's, its random ones agree within their Monte Carlo error.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import binomtest
from surgewatch.core.vocabulary import forward_column


def _t_hac(r: np.ndarray, d: np.ndarray, lags: int) -> float:
    """Newey–West t of b in R = a + b·D, Bartlett weights, no small-sample correction."""
    x = np.column_stack([np.ones_like(r), d.astype(float)])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ r
    u = (r - x @ beta)[:, None] * x
    s = u.T @ u
    for lag in range(1, lags + 1):
        g = u[lag:].T @ u[:-lag]
        s += (1 - lag / (lags + 1)) * (g + g.T)
    v = xtx_inv @ s @ xtx_inv
    return float(beta[1] / np.sqrt(v[1, 1]))


def _independent(months: np.ndarray, r: np.ndarray, horizon: int) -> tuple[int, float]:
    kept, last = [], None
    for month, value in zip(months, r):
        if last is None or month - last >= horizon:
            kept.append(value)
            last = month
    return len(kept), float(np.mean(kept)) if kept else float("nan")


def ticker_stats(months: np.ndarray, r: np.ndarray, d: np.ndarray, horizon: int, resamples: int, seed: int) -> dict:
    """Every §2b figure of one ticker at one horizon (q_value aside: it needs the others)."""
    rng = np.random.default_rng(seed)
    r_e, n, big_n = r[d], int(d.sum()), len(r)
    row: dict = {"n": n, "excess": float(r_e.mean() - r.mean()) if n else float("nan"), "n_independent": 0}
    if n >= 2:
        means = r_e[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
        row["ci_low"], row["ci_high"] = np.percentile(means, [5, 95])
    if 0 < n < big_n:
        drawn = rng.permuted(np.tile(r, (resamples, 1)), axis=1)[:, :n].mean(axis=1)
        far = np.abs(drawn - r.mean()) >= abs(r_e.mean() - r.mean()) * (1 - 1e-12)
        row["placebo_p"] = (1 + far.sum()) / (resamples + 1)
    if n:
        row["win_p"] = binomtest(int((r_e > 0).sum()), n, float((r > 0).mean())).pvalue
        row["n_independent"], row["average_independent"] = _independent(months[d], r_e, horizon)
    if n >= 2 and big_n - n >= 2:
        row["t_hac"] = _t_hac(r, d, horizon - 1)
    return row


def peer_stats(monthly: pl.DataFrame, events: pl.DataFrame, horizons, resamples: int, seed: int) -> pl.DataFrame:
    """One row per (ticker, horizon), looping over both."""
    marked = monthly.join(events.select("ticker", "month", _event=pl.lit(True)), on=["ticker", "month"], how="left")
    rows = []
    for (ticker,), frame in marked.sort("ticker", "month").group_by("ticker", maintain_order=True):
        month_index = (frame["month"].dt.year() * 12 + frame["month"].dt.month()).to_numpy()
        is_event = frame["_event"].fill_null(False).to_numpy()
        for h in horizons:
            values = frame[forward_column(h)].to_numpy()
            keep = ~np.isnan(values)
            figures = ticker_stats(month_index[keep], values[keep], is_event[keep], h, resamples, seed)
            rows.append({"ticker": ticker, "horizon": h, **figures})
    return pl.DataFrame(rows, infer_schema_length=None)

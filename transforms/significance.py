"""Signal or noise (SPEC §2b): per ticker and horizon, how the events' forward returns
compare with every month's, and how sure that history is.

For horizon h, A = a ticker's months with a forward return (N of them, in month order),
E = the events among them (n). Every figure is vectorised over tickers; the random ones
live in transforms.resampling.
"""

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import polars.selectors as cs

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import find_keys, month_keys, run_ids
from surgewatch.transforms.resampling import Returns, bootstrap_ci, placebo
from surgewatch.transforms.returns import monthly_returns
from surgewatch.core.vocabulary import (
    DEFAULT_HORIZONS,
    MIN_EPISODES,
    SIGNIFICANT,
    SUGGESTIVE,
    forward_column,
    TOO_FEW,
    BEATS,
    TRAILS,
    SUGGESTIVE_BETTER,
    SUGGESTIVE_WORSE,
    NO_DIFFERENT,
)

STATS_COLUMNS = (
    "n",
    "n_independent",
    "average_independent",
    "excess",
    "ci_low",
    "ci_high",
    "placebo_p",
    "placebo_percentile",
    "placebo_draws",
    "chance_low",
    "chance_high",
    "win_p",
    "t_hac",
    "q_value",
    "verdict",
)
_BINOM_RELATIVE = 1 + 1e-7  # scipy.stats.binomtest's tolerance for "as likely as k"


@dataclass(frozen=True)
class Population:
    """A at one horizon for many tickers: rows sorted by ticker index, then month."""

    horizon: int
    tid: np.ndarray  # ticker index of each row (0 … tickers-1), non-decreasing
    key: np.ndarray  # month key of each row (transforms._order.month_keys over tid): month m+h is key + h
    ret: np.ndarray  # forward return R
    event: np.ndarray  # D: the month is an event
    tickers: int

    # Each figure reads N and n: found once (a frozen dataclass still has a __dict__).
    @cached_property
    def big_n(self) -> np.ndarray:
        return np.bincount(self.tid, minlength=self.tickers)

    @cached_property
    def n(self) -> np.ndarray:
        return np.bincount(self.tid, weights=self.event, minlength=self.tickers).astype(np.int64)

    def mean(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Per ticker mean of R over rows (a mask; default: all of A); NaN for none. The
        rows left out add 0.0, which leaves every sum as the rows' own."""
        with np.errstate(invalid="ignore", divide="ignore"):
            if rows is None:
                return np.bincount(self.tid, weights=self.ret, minlength=self.tickers) / self.big_n
            total = np.bincount(self.tid, weights=np.where(rows, self.ret, 0.0), minlength=self.tickers)
            return total / np.bincount(self.tid, weights=rows, minlength=self.tickers)

    def returns(self, rows: np.ndarray | None = None) -> Returns:
        """The returns of `rows` (a mask; default: all of A) as a flat per-ticker Returns."""
        if rows is None:
            return Returns(self.ret, np.cumsum(self.big_n) - self.big_n, self.big_n)
        size = np.bincount(self.tid[rows], minlength=self.tickers)
        return Returns(self.ret[rows], np.cumsum(size) - size, size)


def excess(pop: Population) -> np.ndarray:
    """excess = mean(R_E) − mean(R_A); NaN when n = 0."""
    return pop.mean(pop.event) - pop.mean()


def _log_factorials(largest: int) -> np.ndarray:
    """ln m! for m = 0 … largest, each math.lgamma(m + 1) (the C library's, as exact as
    scipy's gammaln): the win test's sizes are small integers, so a table replaces
    importing scipy.special, 0.1 s of every one-ticker study."""
    return np.array([math.lgamma(m + 1) for m in range(largest + 1)])


def _binom_pmf(k: np.ndarray, n: np.ndarray, p: np.ndarray, log_factorial: np.ndarray) -> np.ndarray:
    """The Binomial(n, p) mass at k, as scipy.stats.binom computes its log: ln C(n, k) +
    k ln p + (n − k) ln(1 − p), with 0 · ln 0 = 0 (scipy's xlogy and xlog1py)."""
    log_choose = log_factorial[n] - log_factorial[k] - log_factorial[n - k]
    with np.errstate(divide="ignore", invalid="ignore"):
        hits = np.where(k == 0, 0.0, k * np.log(p))
        misses = np.where(n - k == 0, 0.0, (n - k) * np.log1p(-p))
    return np.exp(log_choose + hits + misses)


def win_p(pop: Population) -> np.ndarray:
    """Exact two-sided binomial test of k = #{R_E > 0} in n trials against
    p0 = share of R_A > 0: Σ P(i) over every i with P(i) ≤ P(k)·(1 + 1e-7), P the
    Binomial(n, p0) mass (scipy.stats.binomtest's rule), capped at 1. NaN when n = 0."""
    n = pop.n
    k = np.bincount(pop.tid, weights=pop.event & (pop.ret > 0), minlength=pop.tickers)
    p0 = np.bincount(pop.tid, weights=pop.ret > 0, minlength=pop.tickers) / np.maximum(pop.big_n, 1)
    largest = int(n.max(initial=0))
    log_factorial = _log_factorials(largest)
    i = np.arange(largest + 1)[None, :]
    within = np.minimum(i, n[:, None])  # i > n: no mass there (masked)
    mass = np.where(i <= n[:, None], _binom_pmf(within, n[:, None], p0[:, None], log_factorial), np.nan)
    at_k = _binom_pmf(k.astype(np.int64), n, p0, log_factorial)[:, None]
    total = np.where(mass <= at_k * _BINOM_RELATIVE, mass, 0.0).sum(axis=1)
    return np.where(n > 0, np.minimum(total, 1.0), np.nan)


def t_hac(pop: Population) -> np.ndarray:
    """t = b / se(b) of the OLS R = a + b·D + e over A in month order, se from
    Newey–West with L = h − 1 lags, Bartlett weights w_l = 1 − l/(L+1), no small-sample
    correction: V = (X'X)⁻¹ S (X'X)⁻¹, S = Σ e_t² x_t x_t' + Σ_l w_l Σ_t e_t e_{t−l}
    (x_t x_{t−l}' + x_{t−l} x_t'). NaN when n < 2 or N − n < 2.

    Closed form: b = mean(R_E) − mean(R_not E); with z_t = e_t / n on event months and
    −e_t / (N − n) elsewhere (the b-row of (X'X)⁻¹ times x_t e_t),
    V_bb = Σ z_t² + 2 Σ_l w_l Σ_t z_t z_{t−l}.
    """
    n, big_n, lags = pop.n, pop.big_n, pop.horizon - 1
    mean_event, mean_other = pop.mean(pop.event), pop.mean(~pop.event)
    resid = pop.ret - np.where(pop.event, mean_event[pop.tid], mean_other[pop.tid])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = resid * np.where(pop.event, 1 / n[pop.tid], -1 / (big_n - n)[pop.tid])
        # One row per ticker, zero-padded: a lag's products are one slice each, and the
        # padding keeps them from pairing one ticker's months with the next's.
        rows = np.zeros((pop.tickers, int(big_n.max(initial=0))))
        rows[pop.tid, np.arange(len(z)) - (np.cumsum(big_n) - big_n)[pop.tid]] = z
        var = (rows * rows).sum(axis=1)
        for lag in range(1, lags + 1):
            var += 2 * (1 - lag / (lags + 1)) * (rows[:, lag:] * rows[:, :-lag]).sum(axis=1)
        t = (mean_event - mean_other) / np.sqrt(var)
    return np.where((n >= 2) & (big_n - n >= 2) & (var > 0), t, np.nan)


def independent(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Events whose forward windows do not overlap: walk a ticker's events in month
    order, keep one when it lies at least h months after the last kept one.
    Returns (n_independent, average_independent); the average is NaN for none.

    Each event points at the first event h or more months later; the walk follows those
    pointers from every ticker's first event at once.
    """
    rows = np.flatnonzero(pop.event)
    tid, key = pop.tid[rows], pop.key[rows]
    following = np.searchsorted(key, key + pop.horizon)
    ends = np.searchsorted(tid, tid, side="right")  # one past each ticker's last event
    following = np.where(following < ends, following, -1)
    kept = np.zeros(len(rows), bool)
    walk = np.flatnonzero(np.r_[True, tid[1:] != tid[:-1]]) if len(rows) else np.empty(0, np.int64)
    while len(walk):
        kept[walk] = True
        walk = following[walk]
        walk = walk[walk >= 0]
    count = np.bincount(tid[kept], minlength=pop.tickers)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.bincount(tid[kept], weights=pop.ret[rows][kept], minlength=pop.tickers) / count
    return count, average


def q_values(stats: pl.DataFrame) -> pl.Series:
    """Benjamini–Hochberg over each ticker's non-null placebo_p across horizons: with the
    m p-values ascending, q_(i) = min_{j ≥ i} (m / j · p_(j)), capped at 1."""
    ranked = (
        stats.with_row_index("_row")
        .filter(pl.col("placebo_p").is_not_null())
        .sort("ticker", "placebo_p")
        .with_columns(
            (pl.len().over("ticker") / pl.int_range(1, pl.len() + 1).over("ticker") * pl.col("placebo_p")).alias("_q")
        )
        .with_columns(pl.col("_q").reverse().cum_min().reverse().over("ticker").clip(upper_bound=1.0))
    )
    joined = stats.with_row_index("_row").join(ranked.select("_row", "_q"), on="_row", how="left")
    return joined.sort("_row")["_q"].alias("q_value")


def populations(monthly: pl.DataFrame, events: pl.DataFrame, horizons: Sequence[int]) -> list[Population]:
    """A at each horizon: monthly rows with a forward return, in (ticker, month) order,
    D from the events' months; tickers numbered in sorted order. Rows are matched by
    their month keys (ticker run, month number), not by hashing tickers."""
    frame, runs = sorted_with_runs(monthly.select("ticker", "month", *(forward_column(h) for h in horizons)), "month")
    tid = run_ids(runs).to_numpy().astype(np.int64)
    key = month_keys(frame["month"], tid)
    # An event's ticker number is its place among the runs' (sorted) tickers, where it is one of them.
    names = runs["ticker"]
    at = np.minimum(names.search_sorted(events["ticker"]).to_numpy(), max(len(names) - 1, 0))
    known = (names.gather(at) == events["ticker"]).to_numpy() if len(names) else np.zeros(events.height, bool)
    rows, found = find_keys(key, month_keys(events["month"], at))
    event = np.zeros(len(key), bool)
    event[rows[found & known]] = True
    out = []
    for h in horizons:
        column = frame[forward_column(h)]
        has = column.is_not_null().to_numpy()
        out.append(Population(h, tid[has], key[has], column.to_numpy()[has], event[has], len(names)))
    return out


def signal_stats(
    monthly: pl.DataFrame, events: pl.DataFrame, horizons: Sequence[int], resamples: int = 10_000, seed: int = 0
) -> pl.DataFrame:
    """One row per (ticker of monthly, horizon asked) with every §2b figure; null where a
    figure is undefined. The random ones use `resamples` draws seeded by `seed`.

    q_value adjusts placebo_p across a fixed family per ticker, the standard horizons
    (DEFAULT_HORIZONS) plus any asked: the family's other horizons are computed for it and
    not returned, so the q and the verdict at a horizon never depend on which horizons
    were asked. A ticker's figures depend only on its own returns, B and the seed."""
    family = sorted(set(DEFAULT_HORIZONS) | set(horizons))
    stats = horizon_figures(with_forward_returns(monthly, family), events, family, resamples, seed)
    stats = stats.with_columns(q_values(stats)).with_columns(verdict())
    return stats.filter(pl.col("horizon").is_in(list(horizons)))


def with_forward_returns(monthly: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """monthly with fwd_hm for every h of horizons: those it lacks computed from its
    month-end closes (transforms.returns.monthly_returns), joined by (ticker, month)."""
    missing = [h for h in horizons if forward_column(h) not in monthly.columns]
    if not missing:
        return monthly
    base = monthly.select("ticker", "month", "close", "complete")
    ahead = monthly_returns(base, missing).select("ticker", "month", *(forward_column(h) for h in missing))
    return monthly.join(ahead, on=["ticker", "month"], how="left", maintain_order="left")


def horizon_figures(
    monthly: pl.DataFrame, events: pl.DataFrame, horizons: Sequence[int], resamples: int = 10_000, seed: int = 0
) -> pl.DataFrame:
    """signal_stats' figures at exactly these horizons, without q_value and verdict (which
    need the ticker's whole family: a night recomputing some horizons adds them to the
    published ones first)."""
    tickers = monthly["ticker"].unique().sort()
    pops = populations(monthly, events, horizons)
    # Every horizon in one call: tickers of equal shape share the draws whatever the horizon.
    # The two random figures share nothing: each on a thread of its own, so one's Python
    # steps run while the other's numpy work (sorts, products, gathers) holds no GIL, and
    # this thread meanwhile computes the exact figures of every horizon.
    # The placebo first: its rounds run one after another, so it finishes last.
    with ThreadPoolExecutor(max_workers=2) as pool:
        tested = pool.submit(
            placebo,
            Returns.stack([pop.returns() for pop in pops]),
            np.concatenate([pop.n for pop in pops]),
            np.concatenate([pop.mean(pop.event) for pop in pops]),
            resamples,
            seed,
        )
        interval = pool.submit(bootstrap_ci, Returns.stack([pop.returns(pop.event) for pop in pops]), resamples, seed)
        exact = [_exact_figures(pop, tickers) for pop in pops]
        (ci_low, ci_high), (p_value, percentile, draws, chance_low, chance_high) = interval.result(), tested.result()
    parts = []
    for i, figures in enumerate(exact):
        at = slice(i * len(tickers), (i + 1) * len(tickers))
        random = {
            "ci_low": ci_low[at],
            "ci_high": ci_high[at],
            "placebo_p": p_value[at],
            "placebo_percentile": percentile[at],
            "placebo_draws": pl.Series(draws[at], dtype=pl.UInt32),
            "chance_low": chance_low[at],
            "chance_high": chance_high[at],
        }
        parts.append(figures.with_columns(**random).select("ticker", "horizon", *STATS_COLUMNS[:-2]))
    return pl.concat(parts).with_columns(cs.float().fill_nan(None)).sort("ticker", "horizon")


def _exact_figures(pop: Population, tickers: pl.Series) -> pl.DataFrame:
    """One horizon's figures that draw nothing: n, independent episodes, excess, win_p, t_hac."""
    n_independent, average_independent = independent(pop)
    return pl.DataFrame(
        {
            "ticker": tickers,
            "horizon": pl.Series(np.full(len(tickers), pop.horizon), dtype=pl.Int64),
            "n": pl.Series(pop.n, dtype=pl.UInt32),
            "n_independent": pl.Series(n_independent, dtype=pl.UInt32),
            "average_independent": average_independent,
            "excess": excess(pop),
            "win_p": win_p(pop),
            "t_hac": t_hac(pop),
        }
    )


def verdict() -> pl.Expr:
    """SPEC §2b, the first rule that applies: too few episodes (n_independent < 5);
    beats / trails random months (q_value ≤ 0.05, by the sign of excess); suggestive,
    not proven (better / worse) (placebo_p ≤ 0.10); else no different from random months."""
    better = pl.col("excess") > 0
    return (
        pl.when(pl.col("n_independent") < MIN_EPISODES)
        .then(pl.lit(TOO_FEW))
        .when((pl.col("q_value") <= SIGNIFICANT) & better)
        .then(pl.lit(BEATS))
        .when((pl.col("q_value") <= SIGNIFICANT) & (pl.col("excess") < 0))
        .then(pl.lit(TRAILS))
        .when((pl.col("placebo_p") <= SUGGESTIVE) & better)
        .then(pl.lit(SUGGESTIVE_BETTER))
        .when(pl.col("placebo_p") <= SUGGESTIVE)
        .then(pl.lit(SUGGESTIVE_WORSE))
        .otherwise(pl.lit(NO_DIFFERENT))
        .alias("verdict")
    )

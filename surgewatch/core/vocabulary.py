"""The study's facts, defined once: what a bar holds, which horizons and threshold a study
uses unless told otherwise, what a summary reports, and what "past the threshold" means.

Ground floor: the transforms, schemas, sources, warehouse DDL, CLI and report read them
from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:  # only types: the command line imports this before it knows it needs polars
    import numpy as np
    import polars as pl

Direction = Literal["up", "down"]
# price: split-adjusted close; total: dividends reinvested (transforms.BASIS_COLUMN).
Basis = Literal["price", "total"]
# How a refresh ended (SPEC §4): every ticker healthy, some failed, nothing published, or
# not run (another refresh was writing).
RunStatus = Literal["published", "partial", "failed", "skipped"]

# Forward horizons in months, and the move that qualifies a month (a fraction).
DEFAULT_HORIZONS: tuple[int, ...] = (1, 3, 6, 12)
DEFAULT_THRESHOLD = 0.10

# A daily bar's values, and a price row: a bar keyed by (ticker, date).
BAR_COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")
PRICE_KEY = ("ticker", "date")
PRICE_COLUMNS = (*PRICE_KEY, *BAR_COLUMNS)

# The figures of a horizon summary, in the order every table shows them.
STATISTICS = ("n", "average", "median", "win_rate", "sharpe", "max_drawdown")
# SPEC §2b: fewer events than this at a horizon is a small sample.
SMALL_SAMPLE = 10

# SPEC §2b's verdict: its words, by name, in the order its rules apply, and their cut-offs.
TOO_FEW = "too few episodes"
BEATS = "beats random months"
TRAILS = "trails random months"
SUGGESTIVE_BETTER = "suggestive, not proven (better)"
SUGGESTIVE_WORSE = "suggestive, not proven (worse)"
NO_DIFFERENT = "no different from random months"
VERDICTS = (TOO_FEW, BEATS, TRAILS, SUGGESTIVE_BETTER, SUGGESTIVE_WORSE, NO_DIFFERENT)
MIN_EPISODES = 5  # independent episodes below which no verdict is given
SIGNIFICANT = 0.05  # q_value at or below: beats / trails
SUGGESTIVE = 0.10  # placebo_p at or below: suggestive


def percent_as_fraction(percent: float) -> str:
    """The fraction a number typed as a percent meant, as a person would type it:
    10 → "0.10", 1.5 → "0.015", -10 → "-0.10" (at least two decimals, no float noise)."""
    text = f"{percent / 100:.10f}".rstrip("0")
    return text if len(text.split(".")[1]) >= 2 else f"{percent / 100:.2f}"


def forward_column(horizon: int) -> str:
    """The forward return over `horizon` months: fwd_<h>m (the one place the name is spelled)."""
    return f"fwd_{horizon}m"


def drawdown_column(horizon: int) -> str:
    """The worst drawdown within `horizon` months: mdd_<h>m (the one place the name is spelled)."""
    return f"mdd_{horizon}m"


def forward_columns(horizons: tuple[int, ...] = DEFAULT_HORIZONS) -> tuple[str, ...]:
    """forward_column of each horizon."""
    return tuple(forward_column(h) for h in horizons)


def drawdown_columns(horizons: tuple[int, ...] = DEFAULT_HORIZONS) -> tuple[str, ...]:
    """drawdown_column of each horizon."""
    return tuple(drawdown_column(h) for h in horizons)


@overload
def crossed(move: pl.Expr, threshold: float, direction: Direction | str) -> pl.Expr: ...
@overload
def crossed(move: np.ndarray, threshold: float, direction: Direction | str) -> np.ndarray: ...
def crossed(move: pl.Expr | np.ndarray, threshold: float, direction: Direction | str) -> pl.Expr | np.ndarray:
    """Past the threshold: move >= threshold (up) or move <= -threshold (down)."""
    return move >= threshold if direction == "up" else move <= -threshold

"""Two groups of events → the difference of their mean forward returns and its
permutation p-value (SPEC §2c `diff`, `diff_p`)."""

from collections.abc import Sequence

import numpy as np
import polars as pl

from surgewatch.transforms.resampling import AS_FAR, ROUND
from surgewatch.core.vocabulary import forward_column

_RELABEL = 3  # the generator kind of a relabeling round (1, 2: transforms.resampling)
# Relabelings whose |difference| equals the observed one up to rounding count as "as
# extreme": the same sums added in another order differ in the last bits.
_TIE = 1e-12


def permutation_p(when: np.ndarray, otherwise: np.ndarray, resamples: int, seed: int) -> float | None:
    """Two-sided permutation test of d = mean(when) - mean(otherwise), drawn sequentially
    like placebo_p (SPEC §2c): relabelings in rounds of ROUND, round r shuffling the pooled
    returns with ``default_rng([seed, 3, r])`` (`permuted`, row by row) and calling the
    first len(when) of each row `when`, so both group sizes are kept. Drawing stops at
    the AS_FAR-th relabeling with |d_b| ≥ |d_obs| (p = AS_FAR / L, L relabelings drawn),
    else after B = resamples: p = (1 + k) / (B + 1). None when either group is empty.
    """
    if len(when) == 0 or len(otherwise) == 0:
        return None
    pooled = np.concatenate([when, otherwise]).astype(np.float64)
    observed = abs(when.mean() - otherwise.mean())
    k, size = 0, len(when)
    for round_, first in enumerate(range(0, resamples, ROUND)):
        rows = min(ROUND, resamples - first)
        rng = np.random.default_rng([seed, _RELABEL, round_])
        shuffled = rng.permuted(np.tile(pooled, (rows, 1)), axis=1)
        differences = shuffled[:, :size].mean(axis=1) - shuffled[:, size:].mean(axis=1)
        far = np.cumsum(np.abs(differences) >= observed - _TIE * max(1.0, observed)) + k
        if far[-1] >= AS_FAR:
            return AS_FAR / (first + int(np.argmax(far >= AS_FAR)) + 1)
        k = int(far[-1])
    return (1 + k) / (resamples + 1)


def group_differences(
    when: pl.DataFrame,
    otherwise: pl.DataFrame,
    horizons: Sequence[int],
    resamples: int,
    seed: int,
) -> pl.DataFrame:
    """Per horizon h, over each group's non-null fwd_hm: difference = mean(when) -
    mean(otherwise) and diff_p = permutation_p (seeded by seed at every horizon, so a
    horizon's figures do not depend on which others were asked); both null when a group
    has no return at h."""
    rows = []
    for h in horizons:
        a, b = (frame[forward_column(h)].drop_nulls().to_numpy() for frame in (when, otherwise))
        p = permutation_p(a, b, resamples, seed)
        rows.append(
            {
                "horizon": h,
                "difference": None if p is None else float(a.mean() - b.mean()),
                "diff_p": p,
            }
        )
    return pl.DataFrame(
        rows,
        schema={"horizon": pl.Int64, "difference": pl.Float64, "diff_p": pl.Float64},
    )

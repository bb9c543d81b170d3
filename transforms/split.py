"""Two groups of events → the difference of their mean forward returns and its
permutation p-value (SPEC §2c `diff`, `diff_p`)."""

from collections.abc import Sequence

import numpy as np
import polars as pl

# Relabelings whose |difference| equals the observed one up to rounding count as "as
# extreme": the same sums added in another order differ in the last bits.
_TIE = 1e-12


def permutation_p(when: np.ndarray, otherwise: np.ndarray, resamples: int, seed: int) -> float | None:
    """Two-sided permutation test of d = mean(when) - mean(otherwise).

    Each of the B = resamples relabelings shuffles the pooled returns (numpy's
    default_rng(seed), `permuted` row by row) and calls the first len(when) of them
    `when`, so both group sizes are kept; p = (1 + #{b : |d_b| >= |d_obs|}) / (B + 1).
    None when either group is empty.
    """
    if len(when) == 0 or len(otherwise) == 0:
        return None
    pooled = np.concatenate([when, otherwise]).astype(np.float64)
    observed = abs(when.mean() - otherwise.mean())
    shuffled = np.random.default_rng(seed).permuted(np.tile(pooled, (resamples, 1)), axis=1)
    k = len(when)
    differences = shuffled[:, :k].mean(axis=1) - shuffled[:, k:].mean(axis=1)
    extreme = np.abs(differences) >= observed - _TIE * max(1.0, observed)
    return float((1 + extreme.sum()) / (resamples + 1))


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
        a, b = (frame[f"fwd_{h}m"].drop_nulls().to_numpy() for frame in (when, otherwise))
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

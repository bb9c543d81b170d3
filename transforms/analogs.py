"""A target month and past events → the events most like it (SPEC §2c analogs)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

FEATURES: tuple[str, ...] = ("move", "prior_drawdown", "prior_12m", "up_share")


@dataclass(frozen=True)
class Analogs:
    """The nearest candidates and what the distance was computed on."""

    nearest: pl.DataFrame
    """The top candidates, nearest first, with a distance column."""
    candidates: pl.DataFrame
    """Every candidate that has all features (the population of the comparison)."""
    left_out: int
    """Candidates dropped for lacking a feature."""
    features: tuple[str, ...]
    """The features the distance used."""


def nearest_analogs(
    target: dict[str, float | None],
    candidates: pl.DataFrame,
    top: int,
    features: Sequence[str] = FEATURES,
) -> Analogs:
    """distance = sqrt(sum over features f of ((x_f - t_f) / sd_f)^2), x a candidate's
    feature, t the target's, sd the population standard deviation of f over the
    candidates (standardising by the mean as well cancels out of the difference).

    A candidate missing any feature is left out (and counted); a feature whose
    deviation is 0, or that the target lacks, is not used. The `top` nearest are kept,
    ties broken by month, then ticker.
    """
    complete = pl.all_horizontal(pl.col(f).is_not_null() & pl.col(f).is_not_nan() for f in features)
    kept = candidates.filter(complete)
    used = tuple(f for f in features if target.get(f) is not None and kept.height and _varies(kept[f]))
    if used:
        squares = [((pl.col(f) - target[f]) / kept[f].std(ddof=0)) ** 2 for f in used]
        distance = pl.sum_horizontal(squares).sqrt()
    else:  # nothing to tell the candidates apart: all are equally near
        distance = pl.lit(0.0)
    ranked = kept.with_columns(distance=distance.cast(pl.Float64)).sort("distance", "month", "ticker")
    return Analogs(
        nearest=ranked.head(top),
        candidates=kept,
        left_out=candidates.height - kept.height,
        features=used,
    )


def _varies(values: pl.Series) -> bool:
    """Spread beyond rounding: values computed from one price series can differ in their
    last bits only, and dividing by such a deviation would make every distance huge."""
    low, high = float(values.min()), float(values.max())  # type: ignore[arg-type]  # a float feature column
    return not math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-12)

"""A target month and past events → the events most like it (SPEC §2c analogs)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from surgewatch.core.vocabulary import Direction, crossed

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
    ties broken by month, then ticker. share_<f> = feature f's term over the squared
    distance (null at distance 0): which feature made a candidate near or far.
    """
    complete = pl.all_horizontal(pl.col(f).is_not_null() & pl.col(f).is_not_nan() for f in features)
    kept = candidates.filter(complete)
    used = tuple(f for f in features if target.get(f) is not None and kept.height and _varies(kept[f]))
    squares: list[pl.Expr] = []
    if used:
        squares = [((pl.col(f) - target[f]) / kept[f].std(ddof=0)) ** 2 for f in used]
        distance = pl.sum_horizontal(squares).sqrt()
    else:  # nothing to tell the candidates apart: all are equally near
        distance = pl.lit(0.0)
    shares = (
        [(square / distance**2).fill_nan(None).alias(f"share_{f}") for f, square in zip(used, squares)] if used else []
    )
    ranked = (
        kept.with_columns(distance=distance.cast(pl.Float64)).with_columns(shares).sort("distance", "month", "ticker")
    )
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


def cut_at_session(prices: pl.DataFrame, monthly: pl.DataFrame, sessions: int, value: str = "close") -> pl.DataFrame:
    """Each month of `monthly` as it stood after its first `sessions` sessions, so a
    partial month is compared like with like (SPEC §2c): move = V[s] / C[m-1] - 1 with V
    the `value` column of the daily prices, V[s] its s-th session of the month and C[m-1]
    the month before's close; up_sessions = closes above the previous session's among
    those s; up_share = up_sessions / s; sessions = s. Months with fewer sessions (and
    the first month, without a close before it) are dropped; other columns are kept."""
    daily = (
        prices.sort("ticker", "date")
        .with_columns(month=pl.col("date").dt.truncate("1mo"), up=pl.col(value) > pl.col(value).shift(1).over("ticker"))
        .with_columns(nth=pl.int_range(1, pl.len() + 1).over("ticker", "month"))
        .filter(pl.col("nth") <= sessions)
        .group_by("ticker", "month")
        .agg(
            cut_close=pl.col(value).sort_by("nth").last(),
            cut_ups=pl.col("up").fill_null(False).sum().cast(pl.UInt32),
            cut_sessions=pl.len(),
        )
        .filter(pl.col("cut_sessions") == sessions)
    )
    before = monthly.sort("ticker", "month").with_columns(previous=pl.col("close").shift(1).over("ticker"))
    return (
        before.join(daily, on=["ticker", "month"])
        .filter(pl.col("previous").is_not_null())
        .with_columns(
            move=pl.col("cut_close") / pl.col("previous") - 1,
            sessions=pl.col("cut_sessions").cast(before.schema["sessions"]),
            up_sessions=pl.col("cut_ups").cast(before.schema["up_sessions"]),
            up_share=pl.col("cut_ups").cast(pl.Float64) / sessions,
        )
        .drop("previous", "cut_close", "cut_ups", "cut_sessions")
        .sort("ticker", "month")
    )


def comparable_months(
    events: pl.DataFrame,
    prices: pl.DataFrame,
    monthly: pl.DataFrame,
    target: dict,
    threshold: float,
    direction: Direction | str,
    value: str = "close",
) -> pl.DataFrame:
    """Months to compare a target with (SPEC §2c): the events, or for a partial target of
    s sessions every month of `monthly` cut at its s-th session (cut_at_session on the
    daily `value`) whose move then was past the threshold: in-month features as of that
    session, forward returns from its month's end."""
    if target["complete"]:
        return events
    cut = cut_at_session(prices, monthly, target["sessions"], value)
    return cut.filter(crossed(pl.col("move"), threshold, direction))

"""A study split by a condition (SPEC §2c): the events that meet it (`when`), those that
do not (`otherwise`), the ordinary months that meet it (`baseline_when`) and the test of
the difference between the two groups."""

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf
from surgewatch.conditions import Condition
from surgewatch.schemas import SignalSummary, validate
from surgewatch.study import StudyParams, StudyResult
from surgewatch.transforms.split import group_differences


@dataclass(frozen=True)
class GroupFigures:
    """One group of events and its figures: summary (SignalSummary rows) and, when
    computed, the SPEC §2b stats rows (`stats`)."""

    events: pl.DataFrame
    summary: pl.DataFrame
    stats: pl.DataFrame | None = None


GroupFiguresFn = Callable[[pl.DataFrame, pl.DataFrame, StudyParams, int, int], GroupFigures]
"""(group's events, the ticker's months (the §2b population A), params, resamples, seed) → figures."""


def summarise_group(
    events: pl.DataFrame,
    months: pl.DataFrame,
    params: StudyParams,
    resamples: int,
    seed: int,
) -> GroupFigures:
    """The SPEC §2 summary of a group of events (months, resamples and seed feed §2b)."""
    summary = validate(tf.horizon_summary(events, params.horizons), SignalSummary, "group summary")
    return GroupFigures(events=events, summary=summary)


@dataclass(frozen=True)
class ConditionalStudy:
    """The §2c split of one ticker's study."""

    condition: Condition
    when: GroupFigures
    otherwise: GroupFigures
    baseline_when: pl.DataFrame
    diff: pl.DataFrame


def conditional_study(
    result: StudyResult,
    ticker: str,
    condition: Condition,
    resamples: int,
    seed: int,
    figures: GroupFiguresFn = summarise_group,
) -> ConditionalStudy:
    """Split ticker's events by condition; every group goes through `figures`."""
    params, met = result.params, condition.expr()
    events = result.events.filter(pl.col("ticker") == ticker)
    months = result.monthly.filter(pl.col("ticker") == ticker)
    when, otherwise = events.filter(met), events.filter(~met)
    baseline_when = validate(
        tf.horizon_summary(months.filter(met), params.horizons),
        SignalSummary,
        "baseline_when",
    )
    return ConditionalStudy(
        condition=condition,
        when=figures(when, months, params, resamples, seed),
        otherwise=figures(otherwise, months, params, resamples, seed),
        baseline_when=baseline_when,
        diff=group_differences(when, otherwise, params.horizons, resamples, seed),
    )

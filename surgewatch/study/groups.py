"""A study split by a condition (SPEC §2c): the events that meet it (`when`), those that
do not (`otherwise`), the ordinary months that meet it (`baseline_when`) and the test of
the difference between the two groups."""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf
from surgewatch.study.when import Condition
from surgewatch.schemas import SignalStats, SignalSummary, validate
from surgewatch.study.run import StudyResult
from surgewatch.transforms.split import group_differences


@dataclass(frozen=True)
class GroupFigures:
    """One group of events and its figures: the SPEC §2 summary and the §2b stats rows."""

    events: pl.DataFrame
    summary: pl.DataFrame
    stats: pl.DataFrame


def summarise_group(
    events: pl.DataFrame,
    months: pl.DataFrame,
    horizons: Sequence[int],
    resamples: int,
    seed: int,
) -> GroupFigures:
    """The summary of a group of events and its §2b figures, the group standing for E and
    the ticker's months for A: the same signal_stats a whole study runs, so a group that
    holds every event has the study's figures."""
    summary = validate(tf.horizon_summary(events, horizons), SignalSummary, "group summary")
    stats = validate(tf.signal_stats(months, events, horizons, resamples, seed), SignalStats, "group stats")
    return GroupFigures(events=events, summary=summary, stats=stats)


@dataclass(frozen=True)
class ConditionalStudy:
    """The §2c split of one ticker's study."""

    condition: Condition
    when: GroupFigures
    otherwise: GroupFigures
    baseline_when: pl.DataFrame
    diff: pl.DataFrame


def split_events(
    events: pl.DataFrame,
    months: pl.DataFrame,
    condition: Condition,
    horizons: Sequence[int],
    resamples: int,
    seed: int,
) -> ConditionalStudy:
    """Split one ticker's events by condition; months are that ticker's monthly returns
    (the §2b population and, filtered by the condition, baseline_when)."""
    met = condition.expr()
    when, otherwise = events.filter(met), events.filter(~met)
    baseline_when = validate(tf.horizon_summary(months.filter(met), horizons), SignalSummary, "baseline_when")
    return ConditionalStudy(
        condition=condition,
        when=summarise_group(when, months, horizons, resamples, seed),
        otherwise=summarise_group(otherwise, months, horizons, resamples, seed),
        baseline_when=baseline_when,
        diff=group_differences(when, otherwise, horizons, resamples, seed),
    )


def conditional_study(
    result: StudyResult, ticker: str, condition: Condition, resamples: int, seed: int
) -> ConditionalStudy:
    """split_events over ticker's events and months of a study."""
    mine = pl.col("ticker") == ticker
    return split_events(
        result.events.filter(mine), result.monthly.filter(mine), condition, result.params.horizons, resamples, seed
    )

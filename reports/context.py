"""The report's context section (SPEC §2c, §2d), per ticker: its events split by a
condition (by default the article's own context, a correction of 10% or more before the
month; `report --when` any other, another ticker's fields and context series included),
and the past events nearest to its latest event (pure: ReportData in, figures out).

The split is the study's (surgewatch.study.groups) run on the stored events and months,
with the outside fields joined as the study joins them (surgewatch.study.outside);
the analogs are the `analogs` command's (transforms.distances) on the stored context
fields and daily closes: a partial target is compared with every earlier month cut at
its session. A month that did not qualify is no target: the report matches the latest
event, which is the latest month only when that month qualified.
"""

from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf
from surgewatch.study.groups import ConditionalStudy, split_events
from surgewatch.core.errors import InputError
from surgewatch.study.outside import outside_frames
from surgewatch.transforms.outside import stored_series_fields
from surgewatch.study.when import Condition, parse_condition
from surgewatch.present.output import format_cell
from surgewatch.reports.charts import event_label
from surgewatch.reports.data import ReportData
from surgewatch.present.sentences import feature_shares
from surgewatch.transforms.distances import Analogs, comparable_months, nearest_analogs
from surgewatch.core.vocabulary import SMALL_SAMPLE, forward_column

CORRECTION = parse_condition("prior_drawdown <= -0.10")
"""The article's context: the month's close at least 10% under the prior high."""
TOP = 5
"""Analogs shown per ticker (the `analogs` command's default)."""


@dataclass(frozen=True)
class TickerContext:
    """One ticker's split and analogs. target: the latest event's row of month_end."""

    ticker: str
    split: ConditionalStudy
    target: dict
    analogs: Analogs
    resamples: int  # B of the split's figures: the stored study's (ReportData.draws)


def ticker_context(data: ReportData, ticker: str, condition: Condition = CORRECTION) -> TickerContext | None:
    """The split of ticker's events by condition (SPEC §2c, with the study's resamples
    and seed; `T.field` from T's stored months, series fields from the stored series) and
    the TOP earlier months nearest to its latest event, compared like with like
    (transforms.distances.comparable_months); None for a ticker without events."""
    mine = pl.col("ticker") == ticker
    events, months = data.events.filter(mine), data.month_end.filter(mine)
    if events.is_empty():
        return None
    resamples, seed = data.draws(ticker)
    names = [c.field for c in condition.comparisons]

    def theirs(other: str) -> pl.DataFrame:
        return data.month_end.filter(pl.col("ticker") == other)

    series = data.context if data.context.height else None
    with_fields, months_with = outside_frames(events, months, names, theirs, series)
    split = split_events(with_fields, months_with, condition, data.horizons, resamples, seed)
    latest = events["month"].max()
    target = months.filter(pl.col("month") == latest).row(0, named=True)
    study = data.studies.filter(mine).row(0, named=True)
    closes = data.closes.filter(mine)
    comparable = comparable_months(events, closes, months, target, study["threshold"], study["direction"], "price")
    analogs = nearest_analogs(target, comparable.filter(pl.col("month") < latest), TOP)
    return TickerContext(ticker=ticker, split=split, target=target, analogs=analogs, resamples=resamples)


def report_condition(text: str, data: ReportData) -> Condition:
    """`report --when`: the condition parsed against the stored series' fields, every
    `T.field` naming a stored ticker; InputError naming the choices otherwise."""
    condition = parse_condition(text, stored_series_fields(data.context))
    for c in condition.comparisons:
        other = c.field.rpartition(".")[0]
        if other and other not in data.tickers:
            raise InputError(f"--when: {c.field}: {other} is not in the warehouse (it holds {', '.join(data.tickers)})")
    return condition


def split_labels(condition: Condition) -> dict:
    """The words the section uses for a split: the article's correction by name, any other
    condition as 'when' it holds."""
    if condition == CORRECTION:
        return {
            "condition": condition.text,
            "default": True,
            "title": "after a correction",
            "when": "After a correction",
            "months": "all months after a correction",
        }
    return {
        "condition": condition.text,
        "default": False,
        "title": f"when {condition.text}",
        "when": "When it holds",
        "months": "all months when it holds",
    }


def episode_paths(month_end: pl.DataFrame, anchors: pl.DataFrame, before: int, after: int) -> pl.DataFrame:
    """One row per (ticker, anchor month, k) for k = -before..after: `value` = the
    month-end close k months from the anchor month over the anchor month's close (1 at
    k = 0), `complete` whether that month is complete. anchors: ticker, month. Months
    outside the data are absent."""
    steps = pl.DataFrame({"k": list(range(-before, after + 1))}, schema={"k": pl.Int32})
    closes = month_end.select("ticker", "month", "close", "complete")
    return (
        anchors.select("ticker", pl.col("month").alias("anchor"))
        .join(steps, how="cross")
        .with_columns(month=pl.col("anchor").dt.offset_by(pl.format("{}mo", pl.col("k"))))
        .join(closes, on=["ticker", "month"], how="inner")
        .join(
            closes.select("ticker", pl.col("month").alias("anchor"), pl.col("close").alias("base")),
            on=["ticker", "anchor"],
        )
        .select("ticker", "anchor", "k", (pl.col("close") / pl.col("base")).alias("value"), "complete")
        .sort("ticker", "anchor", "k")
    )


def _by_horizon(frame: pl.DataFrame, column: str, horizons: tuple[int, ...]) -> list:
    values = dict(zip(frame["horizon"], frame[column]))
    return [values.get(h) for h in horizons]


def _p(values: list) -> list[str]:
    return [format_cell("diff_p", v) for v in values]


def context_view(context: TickerContext, horizons: tuple[int, ...]) -> dict:
    """What _context.html shows of one ticker: per group (when, otherwise) its count,
    average (with baseline_when's under the `when` one), win rate and placebo p; the
    difference and its p; the target beside its analogs, and their average forward
    returns beside every earlier event's."""
    split, found = context.split, context.analogs
    groups = []
    for name, group in (("when", split.when), ("otherwise", split.otherwise)):
        n = _by_horizon(group.stats, "n", horizons)
        groups.append(
            {
                "name": name,
                "events": [f"{m:%Y-%m}" for m in group.events["month"]],
                "small": any(count < SMALL_SAMPLE for count in n),
                "n": n,
                "average": _by_horizon(group.summary, "average", horizons),
                "win_rate": _by_horizon(group.summary, "win_rate", horizons),
                "placebo_p": _p(_by_horizon(group.stats, "placebo_p", horizons)),
            }
        )
    fwd = [forward_column(h) for h in horizons]
    return {
        "ticker": context.ticker,
        "resamples": context.resamples,
        "groups": groups,
        "baseline_when": _by_horizon(split.baseline_when, "average", horizons),
        "difference": _by_horizon(split.diff, "difference", horizons),
        "diff_p": _p(_by_horizon(split.diff, "diff_p", horizons)),
        "target": {**context.target, "label": event_label(context.target)},
        "used": found.features,
        "analogs": [
            {
                **a,
                "forward": [a[c] for c in fwd],
                "shares": feature_shares({f: a[f"share_{f}"] for f in found.features}),
            }
            for a in found.nearest.iter_rows(named=True)
        ],
        "candidates": found.candidates.height,
        "left_out": found.left_out,
        "analogs_average": _by_horizon(tf.horizon_summary(found.nearest, horizons), "average", horizons),
        "all_average": _by_horizon(tf.horizon_summary(found.candidates, horizons), "average", horizons),
    }

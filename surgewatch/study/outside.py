"""A study's months with context from outside the ticker (SPEC §2d): another ticker's
fields (`SPY.prior_drawdown`) and stored context series' (`fedfunds_chg_3m`), joined by
month onto its monthly rows and events, so conditions and analog features read them as
they read the ticker's own."""

import dataclasses
from collections.abc import Callable, Collection, Sequence
from datetime import date

import polars as pl

import surgewatch.transforms as tf
from surgewatch.core.calendar import CALENDAR_START, nyse_sessions
from surgewatch.core.frames import date_span
from surgewatch.study.run import StudyResult, run_study
from surgewatch.study.when import FIELDS
from surgewatch.transforms.outside import series_field_names


def series_names(fields: Collection[str]) -> dict[str, str]:
    """{field: series} for every field a stored series gives (NAME, NAME_chg_<k>m)."""
    return {field: name for name in fields for field in series_field_names(name)}


def series_columns(months: pl.Series, series: pl.DataFrame, names: Collection[str]) -> pl.DataFrame:
    """(month, and per stored series in `names` its fields NAME, NAME_chg_<k>m) for each
    of `months` (transforms.series_fields on the NYSE calendar, from two years before the
    first month so a 12-month change has its start). series: name, date, value."""
    out = pl.DataFrame({"month": months}).unique(maintain_order=True)
    if not len(months):
        return out
    first, last = date_span(months)
    sessions = nyse_sessions(max(date(first.year - 2, 1, 1), CALENDAR_START), last)
    for name in sorted(names):
        values = tf.series_fields(months, series.filter(pl.col("name") == name), name, sessions)
        out = out.join(values, on="month", how="left", maintain_order="left")
    return out


def outside_frames(
    events: pl.DataFrame,
    monthly: pl.DataFrame,
    names: Sequence[str],
    monthly_of: Callable[[str], pl.DataFrame],
    series: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(events, monthly) with a column per outside name: `T.field` from monthly_of(T)
    (T's monthly rows), the series fields from `series` (name, date, value). Own fields
    are left alone; a month the outside source lacks is null."""
    others = sorted({n.rpartition(".")[0] for n in names if "." in n})
    wanted = [n for n in names if "." not in n and n not in FIELDS]
    out = monthly
    for ticker in others:
        fields = [n.rpartition(".")[2] for n in names if n.rpartition(".")[0] == ticker]
        out = tf.ticker_fields(out, monthly_of(ticker), ticker, fields)
    if wanted and series is not None:
        by_field = series_names(set(series["name"].unique().to_list()))
        values = series_columns(out["month"], series, {by_field[n] for n in wanted})
        out = out.join(values, on="month", how="left", maintain_order="left")
    added = [c for c in out.columns if c not in monthly.columns]
    events = events.join(
        out.select("ticker", "month", *added), on=["ticker", "month"], how="left", maintain_order="left"
    )
    return events, out


def with_outside(
    result: StudyResult,
    names: Sequence[str],
    prices_of: Callable[[str], pl.DataFrame],
    series: pl.DataFrame | None = None,
) -> StudyResult:
    """result with outside_frames' columns, `T.field` from T's study over prices_of(T)
    (the same parameters and cutoff)."""
    as_of = date_span(result.prices["date"])[1]

    def monthly_of(ticker: str) -> pl.DataFrame:
        return run_study(prices_of(ticker), result.params, as_of=as_of).monthly

    events, monthly = outside_frames(result.events, result.monthly, names, monthly_of, series)
    return dataclasses.replace(result, monthly=monthly, events=events)

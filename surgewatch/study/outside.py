"""A study's months with context from outside the ticker (SPEC §2d): another ticker's
fields (`SPY.prior_drawdown`) and stored context series' (`fedfunds_chg_3m`), joined by
month onto its monthly rows and events, so conditions and analog features read them as
they read the ticker's own."""

import dataclasses
from collections.abc import Callable, Collection, Sequence

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


def with_outside(
    result: StudyResult,
    names: Sequence[str],
    prices_of: Callable[[str], pl.DataFrame],
    series: pl.DataFrame | None = None,
) -> StudyResult:
    """result with a column per outside name in its monthly rows and events: `T.field`
    from T's study over prices_of(T) (the same parameters and cutoff), the series fields
    from `series` (name, date, value) on the NYSE calendar. Own fields are left alone."""
    others = sorted({n.rpartition(".")[0] for n in names if "." in n})
    wanted = [n for n in names if "." not in n and n not in FIELDS]
    monthly = result.monthly
    for ticker in others:
        fields = [n.rpartition(".")[2] for n in names if n.rpartition(".")[0] == ticker]
        theirs = run_study(prices_of(ticker), result.params, as_of=date_span(result.prices["date"])[1]).monthly
        monthly = tf.ticker_fields(monthly, theirs, ticker, fields)
    if wanted and series is not None:
        by_field = series_names(set(series["name"].unique().to_list()))
        first, last = date_span(monthly["month"])
        sessions = nyse_sessions(max(first.replace(year=first.year - 2), CALENDAR_START), last)
        for name in sorted({by_field[n] for n in wanted}):
            values = tf.series_fields(monthly["month"], series.filter(pl.col("name") == name), name, sessions)
            monthly = monthly.join(values, on="month", how="left", maintain_order="left")
    added = [c for c in monthly.columns if c not in result.monthly.columns]
    events = result.events.join(
        monthly.select("ticker", "month", *added), on=["ticker", "month"], how="left", maintain_order="left"
    )
    return dataclasses.replace(result, monthly=monthly, events=events)

"""Context from outside the ticker (SPEC §2d): another ticker's context fields for the same
month, and the fields of a dated series such as a policy rate. Pure polars functions; the
trading calendar arrives as a frame."""

from collections.abc import Sequence

import polars as pl

CHANGES = (3, 6, 12)
"""The NAME_chg_<k>m fields a context series gives: its change over k months."""


def series_field_names(name: str) -> tuple[str, ...]:
    """NAME, NAME_chg_3m, NAME_chg_6m, NAME_chg_12m."""
    return (name, *(f"{name}_chg_{k}m" for k in CHANGES))


def stored_series_fields(series: pl.DataFrame | None) -> tuple[str, ...]:
    """Every field the stored series give (series_field_names of each name, by name);
    series: name, date, value, or None for none stored."""
    if series is None or not series.height:
        return ()
    return tuple(f for name in sorted(set(series["name"].to_list())) for f in series_field_names(name))


def series_fields(months: pl.Series, series: pl.DataFrame, name: str, sessions: pl.DataFrame) -> pl.DataFrame:
    """(month, NAME, NAME_chg_<k>m) for each month m of `months` (month starts):
    NAME(m) = the series' last non-null value dated on or before the last session before m
    (sessions: the calendar's, column `date`), so nothing dated inside m, nor a monthly
    value dated m's first day, is used for m; NAME_chg_<k>m(m) = NAME(m) − NAME(m − k
    months), in the series' own units. series: (date, value)."""
    wanted = pl.DataFrame({"month": months}).unique()
    every = (
        pl.concat([wanted, *(wanted.select(pl.col("month").dt.offset_by(f"-{k}mo")) for k in CHANGES)])
        .unique()
        .sort("month")
    )
    cut = every.with_columns(_before=pl.col("month").dt.offset_by("-1d")).join_asof(
        sessions.select(pl.col("date").alias("_cut")).sort("_cut"),
        left_on="_before",
        right_on="_cut",
        strategy="backward",
    )
    known = series.filter(pl.col("value").is_not_null()).select(pl.col("date").alias("_cut"), "value").sort("_cut")
    values = cut.sort("_cut").join_asof(known, on="_cut", strategy="backward").select("month", "value")
    out = wanted.join(values.rename({"value": name}), on="month", how="left")
    for k in CHANGES:
        earlier = values.select(pl.col("month").dt.offset_by(f"{k}mo"), pl.col("value").alias("_then"))
        out = (
            out.join(earlier, on="month", how="left")
            .with_columns((pl.col(name) - pl.col("_then")).alias(f"{name}_chg_{k}m"))
            .drop("_then")
        )
    return out.sort("month")


def ticker_fields(monthly: pl.DataFrame, other: pl.DataFrame, ticker: str, fields: Sequence[str]) -> pl.DataFrame:
    """monthly with `ticker.field` for each field: the other ticker's value of that field
    in the same month (other: its monthly rows), null where it has no such month."""
    theirs = other.select("month", *(pl.col(f).alias(f"{ticker}.{f}") for f in fields))
    return monthly.join(theirs, on="month", how="left", maintain_order="left")

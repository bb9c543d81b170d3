"""Do the engine and the pandas reference give the same numbers?

Same key sets (no row missing or extra on either side), the same nulls, float columns
equal within a relative 1e-9 (plus 1e-12 absolute, so values that are 0 up to rounding,
e.g. a median of two opposite returns, compare too), everything else exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

RTOL, ATOL = 1e-9, 1e-12
_SHOW = 5

KEYS = {
    "monthly": ["ticker", "month"],
    "events": ["ticker", "month"],
    "summary": ["ticker", "horizon"],
    "baseline": ["ticker", "horizon"],
}


def compare_frames(name: str, engine: pl.DataFrame, reference: pl.DataFrame, keys: Sequence[str]) -> list[str]:
    """Every difference between two frames, one line each (empty list: identical)."""
    problems = []
    if set(engine.columns) != set(reference.columns):
        problems.append(
            f"{name}: columns differ: engine only {sorted(set(engine.columns) - set(reference.columns))}, "
            f"pandas only {sorted(set(reference.columns) - set(engine.columns))}"
        )
    for side, a, b in (("engine", engine, reference), ("pandas", reference, engine)):
        extra = a.join(b.select(keys), on=list(keys), how="anti")
        if extra.height:
            rows = extra.select(keys).head(_SHOW).rows()
            problems.append(f"{name}: {extra.height} rows only in {side}, e.g. {rows}")
    for side, frame in (("engine", engine), ("pandas", reference)):
        dupes = frame.select(keys).is_duplicated().sum()
        if dupes:
            problems.append(f"{name}: {dupes} duplicate keys in {side}")
    both = engine.join(reference, on=list(keys), how="inner", suffix="__ref")
    for column in engine.columns:
        if column in keys or column not in reference.columns:
            continue
        a, b = pl.col(column), pl.col(f"{column}__ref")
        if engine.schema[column].is_float():
            close = (a - b).abs() <= ATOL + RTOL * pl.max_horizontal(a.abs(), b.abs())
            same = (a.is_null() & b.is_null()) | (a.is_not_null() & b.is_not_null() & close)
        else:
            same = a.cast(pl.String).eq_missing(b.cast(pl.String))
        bad = both.filter(~same.fill_null(False))
        if bad.height:
            shown = bad.select(*keys, column, f"{column}__ref").head(_SHOW).rows()
            problems.append(f"{name}.{column}: {bad.height} rows differ (keys…, engine, pandas) e.g. {shown}")
    return problems


def compare_results(engine: dict[str, pl.DataFrame], reference: dict[str, pl.DataFrame]) -> list[str]:
    """monthly, events, summary, baseline: every difference (empty list: the same numbers)."""
    problems = []
    for name, keys in KEYS.items():
        problems += compare_frames(name, engine[name], reference[name], keys)
    return problems

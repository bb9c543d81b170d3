"""Run a model over a frame and turn pandera's failure cases into one readable error."""

import polars as pl
import pandera.errors as pe
import pandera.polars as pa

from surgewatch.errors import ValidationFailed

_SHOW_ROWS = 5
_RULE_NAMES = {"multiple_fields_uniqueness": "one row per key (duplicate rows)"}


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel], stage: str) -> pl.DataFrame:
    """Return frame unchanged if it satisfies model, else raise ValidationFailed.

    The message names the stage, the rule, the ticker(s) and the first offending rows,
    e.g. ``prices: rule close > 0 broken by IWM on 2020-03-02, 2020-03-03 (+4 more)``.
    """
    try:
        return model.validate(frame, lazy=True)
    except pe.SchemaErrors as exc:
        raise ValidationFailed(f"{stage}: " + _describe(frame, exc.failure_cases)) from None
    except pe.SchemaError as exc:
        raise ValidationFailed(f"{stage}: {exc}") from None


def _describe(frame: pl.DataFrame, failures: pl.DataFrame) -> str:
    parts = []
    for (column, check), cases in failures.group_by(["column", "check"], maintain_order=True):
        rule = _RULE_NAMES.get(check, check if column in (None, check) or column in check else f"{column} {check}")
        parts.append(f"rule {rule} broken by {_rows(frame, cases)}")
    return "; ".join(parts)


def _rows(frame: pl.DataFrame, cases: pl.DataFrame) -> str:
    index = cases["index"].drop_nulls().unique().sort()
    if index.is_empty() or "ticker" not in frame.columns:
        values = cases["failure_case"].cast(pl.Utf8).head(_SHOW_ROWS).to_list()
        return ", ".join(values)
    key = "date" if "date" in frame.columns else "month"
    rows = frame.with_row_index("_row").filter(pl.col("_row").is_in(index.implode()))
    out = []
    for (ticker,), sub in rows.group_by(["ticker"], maintain_order=True):
        shown = ", ".join(str(v) for v in sub[key].head(_SHOW_ROWS).to_list())
        more = f" (+{sub.height - _SHOW_ROWS} more)" if sub.height > _SHOW_ROWS else ""
        out.append(f"{ticker} on {shown}{more}")
    return "; ".join(out)

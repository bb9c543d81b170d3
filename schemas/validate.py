"""Run a model over a frame and turn pandera's failure cases into one readable error."""

import polars as pl
import pandera.errors as pe
import pandera.polars as pa

from surgewatch.core.errors import ValidationFailed

_SHOW_ROWS = 5
_RULE_NAMES = {"multiple_fields_uniqueness": "one row per key (duplicate rows)"}
# pandera's polars backend collects one small query per column check (≈ 500 for a study).
# polars' default engine costs ≈ 0.4 ms a query to start and its in-memory one ≈ 0.1 ms, so
# a frame below this many rows is checked in memory (half a one-ticker study's checking);
# above it the default engine is as fast or faster. The engine never changes a result.
_IN_MEMORY_ROWS = 1_000_000


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel], stage: str) -> pl.DataFrame:
    """Return frame unchanged if it satisfies model, else raise ValidationFailed.

    The message names the stage, the rule, the ticker(s) and the first offending rows,
    e.g. ``prices: rule close greater_than(0) broken by IWM on 2020-03-02, 2020-03-03``.
    """
    failures = _failures(frame, model)
    if failures is None:
        return frame
    raise ValidationFailed(f"{stage}: " + "; ".join(failures.values()))


def validate_each_ticker(
    frame: pl.DataFrame, model: type[pa.DataFrameModel], stage: str
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Split frame into the tickers that satisfy model and a {ticker: message} for the
    others, so one bad ticker does not stop the rest. A failure that belongs to no row
    (a missing column, a wrong type) fails every ticker."""
    failures = _failures(frame, model)
    if failures is None:
        return frame, {}
    if None in failures:
        message = f"{stage}: {failures[None]}"
        return frame.head(0), {t: message for t in frame["ticker"].unique().sort()}
    failed = {ticker: f"{stage}: {message}" for ticker, message in failures.items() if ticker is not None}
    kept = frame.filter(~pl.col("ticker").is_in(list(failed)))
    return kept, failed


def _failures(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> dict[str | None, str] | None:
    """None when valid, else {ticker: 'rule … broken by …'} (key None: not tied to rows)."""
    try:
        with pl.Config(engine_affinity="in-memory" if frame.height < _IN_MEMORY_ROWS else "auto"):
            model.validate(frame, lazy=True)
        return None
    except pe.SchemaErrors as exc:
        cases = exc.failure_cases
    except pe.SchemaError as exc:
        return {None: str(exc)}
    index = cases["index"] if "index" in cases.columns else pl.Series([None] * cases.height)
    if index.null_count() or "ticker" not in frame.columns or not {"date", "month", "horizon"} & set(frame.columns):
        return {
            None: "; ".join(
                f"rule {_rule(c, k)} broken by {v}"
                for c, k, v in cases.select("column", "check", pl.col("failure_case").cast(pl.Utf8)).iter_rows()
            )
        }
    # The row's other key: the day of prices, the month of the monthly stages, the summary's horizon.
    key = next(c for c in ("date", "month", "horizon") if c in frame.columns)
    rows = (
        cases.select("column", "check", pl.col("index").cast(pl.UInt32))
        .join(frame.with_row_index("index").select("index", "ticker", key), on="index")
        .sort("index")
    )
    out: dict[str | None, list[str]] = {}
    for (ticker, column, check), sub in rows.group_by(["ticker", "column", "check"], maintain_order=True):
        shown = ", ".join(str(v) for v in sub[key].unique(maintain_order=True).head(_SHOW_ROWS).to_list())
        more = f" (+{sub.height - _SHOW_ROWS} more)" if sub.height > _SHOW_ROWS else ""
        out.setdefault(ticker, []).append(f"rule {_rule(column, check)} broken by {ticker} on {shown}{more}")
    return {ticker: "; ".join(parts) for ticker, parts in out.items()}


def _rule(column: str | None, check: str) -> str:
    if check in _RULE_NAMES:
        return _RULE_NAMES[check]
    return check if column in (None, check) or column in check else f"{column} {check}"

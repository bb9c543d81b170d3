"""Analogs of a month (SPEC §2c): the past events nearest to it, what followed them,
and how that compares with every past event."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf
from surgewatch.errors import InputError
from surgewatch.formats import Format
from surgewatch.output import figure_rows, render_rows
from surgewatch.conditions import FIELDS
from surgewatch.sentences import feature_shares
from surgewatch.vocabulary import STATISTICS
from surgewatch.schemas import SignalSummary, validate
from surgewatch.study import StudyResult
from surgewatch.transforms.distances import FEATURES, Analogs, comparable_months, nearest_analogs


@dataclass(frozen=True)
class AnalogsResult:
    ticker: str
    target: dict
    """The target month's row of the study's monthly frame."""
    found: Analogs
    summary: pl.DataFrame
    summary_all: pl.DataFrame
    horizons: tuple[int, ...]
    features: tuple[str, ...]


def parse_month(raw: str | None) -> dt.date | None:
    """'2026-04' → 2026-04-01; InputError naming the value otherwise."""
    if raw is None:
        return None
    try:
        return dt.datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise InputError(f"--month: not a month (YYYY-MM): {raw!r}") from None


def parse_features(raw: str | None) -> tuple[str, ...]:
    """'move,up_share' → ('move', 'up_share'); InputError naming an unknown feature."""
    if raw is None:
        return FEATURES
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [n for n in names if n not in FIELDS]
    if unknown or not names:
        raise InputError(f"--features: {', '.join(unknown) or 'none given'}: choose from {', '.join(FIELDS)}")
    return names


def find_analogs(
    result: StudyResult,
    ticker: str,
    month: dt.date | None,
    top: int,
    universe: bool,
    features: tuple[str, ...] = FEATURES,
) -> AnalogsResult:
    """The `top` past months nearest to ticker's month (default: its latest month, complete
    or not) on `features`; candidates are comparable_months before that month, of ticker
    only unless universe (then every ticker in the study)."""
    months = result.monthly.filter(pl.col("ticker") == ticker)
    target_month: dt.date = months["month"].max() if month is None else month  # type: ignore[assignment]  # a month column's max is a date
    target = months.filter(pl.col("month") == target_month)
    if target.is_empty():
        first, last = months["month"].min(), months["month"].max()
        span = f"{first:%Y-%m} to {last:%Y-%m}"  # type: ignore[str-bytes-safe]  # a month column's min/max are dates
        raise InputError(f"--month {target_month:%Y-%m} is not in {ticker}'s data (it runs {span})")
    row = target.row(0, named=True)
    p = result.params
    value = "adj_close" if p.basis == "total" else "close"
    comparable = comparable_months(result.events, result.prices, result.monthly, row, p.threshold, p.direction, value)
    earlier = comparable.filter(pl.col("month") < target_month)
    candidates = earlier if universe else earlier.filter(pl.col("ticker") == ticker)
    found = nearest_analogs(row, candidates, top, features)
    horizons = result.params.horizons

    def pooled_summary(frame: pl.DataFrame, label: str) -> pl.DataFrame:
        # One pooled summary over every ticker's rows: horizon_summary groups by ticker.
        pooled = frame.with_columns(ticker=pl.lit(label))
        return validate(tf.horizon_summary(pooled, horizons), SignalSummary, label)

    return AnalogsResult(
        ticker=ticker,
        target=target.row(0, named=True),
        found=found,
        summary=pooled_summary(found.nearest, "analogs"),
        summary_all=pooled_summary(found.candidates, "all candidates"),
        horizons=horizons,
        features=features,
    )


def analogs_document(result: AnalogsResult) -> dict:
    """The SPEC §4 JSON object of `analogs`."""
    fwd = [f"fwd_{h}m" for h in result.horizons]
    return {
        "ticker": result.ticker,
        "month": f"{result.target['month']:%Y-%m}",
        "features": {f: result.target[f] for f in result.features},
        "features_used": list(result.found.features),
        "partial_sessions": None if result.target["complete"] else result.target["sessions"],
        "candidates": result.found.candidates.height,
        "left_out": result.found.left_out,
        "analogs": [
            {
                "ticker": row["ticker"],
                "month": f"{row['month']:%Y-%m}",
                "distance": row["distance"],
                "shares": {f: row[f"share_{f}"] for f in result.found.features},
                **{f: row[f] for f in result.features},
                **{c: row[c] for c in fwd},
            }
            for row in result.found.nearest.iter_rows(named=True)
        ],
        "summary": figure_rows(result.summary),
        "summary_all": figure_rows(result.summary_all),
    }


def render_analogs(document: dict, horizons: tuple[int, ...], fmt: Format, wide: bool = False) -> str:
    """json: the document; table / csv: the target, its analogs with their features and
    forward returns, then the summary over the analogs and over all candidates."""
    import json

    if fmt == "json":
        return json.dumps(document, indent=2)
    fwd = [f"fwd_{h}m" for h in horizons]
    features = list(document["features"])
    header = ["row", "month", "ticker", "distance", "shares", *features, *fwd]
    target = {
        "month": document["month"],
        "ticker": document["ticker"],
        **document["features"],
    }
    rows: list[list[object]] = [["target", *(target.get(c) for c in header[1:])]]
    rows += [
        ["analog", *(feature_shares(a["shares"]) if c == "shares" else a[c] for c in header[1:])]
        for a in document["analogs"]
    ]
    for section in ("summary", "summary_all"):
        by_horizon = {s["horizon"]: s for s in document[section]}
        label = "analogs" if section == "summary" else "all candidates"
        for stat in STATISTICS:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([label, stat, *([None] * (3 + len(features))), *values])
    title = (
        f"{document['ticker']} {document['month']}: the {len(document['analogs'])} nearest of "
        f"{document['candidates']} earlier events ({document['left_out']} left out for a missing feature); "
        f"distance on {', '.join(document['features_used']) or 'no feature'}"
    )
    if document["partial_sessions"]:
        title += f"; a partial month: every candidate cut at its session {document['partial_sessions']}"
    compact = ["row", "month", "distance", "shares", "move", *fwd]
    return render_rows(header, rows, fmt, title=title, label_column=1, compact=compact, wide=wide)

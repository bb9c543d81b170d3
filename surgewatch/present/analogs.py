"""Analogs as SPEC §4 prints them: the JSON document, and the table or CSV made from it."""

from typing import Any, TypedDict

from surgewatch.core.vocabulary import STATISTICS
from surgewatch.present.formats import Format
from surgewatch.present.output import figure_rows, format_cell, render_rows
from surgewatch.present.sentences import feature_shares
from surgewatch.study.analogs import AnalogsResult
from surgewatch.core.vocabulary import forward_column


class AnalogsDocument(TypedDict):
    """SPEC §4's JSON object of `analogs`."""

    ticker: str
    month: str
    target_is_event: bool
    latest_event: str | None
    features: dict[str, Any]
    features_used: list[str]
    partial_sessions: int | None
    candidates: int
    left_out: int
    analogs: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    summary_all: list[dict[str, Any]]


def analogs_document(result: AnalogsResult) -> AnalogsDocument:
    """The SPEC §4 JSON object of `analogs`."""
    fwd = [forward_column(h) for h in result.horizons]
    return {
        "ticker": result.ticker,
        "month": f"{result.target['month']:%Y-%m}",
        "target_is_event": result.target_is_event,
        "latest_event": None if result.latest_event is None else f"{result.latest_event:%Y-%m}",
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


def _feature_cell(feature: str, value: object, share: float | None) -> str:
    """A feature's value as its column prints it, and its share of the squared distance."""
    shown = format_cell(feature, value)
    return shown if share is None else f"{shown} ({share:.0%})"


def render_analogs(document: AnalogsDocument, horizons: tuple[int, ...], fmt: Format, wide: bool = False) -> str:
    """json: the document; table / csv: the target, its analogs with their features and
    forward returns, then the summary over the analogs and over all candidates. A table
    shows each feature's value with its share beside it, and the ticker of every row."""
    import json

    if fmt == "json":
        return json.dumps(document, indent=2)
    fwd = [forward_column(h) for h in horizons]
    features = list(document["features"])
    table = fmt == "table"
    header = ["row", "month", "ticker", "distance", *([] if table else ["shares"]), *features, *fwd]
    target = {"month": document["month"], "ticker": document["ticker"], **document["features"]}
    if table:
        target = {**target, **{f: format_cell(f, v) for f, v in document["features"].items()}}
    rows: list[list[object]] = [["target", *(target.get(c) for c in header[1:])]]
    for a in document["analogs"]:
        cells = {**a, "shares": feature_shares(a["shares"])}
        if table:
            cells |= {f: _feature_cell(f, a[f], a["shares"].get(f)) for f in features}
        rows.append(["analog", *(cells[c] for c in header[1:])])
    for section in ("summary", "summary_all"):
        by_horizon = {s["horizon"]: s for s in document[section]}
        label = "analogs" if section == "summary" else "all candidates"
        for stat in STATISTICS:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([label, stat, *([None] * (len(header) - 2 - len(fwd))), *values])
    title = (
        f"{document['ticker']} {document['month']}: the {len(document['analogs'])} nearest of "
        f"{document['candidates']} earlier events ({document['left_out']} left out for a missing feature); "
        f"distance on {', '.join(document['features_used']) or 'no feature'}"
    )
    if document["partial_sessions"]:
        title += f"; a partial month: every candidate cut at its session {document['partial_sessions']}"
    if table and not document["target_is_event"]:
        latest = document["latest_event"]
        title = (
            f"{document['ticker']} {document['month']} is not an event month; "
            + (f"its latest event is {latest} (--month {latest})." if latest else "it has no event yet.")
            + "\n"
            + title
        )
    compact = ["row", "month", "ticker", "distance", *fwd[:2], *features, *fwd[2:]]
    return render_rows(header, rows, fmt, title=title, label_column=1, compact=compact, wide=wide)

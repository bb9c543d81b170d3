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


def _title(document: AnalogsDocument) -> str:
    title = (
        f"{document['ticker']} {document['month']}: the {len(document['analogs'])} nearest of "
        f"{document['candidates']} earlier events ({document['left_out']} left out for a missing feature); "
        f"distance on {', '.join(document['features_used']) or 'no feature'}"
    )
    if document["partial_sessions"]:
        title += f"; a partial month: every candidate cut at its session {document['partial_sessions']}"
    if document["target_is_event"]:
        return title
    latest = document["latest_event"]
    known = f"its latest event is {latest} (--month {latest})." if latest else "it has no event yet."
    return f"{document['ticker']} {document['month']} is not an event month; {known}\n{title}"


def _near(document: AnalogsDocument, wide: bool) -> str:
    """The target and its analogs, each feature's value with its share of the squared
    distance beside it: what made an analog near."""
    features = list(document["features"])
    header = ["month", "ticker", "distance", *features]
    rows: list[list[object]] = [
        [document["month"], document["ticker"], "target", *(format_cell(f, v) for f, v in document["features"].items())]
    ]
    rows += [
        [a["month"], a["ticker"], a["distance"], *(_feature_cell(f, a[f], a["shares"].get(f)) for f in features)]
        for a in document["analogs"]
    ]
    return render_rows(header, rows, "table", title=_title(document), compact=header, wide=wide)


def render_analogs(document: AnalogsDocument, horizons: tuple[int, ...], fmt: Format, wide: bool = False) -> str:
    """json: the document; csv: the target, its analogs with their features and forward
    returns, then the summary over the analogs and over all candidates. A table splits
    it in two: the analogs with each feature's value and share (what made them near),
    then what followed them (forward returns and the summaries); every row names its
    ticker."""
    import json

    if fmt == "json":
        return json.dumps(document, indent=2)
    fwd = [forward_column(h) for h in horizons]
    features = [] if fmt == "table" else ["distance", "shares", *document["features"]]
    header = ["row", "month", "ticker", *features, *fwd]
    target = {"month": document["month"], "ticker": document["ticker"], **document["features"]}
    rows: list[list[object]] = [["target", *(target.get(c) for c in header[1:])]]
    rows += [
        ["analog", *({**a, "shares": feature_shares(a["shares"])}[c] for c in header[1:])] for a in document["analogs"]
    ]
    for section in ("summary", "summary_all"):
        by_horizon = {s["horizon"]: s for s in document[section]}
        label = "analogs" if section == "summary" else "all candidates"
        for stat in STATISTICS:
            values = [by_horizon.get(h, {}).get(stat) for h in horizons]
            rows.append([label, stat, *([None] * (len(header) - 2 - len(fwd))), *values])
    if fmt == "csv":
        return render_rows(header, rows, fmt)
    after = render_rows(header, rows, fmt, title="What followed:", label_column=1, compact=header, wide=wide)
    return f"{_near(document, wide)}\n\n{after}"

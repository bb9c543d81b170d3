"""One message for a busy night (SPEC settings `SURGEWATCH_ALERT_DIGEST`, issue 31): when
more alerts are due than the limit, they go as one digest in the scan's order (best 12M
verdict first, then 12M excess), a line per ticker-month with its own idempotency key.
Exactly-once stays per item: the ledger records each one."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from surgewatch.alerts.messages import alert_title, late_note
from surgewatch.alerts.rules import idempotency_key
from surgewatch.core.params import StudyParams
from surgewatch.present.formats import percent
from surgewatch.study.scan import RANK_HORIZON, VERDICT_RANK


@dataclass(frozen=True)
class Envelope:
    """One message to every target, and the ledger items it carries."""

    title: str
    body: str
    key: str
    items: tuple[dict, ...]


def envelopes(
    outgoing: Sequence[dict], summary: pl.DataFrame, stats: pl.DataFrame | None, params: StudyParams, limit: int
) -> list[Envelope]:
    """The night's messages: one per alert while there are at most `limit`, else one
    digest of them all. An item's line: ticker, month, kind, move, the 12M verdict and
    average after such months (from the study), lateness, and its key."""
    keys = [idempotency_key(a["ticker"], a["month"], a["kind"], params.threshold, params.direction) for a in outgoing]
    if len(outgoing) <= limit:
        return [Envelope(alert_title(a), a["message"], k, (a,)) for a, k in zip(outgoing, keys)]
    history = _history(summary, stats)
    order = sorted(range(len(outgoing)), key=lambda i: _rank(outgoing[i], history))
    lines = [_line(outgoing[i], keys[i], history.get(outgoing[i]["ticker"])) for i in order]
    count = len(outgoing)
    digest = "digest:" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
    title = f"surgewatch: {count} alerts tonight"
    body = "\n".join(
        [f"{count} months crossed the threshold or settled; best history first (12M after such months):", "", *lines]
    )
    return [Envelope(title, body, digest, tuple(outgoing[i] for i in order))]


def _history(summary: pl.DataFrame, stats: pl.DataFrame | None) -> dict[str, dict]:
    """Per ticker, its RANK_HORIZON figures: n and average (summary's events rows), verdict and excess."""
    twelve = summary.filter(
        (pl.col("horizon") == RANK_HORIZON) & (pl.col("kind") == "events")
        if "kind" in summary.columns
        else pl.col("horizon") == RANK_HORIZON
    )
    rows = {r["ticker"]: {"n": r["n"], "average": r["average"]} for r in twelve.iter_rows(named=True)}
    if stats is not None:
        for r in stats.filter(pl.col("horizon") == RANK_HORIZON).iter_rows(named=True):
            rows.setdefault(r["ticker"], {}).update(verdict=r["verdict"], excess=r["excess"])
    return rows


def _rank(alert: dict, history: dict[str, dict]) -> tuple:
    h = history.get(alert["ticker"], {})
    excess = h.get("excess")
    return (
        VERDICT_RANK.get(h.get("verdict") or "", len(VERDICT_RANK)),
        -excess if excess is not None else 0.0,
        alert["ticker"],
        alert["month"],
        alert["kind"],
    )


def _line(alert: dict, key: str, history: dict | None) -> str:
    """'IWM 2026-04 confirmed +12.08%: suggestive, not proven (better); 12M avg after +17.60% (n=14) · key IWM:2026-04:confirmed:0.1:up'."""
    head = f"{alert['ticker']} {alert['month']:%Y-%m} {alert['kind'].replace('_', ' ')} {percent(alert['move'])}"
    head += late_note(alert)
    if history and history.get("verdict"):
        average = history.get("average")
        after = f"; 12M avg after {percent(average)} (n={history['n']})" if average is not None else ""
        head += f": {history['verdict']}{after}"
    return f"- {head} · key {key}"

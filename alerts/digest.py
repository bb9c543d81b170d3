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
from surgewatch.study.scan import RANK_HORIZON, at_horizon, best_first, ranked_history


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
    items = pl.DataFrame(
        {
            "_item": range(len(outgoing)),
            "ticker": [a["ticker"] for a in outgoing],
            "month": [a["month"] for a in outgoing],
            "kind": [a["kind"] for a in outgoing],
        }
    )
    ranked = best_first(
        items.join(ranked_history(summary, stats, items["ticker"]), on="ticker", how="left"), "month", "kind"
    )
    order, histories = ranked["_item"].to_list(), ranked["history"].to_list()
    lines = [_line(outgoing[i], keys[i], at_horizon(h, RANK_HORIZON)) for i, h in zip(order, histories)]
    count = len(outgoing)
    digest = "digest:" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
    title = f"surgewatch: {count} alerts tonight"
    body = "\n".join(
        [
            f"{count} months crossed the threshold or settled; best history first ({RANK_HORIZON}M after such months):",
            "",
            *lines,
        ]
    )
    return [Envelope(title, body, digest, tuple(outgoing[i] for i in order))]


def _line(alert: dict, key: str, history: dict) -> str:
    """'IWM 2026-04 confirmed +12.08%: suggestive, not proven (better); 12M avg after +17.60% (n=14) · key IWM:2026-04:confirmed:0.1:up'."""
    head = f"{alert['ticker']} {alert['month']:%Y-%m} {alert['kind'].replace('_', ' ')} {percent(alert['move'])}"
    head += late_note(alert)
    if history and history.get("verdict"):
        average = history.get("average")
        after = f"; {RANK_HORIZON}M avg after {percent(average)} (n={history['n']})" if average is not None else ""
        head += f": {history['verdict']}{after}"
    return f"- {head} · key {key}"

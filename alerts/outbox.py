"""Settling a run's alerts: send what is due and what waits for its retry, and return
the ledger rows that record the outcome (published with the run's data)."""

import datetime as dt
import logging
from collections.abc import Sequence

import polars as pl
from pydantic import SecretStr

from surgewatch.alerts.deliver import deliver
from surgewatch.alerts.digest import envelopes
from surgewatch.alerts.messages import alert_message
from surgewatch.alerts.rules import MAX_ATTEMPTS
from surgewatch.core.params import StudyParams

log = logging.getLogger("surgewatch.alerts")

LEDGER_COLUMNS = [
    "ticker",
    "month",
    "kind",
    "move",
    "as_of",
    "status",
    "attempts",
    "created_run",
    "sent_run",
    "sent_at",
    "message",
]


def compose_alerts(
    due: pl.DataFrame,
    retries: pl.DataFrame,
    *,
    events: pl.DataFrame,
    summary: pl.DataFrame,
    stats: pl.DataFrame | None,
    params: StudyParams,
    run_id: str,
) -> list[dict]:
    """What a run sends, in order: each due alert as a new ledger row with its message
    (attempts 0, created by run_id), then each stored alert waiting for its retry."""
    fresh = [
        {
            **row,  # `reported` is said in the message and a digest's line, not stored
            "attempts": 0,
            "created_run": run_id,
            "message": alert_message(row, events, summary, params.threshold, params.direction, stats),
        }
        for row in due.iter_rows(named=True)
    ]
    queued = list(
        retries.select("ticker", "month", "kind", "move", "as_of", "attempts", "created_run", "message").iter_rows(
            named=True
        )
    )
    return fresh + queued


def settle_alerts(
    due: pl.DataFrame,
    retries: pl.DataFrame,
    *,
    events: pl.DataFrame,
    summary: pl.DataFrame,
    stats: pl.DataFrame | None = None,
    params: StudyParams,
    targets: Sequence[SecretStr],
    run_id: str,
    now: dt.datetime,
    digest: int = 3,
) -> tuple[pl.DataFrame, list[str]]:
    """Deliver every due alert and every retry (compose_alerts); return (ledger rows,
    failure notes).

    More than `digest` alerts go as one digest message (alerts.digest); each is still a
    ledger row of its own. With no targets configured the ledger still records each alert
    (status 'recorded'), so turning alerts on later does not flood subscribers with old
    news. A failed delivery stays 'pending' for the next run's single retry (a digest's
    items go again, with the night's new ones), then becomes 'failed'.
    """
    outgoing = compose_alerts(due, retries, events=events, summary=summary, stats=stats, params=params, run_id=run_id)
    if not targets:
        rows = [{**alert, "status": "recorded", "sent_run": None, "sent_at": None} for alert in outgoing]
        return _ledger(rows), []
    rows, notes = [], []
    for envelope in envelopes(outgoing, summary, stats, params, digest):
        problem = deliver(targets, envelope.title, envelope.body, envelope.key)
        for alert in envelope.items:
            attempts = alert["attempts"] + 1
            if problem is None:
                rows.append({**alert, "attempts": attempts, "status": "sent", "sent_run": run_id, "sent_at": now})
                continue
            status = "pending" if attempts < MAX_ATTEMPTS else "failed"
            rows.append({**alert, "attempts": attempts, "status": status, "sent_run": None, "sent_at": None})
        if problem is not None:
            retry = (
                "will retry next run"
                if any(r["status"] == "pending" for r in rows[-len(envelope.items) :])
                else "gave up"
            )
            notes.append(f"{envelope.title}: {problem} ({retry})")
            log.warning("%s", notes[-1])
    return _ledger(rows), notes


def _ledger(rows: list[dict]) -> pl.DataFrame:
    """The ledger rows of a run's alerts, in the `alerts` table's columns."""
    schema: dict[str, pl.DataType] = {
        "month": pl.Date(),
        "as_of": pl.Date(),
        "attempts": pl.Int32(),
        "sent_at": pl.Datetime("us", "UTC"),
        "move": pl.Float64(),
    }
    frame = (
        pl.DataFrame(rows, schema_overrides=schema)
        if rows
        else pl.DataFrame(schema={**dict.fromkeys(LEDGER_COLUMNS, pl.String()), **schema})
    )
    return frame.select(LEDGER_COLUMNS)

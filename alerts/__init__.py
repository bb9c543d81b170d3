"""Alerts: which messages a run owes its subscribers, what they say, and sending them.

rules (pure: study frames + ledger → alerts due) → messages (text with the historical
odds) → deliver (Apprise to every SURGEWATCH_ALERT_URLS target) → outbox (the ledger
rows that record each outcome). The ledger is the warehouse's `alerts` table,
published in the same version as the data that triggered it.
"""

from surgewatch.alerts.deliver import deliver
from surgewatch.alerts.messages import alert_message, alert_title
from surgewatch.alerts.outbox import compose_alerts, settle_alerts
from surgewatch.alerts.rules import KINDS, MAX_ATTEMPTS, alerts_due, idempotency_key, retries_due

__all__ = [
    "KINDS",
    "MAX_ATTEMPTS",
    "alert_message",
    "alert_title",
    "compose_alerts",
    "alerts_due",
    "deliver",
    "idempotency_key",
    "retries_due",
    "settle_alerts",
]

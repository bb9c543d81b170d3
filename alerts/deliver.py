"""Sending: Apprise to every target URL. Credentials in URLs never reach a message we write."""

import logging
from collections.abc import Sequence

import apprise
from pydantic import SecretStr

log = logging.getLogger("surgewatch.alerts")


def deliver(targets: Sequence[SecretStr], title: str, body: str) -> str | None:
    """Send to every target; None when all accepted it, else why not (naming targets by
    position, never by URL, since URLs carry credentials)."""
    notifier = apprise.Apprise()
    for position, target in enumerate(targets, start=1):
        if not notifier.add(target.get_secret_value()):
            return f"alert target #{position} of SURGEWATCH_ALERT_URLS is not a URL Apprise understands"
    if not notifier.notify(title=title, body=body):
        return f"delivery failed for at least one of {len(targets)} alert target(s)"
    return None

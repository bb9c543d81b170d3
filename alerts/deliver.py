"""Sending: Apprise to every target URL. Credentials in URLs never reach a message we write,
nor a log line Apprise writes while we use it (surgewatch.targets scrubs them)."""

from collections.abc import Sequence

import apprise
from pydantic import SecretStr

from surgewatch.targets import scrubbed


def deliver(targets: Sequence[SecretStr], title: str, body: str) -> str | None:
    """Send to every target; None when all accepted it, else why not (naming targets by
    position, never by URL, since URLs carry credentials)."""
    with scrubbed(targets) as scrub:
        notifier = apprise.Apprise()
        for position, target in enumerate(targets, start=1):
            with scrub.withholding(f"alert target #{position}"):
                if not notifier.add(target.get_secret_value()):
                    return f"alert target #{position} of SURGEWATCH_ALERT_URLS is not a URL Apprise understands"
        if not notifier.notify(title=title, body=body):
            return f"delivery failed for at least one of {len(targets)} alert target(s)"
    return None

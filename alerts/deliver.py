"""Sending: Apprise to every target URL. Credentials in URLs never reach a message we write,
nor a log line Apprise writes while we use it (surgewatch.core.targets scrubs them).

Every alert carries its idempotency key (alerts.rules.idempotency_key) so a receiver can
drop the rare repeat (a run killed between delivery and commit sends again): webhook
targets (json://, form://, xml://) get it as the payload field `idempotency_key` and the
header `Idempotency-Key`; every other target as the body's last line.
"""

from collections.abc import Sequence
from urllib.parse import quote

from pydantic import SecretStr

from surgewatch.core.targets import scrubbed

_WEBHOOKS = ("json", "jsons", "form", "forms", "xml", "xmls")
KEY_HEADER = "Idempotency-Key"
KEY_FIELD = "idempotency_key"
NOT_UNDERSTOOD = "is not a URL Apprise understands"


def _with_key(url: str, key: str) -> str:
    """A webhook URL that also sends the key: Apprise reads `+Name=value` query arguments
    as request headers and `:name=value` as extra payload fields."""
    value = quote(key, safe="")
    return f"{url}{'&' if '?' in url else '?'}+{KEY_HEADER}={value}&:{KEY_FIELD}={value}"


def deliver(targets: Sequence[SecretStr], title: str, body: str, key: str) -> str | None:
    """Send to every target; None when all accepted it, else why not (naming targets by
    position, never by URL, since URLs carry credentials)."""
    import apprise  # only when an alert goes out: a quiet night spares its 0.06 s

    with scrubbed(targets) as scrub:
        webhooks, others = apprise.Apprise(), apprise.Apprise()
        for position, target in enumerate(targets, start=1):
            url = target.get_secret_value()
            webhook = url.split("://", 1)[0].lower() in _WEBHOOKS
            with scrub.withholding(f"alert target #{position}"):
                if not (webhooks.add(_with_key(url, key)) if webhook else others.add(url)):
                    return f"alert target #{position} of SURGEWATCH_ALERT_URLS {NOT_UNDERSTOOD}"
        sent = [
            notifier.notify(title=title, body=text)
            for notifier, text in ((webhooks, body), (others, f"{body}\n\nAlert key: {key}"))
            if len(notifier)
        ]
        if not all(sent):
            return f"delivery failed for at least one of {len(targets)} alert target(s)"
    return None


def deliver_each(targets: Sequence[SecretStr], title: str, body: str, key: str) -> list[tuple[str, str | None]]:
    """deliver() to one target at a time: (its label, None when it accepted the message
    or why not) per target, in order. A label is the target's position and scheme
    ("#2 slack"), never its URL, since URLs carry credentials."""
    outcomes = []
    for position, target in enumerate(targets, start=1):
        scheme = target.get_secret_value().split("://", 1)[0].lower() or "?"
        failed = deliver([target], title, body, key)
        reason = None if failed is None else NOT_UNDERSTOOD if failed.endswith(NOT_UNDERSTOOD) else "not accepted"
        outcomes.append((f"#{position} {scheme}", reason))
    return outcomes

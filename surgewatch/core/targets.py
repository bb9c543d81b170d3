"""Alert target URLs (Apprise): which ones Apprise can load, and keeping their credentials
out of every log line Apprise (or urllib3 beneath it) writes while we use them.

Ground floor: settings checks the targets at start-up and alerts/ delivers to them, so
both import this module and it imports nothing else of the project.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr

# Apprise quotes URLs it cannot parse (password included) at ERROR level, and at DEBUG the
# URLs, query strings and headers it loaded; urllib3 logs each request's path and query.
_CHATTY_LOGGERS = ("apprise", "urllib3.connectionpool")
_SHORTEST_SECRET = 3


def unusable_targets(targets: Sequence[SecretStr]) -> list[int]:
    """Positions (from 1) of the targets Apprise cannot load (checked at start-up)."""
    import apprise  # only with targets: a run without alerts spares its 0.06 s

    bad = []
    with scrubbed(targets) as scrub:
        for position, target in enumerate(targets, start=1):
            with scrub.withholding(f"alert target #{position}"):
                if apprise.Apprise.instantiate(target.get_secret_value(), suppress_exceptions=True) is None:
                    bad.append(position)
    return bad


class _Scrub(logging.Filter):
    """Blanks the targets' secret parts out of log records; while `withholding`, replaces
    records whole (Apprise's "Unparseable URL …" shows a password's first and last
    characters, which no blanking finds)."""

    def __init__(self, fragments: list[str]):
        super().__init__()
        self._fragments = fragments
        self._withheld: str | None = None

    @contextmanager
    def withholding(self, what: str) -> Iterator[None]:
        self._withheld = what
        try:
            yield
        finally:
            self._withheld = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._withheld is not None:
            record.msg, record.args = f"{self._withheld}: message withheld (it quotes the URL)", None
            return True
        text = record.getMessage()
        clean = text
        for fragment in self._fragments:
            clean = clean.replace(fragment, "***")
        if clean != text:
            record.msg, record.args = clean, None
        return True


def _secret_parts(url: str) -> set[str]:
    """What in a notification URL may be a credential: user and password, query and
    header values (?token=…, ?+X-Key=…), path segments long enough to be a token."""
    try:
        parts = urlsplit(url)
        found = {parts.username or "", parts.password or ""}
    except ValueError:
        return {url}
    found |= {value for _, value in parse_qsl(parts.query, keep_blank_values=False)}
    found |= {pair.split("=", 1)[1] for pair in parts.query.split("&") if "=" in pair}
    found |= {segment for segment in parts.path.split("/") if len(segment) >= 6}
    found |= {unquote(f) for f in found}
    return {f for f in found if len(f) >= _SHORTEST_SECRET}


@contextmanager
def scrubbed(targets: Sequence[SecretStr]) -> Iterator[_Scrub]:
    """While inside, the chatty loggers print no part of the targets that may be a secret."""
    urls = [t.get_secret_value() for t in targets]
    fragments = sorted({f for url in urls for f in (url, *_secret_parts(url))}, key=len, reverse=True)
    scrub = _Scrub(fragments)
    loggers = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    for logger in loggers:
        logger.addFilter(scrub)
    try:
        yield scrub
    finally:
        for logger in loggers:
            logger.removeFilter(scrub)

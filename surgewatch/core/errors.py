"""The errors surgewatch raises on purpose.

Each carries a one-line message a person can act on; the CLI prints it without a
traceback. Anything else escaping is a bug. `one_line` and `redact` shape those messages.
"""

import re

# Passwords in connection strings (password=…) and URLs (scheme://user:secret@host).
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def one_line(what: str | BaseException, limit: int | None = None) -> str:
    """Text (or an error's message) collapsed to one line, cut to `limit` characters.

    An error's message stops before a "LINE 1: … ^" pointer (DuckDB adds one to SQL
    errors); an error with no message is named by its type.
    """
    text = str(what)
    if isinstance(what, BaseException):
        text = text.split("\nLINE ")[0]
    flat = " ".join(text.split()) or (type(what).__name__ if isinstance(what, BaseException) else "")
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


def redact(text: str, secret: str | None = None) -> str:
    """text with `secret` and any password in a connection string or URL shown as ***."""
    if secret:
        text = text.replace(secret, "***")
    return _URI_PASSWORD.sub(r"\1***@", _PASSWORD.sub(r"\1***", text))


class SurgewatchError(Exception):
    """Base class: an expected failure with a one-line, user-facing message.

    A message names an argument by its parameter name in backticks (`as_of`), the
    library's words wherever it runs (a Prefect deployment has no flags); the command
    line shows it as its flag (--as-of, see surgewatch.cli.app.in_flags).
    """

    exit_code = 2


class InputError(SurgewatchError):
    """Bad input from the user: a file, a column, a value, an option."""


class SettingsError(SurgewatchError):
    """A setting (environment variable or .env) has a bad value."""


class ValidationFailed(SurgewatchError):
    """A stage's frame broke its schema; nothing downstream may use it."""


class SourceError(SurgewatchError):
    """A price provider failed for one ticker (unknown symbol, bad answer, gave up retrying).

    transient: the failure may pass on its own (timeout, connection, 429, 5xx), so a
    later attempt is worth making; an unknown symbol or a malformed answer is not.
    """

    def __init__(self, ticker: str, message: str, *, transient: bool = False):
        super().__init__(f"{ticker}: {message}")
        self.ticker = ticker
        self.reason = message
        self.transient = transient


class UnreachableSource(SourceError):
    """The provider's host cannot be reached from this machine (its name does not resolve,
    it refuses or cannot be routed to) and has not answered once in this run: no ticker
    will fare better tonight, so none is retried (not transient)."""


class WarehouseError(SurgewatchError):
    """The warehouse cannot be opened, migrated or queried as asked."""

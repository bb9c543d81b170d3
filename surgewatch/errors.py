"""The errors surgewatch raises on purpose.

Each carries a one-line message a person can act on; the CLI prints it without a
traceback. Anything else escaping is a bug.
"""


class SurgewatchError(Exception):
    """Base class: an expected failure with a one-line, user-facing message."""

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
        self.transient = transient


class WarehouseError(SurgewatchError):
    """The warehouse cannot be opened, migrated or queried as asked."""

"""What counts as a ticker symbol, checked before any request or query is made."""

import re

from surgewatch.core.errors import InputError

# Letters, digits and the separators real symbols use (BRK-B, BRK.B, ^RUT, EURUSD=X):
# nothing that could act as a path separator, SQL quote or control character.
_SYMBOL = re.compile(r"^\^?[A-Z0-9]+(?:[.\-=][A-Z0-9]+)*$")
_MAX_LENGTH = 16


def normalize_ticker(raw: str) -> str:
    """Return the upper-cased symbol, or raise InputError naming the bad one."""
    # Only spaces are trimmed: a control character anywhere makes the symbol implausible.
    symbol = raw.strip(" ").upper()
    if len(symbol) > _MAX_LENGTH or not _SYMBOL.fullmatch(symbol):
        raise InputError(
            f"not a plausible ticker symbol: {raw!r} (letters and digits, joined by single . - or =, after an optional ^)"
        )
    return symbol


def looks_like_symbol(text: str) -> bool:
    """Whether a name as written (say a file's stem) reads as a symbol: `IWM`, `BRK-B`,
    `^RUT` do; `prices`, `iwm_2024`, `iwm` (lower case) do not."""
    return len(text) <= _MAX_LENGTH and _SYMBOL.fullmatch(text) is not None


def parse_tickers(raw: str | list[str]) -> list[str]:
    """Split a comma-separated list (or take a list), normalise, de-duplicate in order."""
    parts = raw.split(",") if isinstance(raw, str) else raw
    symbols = [normalize_ticker(p) for p in parts if p.strip()]
    if not symbols:
        raise InputError("no tickers given")
    return list(dict.fromkeys(symbols))

"""What counts as a ticker symbol."""

import pytest

from surgewatch.core.errors import InputError
from surgewatch.core.tickers import normalize_ticker, parse_tickers


@pytest.mark.parametrize(
    "raw, symbol",
    [
        ("iwm", "IWM"),
        ("^rut", "^RUT"),
        ("BRK-B", "BRK-B"),
        ("brk.b", "BRK.B"),
        ("EURUSD=X", "EURUSD=X"),
        (" spy ", "SPY"),
    ],
)
def test_plausible_symbols(raw, symbol):
    assert normalize_ticker(raw) == symbol


@pytest.mark.parametrize(
    "raw", ["IWM\n", "\tIWM", "IW\x00M", "IWM--", "A..B", "-A", "IWM;DROP", "../etc", "A/B", "A'B", "A" * 17, "", "^"]
)
def test_implausible_symbols_are_refused(raw):
    with pytest.raises(InputError, match="not a plausible ticker"):
        normalize_ticker(raw)


def test_lists_are_split_trimmed_and_deduplicated():
    assert parse_tickers("iwm, SPY,iwm") == ["IWM", "SPY"]

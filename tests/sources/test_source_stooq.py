"""Stooq specifics: symbol names, the query, "No data" and CSV answers."""

import datetime as dt

import pytest

from surgewatch.sources.stooq import stooq_symbol
from surgewatch.core.errors import SourceError
from tests.fake_providers import Fault, sessions, synthetic_bars

START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    ("symbol", "stooq"), [("IWM", "iwm.us"), ("BRK-B", "brk-b.us"), ("^RUT", "^rut"), ("^SPX", "^spx")]
)
def test_symbol_names(symbol, stooq):
    assert stooq_symbol(symbol) == stooq


def test_query_names_the_days_compactly(fake_providers):
    fake_providers.add_prices("TEST", synthetic_bars(sessions(START, END)))
    fake_providers.source("stooq").daily_prices("TEST", START, END)
    fake_providers.source("stooq").daily_prices("TEST", None, None)
    window, full = fake_providers.requests
    assert window.query == {"s": "test.us", "i": "d", "d1": "20260601", "d2": "20260630"}
    assert full.query == {"s": "test.us", "i": "d"}


def test_an_index_answer_without_volume_reads(fake_providers):
    body = b"Date,Open,High,Low,Close\r\n2026-06-01,2900.5,2910.25,2890,2905.75\r\n"
    fake_providers.script("^RUT", [Fault("body", body=body, content_type="text/csv")])
    frame = fake_providers.source("stooq").daily_prices("^RUT", START, END)
    assert frame.rows() == [("^RUT", dt.date(2026, 6, 1), 2900.5, 2910.25, 2890.0, 2905.75, None, None)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"No data", r"^TEST: unknown symbol \(stooq has no data for test.us in the range asked\)$"),
        (b"Exceeded the daily hits limit", r"^TEST: unexpected answer \(stooq: Exceeded the daily hits limit\)$"),
        (b"<html><body>maintenance</body></html>", r"^TEST: unexpected answer \(stooq: <html>"),
        (b"Date,Open,High,Low,Close\r\nyesterday,1,2,0.5,1.5\r\n", r"^TEST: malformed answer \(stooq: "),
        (b"Date,Open,High,Low,Close\r\n2026-06-01,1,2,x,1.5\r\n", r"^TEST: malformed answer \(stooq: "),
    ],
)
def test_odd_answers_are_source_errors(fake_providers, body, message):
    fake_providers.script("TEST", [Fault("body", body=body, content_type="text/plain")])
    with pytest.raises(SourceError, match=message):
        fake_providers.source("stooq").daily_prices("TEST", START, END)

"""The numpy fast paths of month_ends against plain polars (hypothesis): trailing
windows per ticker against rolling_*(window).over(ticker), and the chunked month-ends
against one chunk holding every ticker."""

import importlib
from unittest import mock

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from surgewatch.transforms._windows import trailing
from tests.transforms.frames import sessions_for
from tests.transforms.test_properties import price_paths

# The module, not the function of the same name that surgewatch.transforms exports.
month_ends_module = importlib.import_module("surgewatch.transforms.month_ends")


@st.composite
def ticker_columns(draw) -> tuple[np.ndarray, np.ndarray]:
    """(rows per ticker, values): a few tickers of 1–40 rows, values with ties."""
    lengths = draw(st.lists(st.integers(1, 40), min_size=1, max_size=6))
    values = draw(
        st.lists(
            st.sampled_from([0.5, 1.0, 2.0, 3.25, 7.0, 100.0]) | st.floats(0.01, 1e6),
            min_size=sum(lengths),
            max_size=sum(lengths),
        )
    )
    return np.array(lengths), np.array(values)


@settings(max_examples=200, deadline=None)
@given(
    columns=ticker_columns(),
    window=st.integers(1, 70),
    op=st.sampled_from([np.maximum, np.minimum]),
)
def test_trailing_equals_polars_rolling_over_each_ticker(columns, window, op):
    lengths, values = columns
    frame = pl.DataFrame({"ticker": np.repeat(np.arange(len(lengths)), lengths), "value": values})
    value = pl.col("value")
    rolling = value.rolling_max if op is np.maximum else value.rolling_min
    expected = frame.select(rolling(window, min_samples=1).over("ticker")).to_series().to_numpy()

    got = trailing(values, np.cumsum(lengths) - lengths, window, op)

    assert np.array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(prices=price_paths(), chunk_rows=st.sampled_from([1, 2, 60, 300]))
def test_month_ends_are_the_same_whatever_the_chunk_size(prices: pl.DataFrame, chunk_rows: int):
    prices = prices.sort("ticker", "date")
    sessions = sessions_for(prices)
    whole = month_ends_module.month_ends(prices, sessions)
    with mock.patch.object(month_ends_module, "CHUNK_ROWS", chunk_rows):
        chunked = month_ends_module.month_ends(prices, sessions)
    assert chunked.equals(whole)

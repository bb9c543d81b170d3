"""ingested(): stored prices overlaid with a night's fetches, and what must be written."""

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from surgewatch.sources.base import RAW_SCHEMA
from surgewatch.sources.incremental import Fetched
from surgewatch.sources.ingested import ingested

D = [dt.date(2026, 1, d) for d in (5, 6, 7, 8)]


def bars(ticker: str, days, close: float = 10.0) -> pl.DataFrame:
    return pl.DataFrame(
        [(ticker, d, close, close, close, close, close, 100) for d in days], schema=RAW_SCHEMA, orient="row"
    )


def fetched(ticker: str, frame: pl.DataFrame, full: bool) -> Fetched:
    return Fetched(ticker, frame, full, pl.DataFrame(), 1)


def test_full_histories_replace_incremental_fetches_overlay_and_counts_say_what_changed():
    stored = pl.concat([bars("AAA", D[:3]), bars("BBB", D[:3]), bars("CCC", D[:3]), bars("ZZZ", D[:2])])
    fetches = [
        fetched("CCC", bars("CCC", D[1:]), full=False),  # overlap unchanged, one new session
        fetched(
            "BBB", pl.concat([bars("BBB", D[:1]), bars("BBB", D[1:2], close=11.0)]), full=True
        ),  # restated, shorter
        fetched("AAA", bars("AAA", D[:3]), full=True),  # re-fetched, nothing changed
        fetched("NEW", bars("NEW", D), full=True),  # first load of a ticker
    ]
    result = ingested(stored, fetches)

    expected = pl.concat(
        [
            bars("AAA", D[:3]),
            bars("BBB", D[:1]),
            bars("BBB", D[1:2], close=11.0),
            bars("CCC", D),
            bars("NEW", D),
        ]
    )
    assert_frame_equal(result.prices, expected)  # sorted by ticker, date; ZZZ was not fetched: not here
    written = result.to_write.sort("ticker", "date")
    assert_frame_equal(
        written, pl.concat([expected.filter(pl.col("ticker") != "CCC"), bars("CCC", D[3:])]).sort("ticker", "date")
    )
    assert result.replace_history == {"AAA", "BBB", "NEW"}
    # BBB: one changed close + one session gone; CCC: one new session; NEW: all four; AAA: none.
    assert result.rows_ingested == {"CCC": 1, "BBB": 2, "AAA": 0, "NEW": 4}


def test_a_first_load_writes_the_fetched_frames_as_they_are():
    frames = [bars("AAA", D), bars("BBB", D[:2])]
    result = ingested(bars("X", D).head(0), [fetched(f["ticker"][0], f, full=True) for f in reversed(frames)])
    assert_frame_equal(result.prices, pl.concat(frames))  # in ticker order, without a sort
    assert_frame_equal(result.to_write, pl.concat(frames))
    assert result.rows_ingested == {"AAA": 4, "BBB": 2}

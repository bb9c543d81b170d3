"""A study document laid out as the article's table (present.documents), from a
hand-made SPEC §4 document: no study runs here."""

import csv
import io
import json

from surgewatch.core.vocabulary import SMALL_SAMPLE, STATISTICS, drawdown_column, forward_column
from surgewatch.present.documents import plain_words, render_studies, stats_table_rows, study_table_rows
from surgewatch.transforms.significance import STATS_COLUMNS

HORIZONS = [1, 3]


def event(month: str, move: float) -> dict:
    figures = {forward_column(h): 0.01 * h for h in HORIZONS} | {drawdown_column(h): -0.02 for h in HORIZONS}
    return {
        "month": month,
        "complete": True,
        "as_of": f"{month}-28",
        "move": move,
        **figures,
        "sessions": 20,
        "up_sessions": 12,
        "prior_drawdown": -0.1,
        "prior_12m": 0.05,
        "up_share": 0.6,
        "first_crossed_on": None,
    }


def figures(h: int, **values) -> dict:
    return {"horizon": h, **{name: 0.0 for name in STATISTICS}, "n": 6} | values


def stats(h: int, **values) -> dict:
    row = {c: 0.0 for c in STATS_COLUMNS} | {"horizon": h, "n": 6, "n_independent": 5, "placebo_draws": 100}
    band = {"chance_low": -0.03, "chance_high": 0.04}
    return row | {"verdict": "no different", "ci_low": 0.01, "ci_high": 0.02, "excess": 0.01} | band | values


def document(ticker: str = "IWM") -> dict:
    return {
        "ticker": ticker,
        "threshold": 0.1,
        "direction": "up",
        "basis": "adjusted",
        "horizons": HORIZONS,
        "as_of": "2026-07-31",
        "events": [event("2020-11", 0.18), event("2024-11", 0.11)],
        "summary": [figures(h, average=0.02 * h) for h in HORIZONS],
        "baseline": [figures(h) for h in HORIZONS],
        "stats": [stats(h, n=SMALL_SAMPLE - 1 if h == 3 else SMALL_SAMPLE) for h in HORIZONS],
        "resamples": 10_000,
        "seed": 7,
    }


def test_events_then_summary_and_baseline_under_their_horizon():
    header, rows = study_table_rows(document())
    assert header[:7] == ["section", "month", "complete", "as_of", "move", "fwd_1m", "fwd_3m"]
    assert [r[1] for r in rows if r[0] == "event"] == ["2020-11", "2024-11"]
    assert [r[1] for r in rows if r[0] == "summary"] == list(STATISTICS)
    average = next(r for r in rows if r[:2] == ["summary", "average"])
    assert average[5:7] == [0.02, 0.06]  # each horizon's figure in its own forward column
    assert not [r for r in rows if r[0] == "stats"]  # a table shows them in their own table
    assert all(len(r) == len(header) for r in rows)


def test_stats_table_verdict_first_and_the_mean_beside_its_chance_band():
    header, rows = stats_table_rows([document()])
    assert header[:5] == ["horizon", "verdict", "events' mean", "chance band", "excess"]
    assert [r[:4] for r in rows] == [
        ["1M", "no different", 0.02, "-3.00% to +4.00%"],
        ["3M", "no different", 0.06, "-3.00% to +4.00%"],
    ]
    sample = header.index("sample")
    assert [r[sample] for r in rows] == [None, "small sample"]  # only the horizon with n < SMALL_SAMPLE
    several, rows = stats_table_rows([document("IWM"), document("SPY")])
    assert several[:2] == ["ticker", "horizon"] and [r[:2] for r in rows][::2] == [["IWM", "1M"], ["SPY", "1M"]]


def test_csv_rows_carry_raw_fractions_and_both_interval_ends():
    _, rows = study_table_rows(document(), "csv")
    labels = [r[1] for r in rows if r[0] == "stats"]
    assert labels[:3] == ["verdict", "ci_low", "ci_high"] and "sample" not in labels


def test_plain_words_one_line_per_horizon_beside_its_mean():
    lines = plain_words(document())
    assert [line.split(":")[0] for line in lines] == ["1M", "3M"]
    assert "events' mean +6.00%" in lines[1] and f"(small sample: n = {SMALL_SAMPLE - 1})" in lines[1]


def test_several_tickers_one_csv_with_a_ticker_column_and_one_json():
    docs = [document("IWM"), document("SPY")]
    table = list(csv.reader(io.StringIO(render_studies(docs, "csv"))))
    assert table[0][:2] == ["ticker", "section"]
    assert {row[0] for row in table[1:]} == {"IWM", "SPY"}
    assert len(table) == 1 + 2 * len(study_table_rows(document(), "csv")[1])
    assert [d["ticker"] for d in json.loads(render_studies(docs, "json"))["studies"]] == ["IWM", "SPY"]
    assert json.loads(render_studies(docs[:1], "json")) == docs[0]

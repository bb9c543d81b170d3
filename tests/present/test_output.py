"""Table cells formatted by type, and by name only for the known fraction columns."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from surgewatch.present.output import format_cell, render_query, render_rows


@pytest.mark.parametrize(
    ("column", "value", "label", "shown"),
    [
        ("complete", True, None, "true"),
        ("complete", False, None, "false"),
        ("ratio", 0.123456789, None, "0.123456789"),  # an unknown double keeps its digits
        ("move_pct", 12.5, None, "12.5"),  # a name that merely starts like a known one
        ("move", 0.1028, None, "+10.28%"),
        ("fwd_12m", -0.0865, None, "-8.65%"),
        ("win_rate", 0.6667, None, "66.67%"),  # a share: never signed
        ("sharpe", 0.4412, None, "0.44"),
        ("fwd_1m", 0.6667, "win_rate", "66.67%"),  # a study statistic row names its cells
        ("fwd_1m", 0.4412, "sharpe", "0.44"),
        ("fwd_1m", 0.05, "2003-04", "+5.00%"),  # an event row's month is no statistic
        ("total", Decimal("3482.50"), None, "3482.50"),
        ("d", "3 months", None, "3 months"),
    ],
)
def test_format_cell(column, value, label, shown):
    assert format_cell(column, value, label) == shown


def test_sql_rows_are_not_read_as_statistics():
    # The second column's value once served as a statistic label for every table.
    out = render_rows(["kind", "name", "fwd_1m"], [["x", "sharpe", 0.05]], "table")
    assert "+5.00%" in out


def test_a_query_prints_its_values_as_they_came(monkeypatch):
    """SPEC §4 `sql`: an `average` of closes is not a fraction, a `move` prints its digits."""
    monkeypatch.setenv("COLUMNS", "120")
    out = render_query(["ticker", "average", "move", "day"], [["IWM", 116.2304, 0.1208, dt.date(2026, 4, 30)]], "table")
    assert "116.2304" in out and "0.1208" in out and "2026-04-30" in out
    assert "%" not in out


@pytest.mark.parametrize("columns", [80, 120])
def test_a_result_wider_than_the_terminal_is_one_record_per_block(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    header = [f"column_{i}" for i in range(16)]
    rows = [[f"value {r}.{i}" for i in range(16)] for r in range(2)]
    out = render_query(header, rows, "table")
    blocks = out.split("\n\n")
    assert len(blocks) == 2
    assert blocks[1].splitlines()[0] == " column_0 = value 1.0"
    assert blocks[1].splitlines()[-1] == "column_15 = value 1.15"
    assert max(len(line) for line in out.splitlines()) <= columns
    # Narrow enough: one table, every value whole on its line.
    table = render_query(header[:3], rows, "table")
    assert all(f"value 1.{i}" in table for i in range(3)) and " = " not in table


def test_json_writes_decimals_as_numbers():
    out = render_rows(["ticker", "s", "avg"], [["IWM", Decimal(3482), Decimal("1.25")]], "json")
    assert json.loads(out) == [{"ticker": "IWM", "s": 3482, "avg": 1.25}]


def test_diff_shows_the_key_and_each_changed_field_old_to_new():
    import polars as pl

    from surgewatch.present.output import diff_rows

    old = {"ticker": "IWM", "month": "2026-07-01", "as_of": "2026-07-15", "move": 0.02, "complete": False}
    new = {**old, "as_of": "2026-07-31", "move": 0.0325, "complete": True}
    added = {"ticker": "SPY", "month": "2026-08-01", "as_of": "2026-08-03", "move": 0.01, "complete": False}
    diff = pl.DataFrame(
        {
            "table": ["month_end"] * 3,
            "change": ["removed", "added", "added"],
            "ticker": ["IWM", "IWM", "SPY"],
            "row": [json.dumps(old), json.dumps(new), json.dumps(added)],
        }
    )
    keys = {"month_end": ("ticker", "month")}
    assert diff_rows(diff, keys, "csv") == [
        ["month_end", "IWM 2026-07", "changed", "as_of", "2026-07-15", "2026-07-31"],
        ["month_end", "IWM 2026-07", "changed", "move", 0.02, 0.0325],
        ["month_end", "IWM 2026-07", "changed", "complete", False, True],
        ["month_end", "SPY 2026-08", "added", "as_of", None, "2026-08-03"],
        ["month_end", "SPY 2026-08", "added", "move", None, 0.01],
        ["month_end", "SPY 2026-08", "added", "complete", None, False],
    ]
    table = diff_rows(diff, keys, "table")
    assert table[1][3:] == ["move", "+2.00%", "+3.25%"]

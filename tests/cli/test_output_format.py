"""Table cells formatted by type, and by name only for the known fraction columns."""

import json
from decimal import Decimal

import pytest

from surgewatch.output import format_cell, render_rows


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


def test_json_writes_decimals_as_numbers():
    out = render_rows(["ticker", "s", "avg"], [["IWM", Decimal("3482"), Decimal("1.25")]], "json")
    assert json.loads(out) == [{"ticker": "IWM", "s": 3482, "avg": 1.25}]

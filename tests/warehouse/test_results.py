"""A user's query result as polars, whatever the column types."""

import duckdb
import pytest

from surgewatch.warehouse.results import result_frame

INTERVALS = [
    "INTERVAL 3 MONTH",
    "INTERVAL 14 MONTH",
    "INTERVAL 2 DAY",
    "INTERVAL 0 DAY",
    "-INTERVAL 14 MONTH",
    "-INTERVAL 1 HOUR",
    "INTERVAL '1 hour 2 minutes 3.5 seconds'",
    "INTERVAL '1 month 2 days 3 hours'",
    "INTERVAL 1 YEAR",
    "INTERVAL '25 hours'",
    "INTERVAL '1 microsecond'",
]


@pytest.mark.parametrize("expression", INTERVALS)
def test_intervals_read_as_duckdbs_own_text(expression):
    con = duckdb.connect()
    frame = result_frame(con.execute(f"SELECT {expression} AS i"))
    assert frame["i"].to_list() == [con.execute(f"SELECT CAST({expression} AS VARCHAR)").fetchone()[0]]


def test_other_types_pass_through():
    con = duckdb.connect()
    frame = result_frame(con.execute("SELECT 1.50::DECIMAL(5, 2) AS d, true AS b, NULL::INTERVAL AS i"))
    assert frame.rows() == [(frame["d"][0], True, None)] and str(frame["d"][0]) == "1.50"


def test_nothing_ran_is_an_empty_frame():
    con = duckdb.connect()
    assert result_frame(con.execute("/* only a comment */")).is_empty()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSTALL httpfs", "INSTALL"),
        ("/* x */ force install httpfs", "INSTALL"),
        ("-- c\nINSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("SELECT 1", "SELECT"),
    ],
)
def test_statement_kind_names_what_the_user_wrote(sql, kind):
    from surgewatch.warehouse.results import statement_kind

    assert statement_kind(duckdb.connect().extract_statements(sql)[0]) == kind

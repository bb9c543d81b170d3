"""The `--when` condition: its grammar, what a month must meet, and the refusals that
name the bad token (SPEC §2c)."""

import polars as pl
import pytest

from surgewatch.core.errors import InputError
from surgewatch.study.when import FIELDS, parse_condition

LOOK_AHEAD = "fwd_12m looks ahead: a condition may use move, prior_drawdown, prior_12m, up_share, sessions, up_sessions"


class TestConditionParser:
    def test_comparisons_joined_by_and(self):
        condition = parse_condition("prior_drawdown <= -0.10 AND up_share>.6 and sessions != 21")
        assert [(c.field, c.op, c.value) for c in condition.comparisons] == [
            ("prior_drawdown", "<=", -0.1),
            ("up_share", ">", 0.6),
            ("sessions", "!=", 21.0),
        ]

    def test_every_field_and_operator(self):
        for field in FIELDS:
            for op in ("<", "<=", ">", ">=", "=", "!="):
                assert parse_condition(f"{field} {op} 1e-1").comparisons[0].op == op

    def test_null_does_not_meet_and_every_comparison_must_hold(self):
        frame = pl.DataFrame({"prior_12m": [None, -0.2, 0.3], "move": [0.2, 0.2, 0.2]})
        assert frame.select(parse_condition("prior_12m != 0").expr())["literal"].to_list() == [False, True, True]
        assert frame.select(parse_condition("prior_12m < 0 and move >= 0.2").expr())["literal"].to_list() == [
            False,
            True,
            False,
        ]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("fwd_12m > 0", LOOK_AHEAD),
            ("mdd_3m < -0.1", "mdd_3m looks ahead"),
            ("close > 100", "unknown field 'close'"),
            ("move == 0.1", "expected an operator (< <= > >= = !=), got '=='"),
            ("move 0.1", "expected an operator (< <= > >= = !=), got '0.1'"),
            ("move > 10%", "expected a number (a fraction, -0.10 for -10%), got '10%'"),
            ("move > nan", "got 'nan'"),
            ("move >", "expected a number (a fraction, -0.10 for -10%), got nothing"),
            (
                "move > 0.1 or sessions > 20",
                "expected 'and' between comparisons, got 'or'",
            ),
            ("move > 0.1 and", "expected a field after 'and', got nothing"),
            (
                "move > 0.1; DROP TABLE x",
                "expected a number (a fraction, -0.10 for -10%), got '0.1;'",
            ),
            (
                "move > 0.1 ; DROP TABLE x",
                "expected 'and' between comparisons, got ';'",
            ),
            ("__import__('os')", "unknown field '__import__'"),
            ("  ", "empty condition"),
            # SPEC §2c: a percent where the field is a fraction, with the fraction meant.
            ("prior_drawdown <= -10", "got -10; did you mean prior_drawdown <= -0.10?"),
            ("move >= 10", "got 10; did you mean move >= 0.10?"),
            ("sessions > 0.2 and prior_12m > 1.5", "got 1.5; did you mean prior_12m > 0.015?"),
        ],
    )
    def test_refusals_name_the_token(self, text, message):
        with pytest.raises(InputError) as caught:
            parse_condition(text)
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_counts_and_fractions_up_to_one_pass_the_percent_guard(self):
        assert parse_condition("sessions >= 15 and up_share = 1 and prior_drawdown >= -1").comparisons

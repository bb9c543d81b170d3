"""`--when "prior_drawdown <= -0.10 and up_share > 0.6"`: a condition on what is known at
a month's close (SPEC §2c), parsed by a small tokenizer into polars expressions.

Never eval, never SQL: the text becomes comparisons of known column names with numbers,
and anything else is refused with one line naming the token.
"""

import math
import re
from dataclasses import dataclass

import polars as pl

from surgewatch.core.errors import InputError
from surgewatch.core.vocabulary import percent_as_fraction

FIELDS = ("move", "prior_drawdown", "prior_12m", "up_share", "sessions", "up_sessions")
FRACTIONS = ("move", "prior_drawdown", "prior_12m", "up_share")  # the others count sessions
_LOOK_AHEAD = re.compile(r"^(fwd|mdd)_", re.IGNORECASE)
_OPERATORS = {
    "<": pl.Expr.lt,
    "<=": pl.Expr.le,
    ">": pl.Expr.gt,
    ">=": pl.Expr.ge,
    "=": pl.Expr.eq,
    "!=": pl.Expr.ne,
}
# A word, a run of operator characters, or any other single character (refused later).
_TOKEN = re.compile(
    r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|([<>=!]+)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[^\s<>=!]*)|(\S))"
)


@dataclass(frozen=True)
class Comparison:
    """FIELD OP NUMBER."""

    field: str
    op: str
    value: float


@dataclass(frozen=True)
class Condition:
    """Comparisons joined by `and`, as the user wrote them."""

    text: str
    comparisons: tuple[Comparison, ...]

    def expr(self) -> pl.Expr:
        """True where a month meets every comparison; a null field does not meet it."""
        met = pl.lit(True)
        for c in self.comparisons:
            met = met & _OPERATORS[c.op](pl.col(c.field), c.value)
        return met.fill_null(False)


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
    return tokens


def _field(token: str) -> str:
    if _LOOK_AHEAD.match(token):
        raise InputError(f"{token} looks ahead: a condition may use {', '.join(FIELDS)}")
    if token not in FIELDS:
        raise InputError(f"`when`: unknown field {token!r}: a condition may use {', '.join(FIELDS)}")
    return token


def _operator(token: str | None) -> str:
    if token not in _OPERATORS:
        shown = "nothing" if token is None else repr(token)
        raise InputError(f"`when`: expected an operator ({' '.join(_OPERATORS)}), got {shown}")
    return token


def _number(token: str | None) -> float:
    try:
        value = float(token) if token is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # also refuses nan and inf, which float() would take
        shown = "nothing" if token is None else repr(token)
        raise InputError(f"`when`: expected a number (a fraction, -0.10 for -10%), got {shown}")
    return value


def _not_a_percent(comparison: Comparison) -> Comparison:
    """SPEC §2c: a number past ±1 on a fraction field was typed as a percent."""
    if comparison.field in FRACTIONS and abs(comparison.value) > 1:
        meant = percent_as_fraction(comparison.value)
        raise InputError(
            f"`when`: {comparison.field} is a fraction (-0.10 for -10%), got {comparison.value:g}; "
            f"did you mean {comparison.field} {comparison.op} {meant}?"
        )
    return comparison


def parse_condition(text: str) -> Condition:
    """'FIELD OP NUMBER [and FIELD OP NUMBER …]' → Condition; InputError naming the bad token."""
    tokens = _tokens(text)
    if not tokens:
        raise InputError('`when`: empty condition; e.g. `when` "prior_drawdown <= -0.10"')
    comparisons, i = [], 0
    while True:
        window = tokens[i : i + 3] + [None] * (3 - len(tokens[i : i + 3]))
        if window[0] is None:
            raise InputError("`when`: expected a field after 'and', got nothing")
        comparison = Comparison(_field(window[0]), _operator(window[1]), _number(window[2]))
        comparisons.append(_not_a_percent(comparison))
        i += 3
        if i == len(tokens):
            return Condition(text.strip(), tuple(comparisons))
        if tokens[i].lower() != "and":
            raise InputError(f"`when`: expected 'and' between comparisons, got {tokens[i]!r}")
        i += 1

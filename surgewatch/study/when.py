"""`--when "prior_drawdown <= -0.10 and up_share > 0.6"`: a condition on what is known at
a month's close (SPEC §2c), parsed by a small tokenizer into polars expressions.

Never eval, never SQL: the text becomes comparisons of known column names with numbers,
and anything else is refused with one line naming the token.
"""

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from surgewatch.core.errors import InputError
from surgewatch.core.tickers import normalize_ticker
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
# A word (a field, `T.field` or a context series' field), a run of operator characters, a
# number, or any other single character (refused later).
_TOKEN = re.compile(
    r"\s*(?:(\^?[A-Za-z_][A-Za-z0-9_]*(?:[.\-=][A-Za-z0-9_]+)*)|([<>=!]+)"
    r"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[^\s<>=!]*)|(\S))"
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


def own_field(name: str) -> str:
    """The ticker's own field a name refers to: `SPY.prior_drawdown` → prior_drawdown."""
    return name.rpartition(".")[2]


def check_field(name: str, series: Collection[str] = (), option: str = "`when`") -> str:
    """A field a condition or a feature may use (SPEC §2c, §2d): one of FIELDS, another
    ticker's (`T.field`, T upper-cased) or a stored context series' (`series`: their
    field names); the name, else InputError naming the choices."""
    choices = ", ".join([*FIELDS, *series, "T.field"])
    stored = "" if series else " (or a context series: none is stored, see `surgewatch context add`)"
    if option == "--features":
        if _LOOK_AHEAD.match(own_field(name)) or not _known(name, series):
            raise InputError(f"--features: {name}: choose from {choices}{stored}")
    elif _LOOK_AHEAD.match(own_field(name)):
        raise InputError(f"{name} looks ahead: a condition may use {', '.join(FIELDS)}")
    elif not _known(name, series):
        raise InputError(f"{option}: unknown field {name!r}: a condition may use {choices}{stored}")
    ticker, dot, field = name.rpartition(".")
    return f"{normalize_ticker(ticker)}.{field}" if dot else name


def _known(name: str, series: Collection[str]) -> bool:
    ticker, dot, field = name.rpartition(".")
    return name in FIELDS or name in series or bool(dot and ticker and field in FIELDS)


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
    """SPEC §2c: a number past ±1 on a fraction field (its own or another ticker's) was
    typed as a percent. A context series is in its own units."""
    if own_field(comparison.field) in FRACTIONS and abs(comparison.value) > 1:
        meant = percent_as_fraction(comparison.value)
        raise InputError(
            f"`when`: {comparison.field} is a fraction (-0.10 for -10%), got {comparison.value:g}; "
            f"did you mean {comparison.field} {comparison.op} {meant}?"
        )
    return comparison


def parse_condition(text: str, series: Collection[str] = ()) -> Condition:
    """'FIELD OP NUMBER [and FIELD OP NUMBER …]' → Condition; InputError naming the bad
    token. series: the stored context series' field names a FIELD may also be."""
    tokens = _tokens(text)
    if not tokens:
        raise InputError('`when`: empty condition; e.g. `when` "prior_drawdown <= -0.10"')
    comparisons, i = [], 0
    while True:
        window = tokens[i : i + 3] + [None] * (3 - len(tokens[i : i + 3]))
        if window[0] is None:
            raise InputError("`when`: expected a field after 'and', got nothing")
        comparison = Comparison(check_field(window[0], series), _operator(window[1]), _number(window[2]))
        comparisons.append(_not_a_percent(comparison))
        i += 3
        if i == len(tokens):
            return Condition(text.strip(), tuple(comparisons))
        if tokens[i].lower() != "and":
            raise InputError(f"`when`: expected 'and' between comparisons, got {tokens[i]!r}")
        i += 1

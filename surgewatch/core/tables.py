"""The published tables' shapes, each defined once: every column's name and polars type,
in the order the report shows them.

Ground floor: the sources' raw frame and the report's reads take their columns from here.
The warehouse's DDL (released migrations, which never change) and the pandera models
declare them too; tests/core/test_tables.py proves they agree. Beside these columns the
warehouse stores only lineage (warehouse/schema.LINEAGE: where a row came from).
"""

import polars as pl

from surgewatch.core.vocabulary import BAR_COLUMNS, DEFAULT_HORIZONS, STATISTICS, drawdown_columns, forward_columns

_TEXT, _DAY, _FLAG, _COUNT = pl.String(), pl.Date(), pl.Boolean(), pl.UInt32()


def _fractions(*names: str) -> dict[str, pl.DataType]:
    return dict.fromkeys(names, pl.Float64())


# Forward returns and drawdowns at the published horizons (warehouse columns are fixed).
_HORIZONS = _fractions(*forward_columns(DEFAULT_HORIZONS), *drawdown_columns(DEFAULT_HORIZONS))
# A month's context (SPEC §2): its sessions, up sessions, and the prior drawdown, prior
# 12 months' return and share of up sessions.
_CONTEXT = {"sessions": _COUNT, "up_sessions": _COUNT, **_fractions("prior_drawdown", "prior_12m", "up_share")}

PARAMETERS = ("threshold", "direction", "basis", "resamples", "seed")
"""The study parameters a result row was computed with: the publish writes them beside
the study's frames, so no frame (and no pandera model) carries them."""

_STUDY = {"threshold": pl.Float64(), "direction": _TEXT, "basis": _TEXT}

PRICES = pl.Schema(
    {"ticker": _TEXT, "date": _DAY, **{c: pl.Int64() if c == "volume" else pl.Float64() for c in BAR_COLUMNS}}
)
"""prices_daily: one daily bar per (ticker, session), as every source returns it."""

MONTH_END = pl.Schema(
    {
        "ticker": _TEXT,
        "month": _DAY,
        "as_of": _DAY,
        "complete": _FLAG,
        "close": pl.Float64(),
        "move": pl.Float64(),
        **_HORIZONS,
        **_CONTEXT,
        "basis": _TEXT,
    }
)
"""month_end: one row per (ticker, month) with its close, move, forward figures and context."""

SIGNAL_EVENTS = pl.Schema(
    {
        "ticker": _TEXT,
        "month": _DAY,
        "as_of": _DAY,
        "complete": _FLAG,
        "move": pl.Float64(),
        **_HORIZONS,
        **_CONTEXT,
        "first_crossed_on": _DAY,
        **_STUDY,
    }
)
"""signal_events: the months whose move crossed the threshold."""

SIGNAL_SUMMARY = pl.Schema(
    {
        "ticker": _TEXT,
        "kind": _TEXT,  # events or baseline: which of the study's two summaries the row is
        "horizon": pl.Int64(),
        "n": _COUNT,
        **_fractions(*STATISTICS[1:]),
        **_STUDY,
    }
)
"""signal_summary: per (ticker, kind, horizon) the figures of vocabulary.STATISTICS."""

SIGNAL_STATS = pl.Schema(
    {
        "ticker": _TEXT,
        "horizon": pl.Int64(),
        "n": _COUNT,
        "n_independent": _COUNT,
        **_fractions("average_independent", "excess", "ci_low", "ci_high", "placebo_p", "placebo_percentile"),
        "placebo_draws": _COUNT,
        **_fractions("chance_low", "chance_high", "win_p", "t_hac", "q_value"),
        "verdict": _TEXT,
        "resamples": _COUNT,
        "seed": pl.Int64(),
        **_STUDY,
    }
)
"""signal_stats: per (ticker, horizon) the signal-or-noise figures of SPEC §2b."""

TABLES: dict[str, pl.Schema] = {
    "prices_daily": PRICES,
    "month_end": MONTH_END,
    "signal_events": SIGNAL_EVENTS,
    "signal_summary": SIGNAL_SUMMARY,
    "signal_stats": SIGNAL_STATS,
}


def result_columns(shape: pl.Schema) -> tuple[str, ...]:
    """The shape's columns but the study parameters: what a result row says."""
    return tuple(c for c in shape.names() if c not in PARAMETERS)

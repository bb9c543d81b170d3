"""The month's movers (SPEC §4 `scan`): over every stored ticker, the months whose move
crossed the threshold (or came within `near` of it), each with its own published history
after such months, ranked by verdict and then by 12-month excess. A pure function of the
published frames: nothing is recomputed."""

import polars as pl

from surgewatch.core.vocabulary import (
    BEATS,
    NO_DIFFERENT,
    SUGGESTIVE_BETTER,
    SUGGESTIVE_WORSE,
    TOO_FEW,
    TRAILS,
    Direction,
    crossed,
)

# Best news first: what history says about the months after such a move.
VERDICT_RANK = {v: i for i, v in enumerate((BEATS, SUGGESTIVE_BETTER, NO_DIFFERENT, TOO_FEW, SUGGESTIVE_WORSE, TRAILS))}
RANK_HORIZON = 12  # months: the verdict and excess a mover is ranked by (else its longest horizon)


def month_movers(
    month_end: pl.DataFrame,
    events: pl.DataFrame,
    summary: pl.DataFrame,
    stats: pl.DataFrame,
    threshold: float,
    direction: Direction,
    near: float | None = None,
) -> pl.DataFrame:
    """One row per mover of month_end's rows (ticker, month, as_of, complete, move; one
    month): ticker, month, complete, move, first_crossed_on (from events), near (its move
    within `near`, a fraction, short of the threshold), status (near, confirmed or
    provisional), and `history` (a list per horizon
    of n, average from summary's 'events' rows, excess and verdict from stats), sorted by
    the verdict at RANK_HORIZON (VERDICT_RANK), then that horizon's excess, falling."""
    move = pl.col("move")
    past = crossed(move, threshold, direction)
    close = pl.lit(False)
    if near is not None:
        close = crossed(move, threshold - near, direction) & ~past
    movers = month_end.filter(move.is_not_null() & (past | close)).with_columns(near=close)
    movers = movers.join(events.select("ticker", "month", "first_crossed_on"), on=["ticker", "month"], how="left")
    ranked = ranked_history(summary, stats, movers["ticker"].unique())
    return (
        best_first(movers.join(ranked, on="ticker", how="left"))
        .with_columns(
            status=pl.when("near")
            .then(pl.lit("near"))
            .when("complete")
            .then(pl.lit("confirmed"))
            .otherwise(pl.lit("provisional"))
        )
        .select("ticker", "month", "complete", "as_of", "move", "first_crossed_on", "near", "status", "history")
    )


def best_first(frame: pl.DataFrame, *then: str) -> pl.DataFrame:
    """frame (joined to ranked_history) best history first: by `_rank`, then `_excess`
    falling, then ticker and the columns `then`; a ticker without history last."""
    keys = ["_rank", "_excess", "ticker", *then]
    return frame.sort(keys, descending=[False, True, *[False] * (len(keys) - 2)], nulls_last=True)


def ranked_history(summary: pl.DataFrame, stats: pl.DataFrame | None, tickers: pl.Series) -> pl.DataFrame:
    """Per ticker of `tickers`: `history`, a list by horizon of n and average (summary's
    'events' rows, or all its rows when it has no `kind`) with excess and verdict (stats,
    when given), and the keys they are ranked by: `_rank`, the verdict at RANK_HORIZON
    (else at the longest horizon) in VERDICT_RANK's order, and `_excess`, the excess there."""
    events = summary.filter(pl.col("kind") == "events") if "kind" in summary.columns else summary
    history = events.filter(pl.col("ticker").is_in(tickers.implode())).select("ticker", "horizon", "n", "average")
    if stats is not None:
        history = history.join(
            stats.select("ticker", "horizon", "excess", "verdict"), on=["ticker", "horizon"], how="left"
        )
    else:
        history = history.with_columns(excess=pl.lit(None, pl.Float64), verdict=pl.lit(None, pl.String))
    ranked = (
        history.with_columns(_at=(pl.col("horizon") == RANK_HORIZON).cast(pl.Int8) * 1000 + pl.col("horizon"))
        .sort("ticker", "_at")
        .group_by("ticker", maintain_order=True)
        .agg(
            pl.struct("horizon", "n", "average", "excess", "verdict").alias("history"),
            _verdict=pl.col("verdict").last(),
            _excess=pl.col("excess").last(),
        )
    )
    rank = pl.col("_verdict").replace_strict(VERDICT_RANK, default=len(VERDICT_RANK), return_dtype=pl.Int32)
    return ranked.with_columns(
        _rank=rank,
        history=pl.col("history").list.eval(pl.element().sort_by(pl.element().struct.field("horizon"))),
    ).drop("_verdict")


def mover_figures(history: list[dict] | None) -> dict:
    """What `scan` and the report show of a mover's history: n, average, excess and
    verdict at RANK_HORIZON, and the average at 3 months (None where it has none)."""
    ranked, three = at_horizon(history, RANK_HORIZON), at_horizon(history, 3)
    return {
        "n": ranked.get("n"),
        "average_3m": three.get("average"),
        "average_12m": ranked.get("average"),
        "excess_12m": ranked.get("excess"),
        "verdict_12m": ranked.get("verdict"),
    }


def at_horizon(history: list[dict] | None, horizon: int) -> dict:
    """A mover's history entry (n, average, excess, verdict) at `horizon`; {} without one."""
    return next((h for h in history or [] if h["horizon"] == horizon), {})

"""The daily path after the events (SPEC §2d), the classic event-study plot: for each
complete event month, the close d sessions after its last session over that close, less
1, summarised per d beside the same over every complete month. Shared by `path` and the
report."""

from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf

PATH_HEADER = ("d", "n", "mean", "median", "p25", "p75", "all_mean", "all_median", "all_p25", "all_p75")


@dataclass(frozen=True)
class EventPath:
    table: pl.DataFrame
    """One row per d = 0 … sessions, PATH_HEADER: the events' n and figures, then every month's."""
    events: list[str]
    """The complete event months it follows (YYYY-MM)."""
    months: int
    """How many complete months the `all_` figures follow."""


def event_path(
    prices: pl.DataFrame,
    monthly: pl.DataFrame,
    events: pl.DataFrame,
    sessions: int,
    column: str,
    benchmark: pl.DataFrame | None = None,
) -> EventPath:
    """One ticker's path: prices (date, column: its daily closes), monthly and events
    (month, as_of, complete). With benchmark (date, column), every path is less the
    benchmark's over the same sessions (tf.relative_paths)."""
    anchors = monthly.filter(pl.col("complete")).select(anchor="month", date="as_of")
    chosen = events.filter(pl.col("complete")).select(anchor="month")
    paths = tf.event_paths(prices, anchors, sessions, column)
    if benchmark is not None:
        paths = tf.relative_paths(paths, anchors, benchmark, column)
    mine = tf.path_summary(paths.join(chosen, on="anchor"))
    every = tf.path_summary(paths).rename(lambda c: c if c == "d" else f"all_{c}").drop("all_n")
    table = mine.join(every, on="d", how="right").select(PATH_HEADER)
    return EventPath(table, [f"{m:%Y-%m}" for m in chosen["anchor"].sort()], anchors.height)

"""What a refresh reads before it fetches, and the study it computes after: a next night
reads each ticker's window of daily rows and its published results, never the whole
price history (surgewatch.update); tickers that need it are recomputed whole.

Composition only: the SQL is the warehouse's, the decisions are plan's and update's.
"""

import datetime as dt
from dataclasses import dataclass

import polars as pl

from surgewatch.flows.plan import Plan
from surgewatch.study import StudyParams, StudyResult, run_study
from surgewatch.update import Published, Update, merged, reusable, uncovered, update_study, windows
from surgewatch.warehouse import Warehouse


@dataclass(frozen=True)
class Stored:
    """What a night starts from. prices: each incremental ticker's window and each
    whole ticker's stored history (both cut to a rewind's date); since: (ticker, since,
    start) of the incremental tickers; published: their published results."""

    prices: pl.DataFrame
    incremental: frozenset[str]
    since: pl.DataFrame
    published: Published
    last_sessions: pl.DataFrame


def read_stored(wh: Warehouse, spans: pl.DataFrame, todo: Plan, params: StudyParams) -> Stored:
    """Read what the plan's tickers start from: the published results of the incremental
    ones (those published with other parameters, or whose window is short, move to the
    whole ones), their windows, and the stored histories of the others."""
    candidates = set(todo.incremental)
    tables = wh.published_results(candidates) if candidates else {}
    published = Published(
        tables.get("month_end", pl.DataFrame()),
        tables.get("signal_events", pl.DataFrame()),
        tables.get("signal_stats", pl.DataFrame()),
    )
    incremental = set(reusable(published, params)) if candidates else set()
    held = spans.filter(pl.col("ticker").is_in(sorted(incremental)))
    plan_rows = windows(held)
    window = wh.price_window(plan_rows) if incremental else pl.DataFrame()
    incremental -= set(uncovered(window, plan_rows, held)) if incremental else set()
    stored_whole = [t for t in todo.universe if t not in incremental and t not in todo.new]
    parts = [window.filter(pl.col("ticker").is_in(sorted(incremental)))] if incremental else []
    if stored_whole:
        histories = wh.price_histories(stored_whole)
        parts.append(histories if todo.cut_to is None else histories.filter(pl.col("date") <= todo.cut_to))
    prices = pl.concat(parts).sort("ticker", "date") if parts else wh.price_histories([])
    return Stored(
        prices=prices,
        incremental=frozenset(incremental),
        since=plan_rows.filter(pl.col("ticker").is_in(sorted(incremental))),
        published=_only(published, incremental),
        last_sessions=prices.group_by("ticker").agg(last_session=pl.col("date").max()),
    )


def _only(published: Published, tickers: set[str]) -> Published:
    keep = pl.col("ticker").is_in(sorted(tickers))
    return Published(
        *(
            frame.filter(keep) if frame.width else frame
            for frame in (published.month_end, published.events, published.stats)
        )
    )


def compute(
    prices: pl.DataFrame, stored: Stored, restated: tuple[str, ...], params: StudyParams, as_of: dt.date | None
) -> Update:
    """The night's study of the tickers in prices: incremental tickers (not restated)
    from their windows and published results, the rest from their whole histories."""
    incremental = sorted(set(stored.incremental) - set(restated) & set(prices["ticker"].unique()))
    mine = pl.col("ticker").is_in(incremental)
    parts: list[StudyResult] = []
    changes = prices.head(0)
    recomputed = 0
    if incremental:
        published = _only(stored.published, set(incremental))
        update = update_study(prices.filter(mine), stored.since.filter(mine), published, params)
        parts.append(update.study)
        changes, recomputed = update.month_end_changes, update.stats_recomputed
    rest = prices.filter(~mine)
    if rest.height:
        whole = run_study(rest, params, as_of=as_of)
        parts.append(whole)
        recomputed += whole.stats.height
    return Update(merged(parts), changes, recomputed, frozenset(incremental))

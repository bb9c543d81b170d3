"""What a refresh reads before it fetches, and what its chunks add up to.

A next night reads each ticker's window of daily rows and its published results, never
the whole price history (surgewatch.study.update). Tickers recomputed whole (new, `--full`,
a rewind, restated, published with other parameters, a window too short) go through
the same stages WHOLE_CHUNK tickers at a time, so a first load holds one chunk of
histories at once; the prices each chunk writes wait in a Parquet file for the publish.

Composition only: the SQL is the warehouse's, the decisions are plan's and update's.
"""

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from surgewatch.flows.plan import Plan
from surgewatch.sources.ingested import Ingested
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.study.update import (
    BASE_COLUMNS,
    RECENT_MONTHS,
    Published,
    Update,
    merged,
    reusable,
    uncovered,
    update_study,
    whole_update,
    windows,
)
from surgewatch.warehouse import Warehouse

# Tickers recomputed whole at a time: 250 thirty-year histories are ~1.9M daily rows.
WHOLE_CHUNK = 250
# Tickers updated at a time: 500 windows are ~165k daily rows and 180k month-end rows.
UPDATE_CHUNK = 500


@dataclass(frozen=True)
class Stored:
    """What a night starts from. window: the incremental tickers' stored rows from their
    window start; since: their (ticker, since, start); published: their published
    results; whole: the other tickers of the universe, in order; cut_to: a rewind's date."""

    window: pl.DataFrame
    incremental: tuple[str, ...]
    since: pl.DataFrame
    published: Published
    whole: tuple[str, ...]
    cut_to: dt.date | None = None

    def chunks(self, wh: Warehouse) -> Iterator[tuple[list[str], pl.DataFrame]]:
        """(tickers, their stored rows): the incremental tickers UPDATE_CHUNK at a time
        with their windows, then the whole ones WHOLE_CHUNK at a time with their stored
        histories (cut to cut_to)."""
        windows = self.window.partition_by("ticker", as_dict=True) if self.incremental else {}
        # In ticker order, as the night's study is (merged need not sort what it joins).
        incremental, whole = sorted(self.incremental), sorted(self.whole)
        for i in range(0, len(incremental), UPDATE_CHUNK):
            tickers = incremental[i : i + UPDATE_CHUNK]
            yield tickers, pl.concat([windows[(t,)] for t in tickers if (t,) in windows] or [self.window.head(0)])
        for i in range(0, len(whole), WHOLE_CHUNK):
            tickers = whole[i : i + WHOLE_CHUNK]
            yield tickers, wh.prices(tickers, as_of=self.cut_to)


def read_stored(wh: Warehouse, spans: pl.DataFrame, todo: Plan, params: StudyParams) -> Stored:
    """Read what the plan's incremental tickers start from: their published results and
    windows; those published with other parameters, or whose window is short, join the
    tickers recomputed whole."""
    held = spans.filter(pl.col("ticker").is_in(list(todo.incremental)))
    plan_rows = windows(held)
    tables = wh.published_results(plan_rows, BASE_COLUMNS, RECENT_MONTHS) if held.height else {}
    published = Published(
        *(tables.get(t, pl.DataFrame()) for t in ("month_end", "signal_events", "signal_stats", "recent"))
    )
    incremental = set(reusable(published, params)) if held.height else set()
    keep = pl.col("ticker").is_in(sorted(incremental))
    window = wh.price_window(plan_rows.filter(keep)) if incremental else pl.DataFrame()
    incremental -= set(uncovered(window, plan_rows.filter(keep), held)) if incremental else set()
    keep = pl.col("ticker").is_in(sorted(incremental))
    return Stored(
        window=window.filter(keep) if incremental else window,
        incremental=tuple(t for t in todo.universe if t in incremental),
        since=plan_rows.filter(keep),
        published=_only(published, incremental),
        whole=tuple(t for t in todo.universe if t not in incremental),
        cut_to=todo.cut_to,
    )


def _only(published: Published, tickers: set[str]) -> Published:
    keep = pl.col("ticker").is_in(sorted(tickers))
    frames = (published.month_end, published.events, published.stats, published.recent_rows)
    return Published(*(frame.filter(keep) if frame.width else frame for frame in frames))


def compute(
    prices: pl.DataFrame, stored: Stored, restated: tuple[str, ...], params: StudyParams, as_of: dt.date | None
) -> Update:
    """The study of the tickers in prices: incremental tickers (not restated) from their
    windows and published results, the rest from their whole histories."""
    incremental = sorted(set(stored.incremental) - set(restated) & set(prices["ticker"].unique()))
    mine = pl.col("ticker").is_in(incremental)
    parts: list[Update] = []
    if incremental:
        published = _only(stored.published, set(incremental))
        parts.append(update_study(prices.filter(mine), stored.since.filter(mine), published, params))
    rest = prices.filter(~mine)
    if rest.height:
        parts.append(whole_update(run_study(rest, params, as_of=as_of)))
    return combined(parts)


def combined(parts: list[Update]) -> Update:
    """One Update of parts that hold different tickers."""
    changes = [p.month_end_changes for p in parts if p.month_end_changes.height]
    kept = [p.kept for p in parts if p.kept.width]
    study = merged([p.study for p in parts])
    return Update(
        study,
        pl.concat(changes, how="vertical_relaxed") if changes else study.monthly.head(0),
        pl.concat([p.stale for p in parts]),
        pl.concat(kept) if kept else pl.DataFrame(),
        frozenset().union(*(p.partial for p in parts)),
    )


@dataclass
class Night:
    """What the chunks of a night gathered for the publish: per ticker, why it failed
    (unreachable: its provider's host was given up) or what it ingested; the studies;
    the prices to write, spilled to Parquet files in `folder`."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="surgewatch-night-")))
    failed: dict[str, str] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    rows_ingested: dict[str, int] = field(default_factory=dict)
    restated: list[str] = field(default_factory=list)
    replace_history: set[str] = field(default_factory=set)
    spills: list[tuple[Path, frozenset[str]]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    last_sessions: list[pl.DataFrame] = field(default_factory=list)

    def __enter__(self) -> "Night":
        return self

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, stored: pl.DataFrame, ingest: Ingested, update: Update | None) -> None:
        """A chunk's outcome: its stored rows' last sessions, its ingest, its study."""
        self.last_sessions.append(stored.group_by("ticker").agg(last_session=pl.col("date").max()))
        self.rows_ingested |= ingest.rows_ingested
        self.restated += ingest.restated
        self.replace_history |= ingest.replace_history
        # A ticker fails before its chunk is added, so the spill holds only healthy ones.
        write = ingest.to_write.filter(~pl.col("ticker").is_in(list(self.failed)))
        if write.height:
            spill = self.folder / f"prices-{len(self.spills)}.parquet"
            write.write_parquet(spill)
            self.spills.append((spill, frozenset(write["ticker"].unique())))
        if update is not None:
            self.updates.append(update.compact())

    def study(self) -> Update:
        """The night's update, once: the chunks' are let go (both would double its memory)."""
        updates, self.updates = self.updates, []
        return combined(updates)

    def since(self) -> pl.DataFrame:
        """(ticker, last_session): how far the last published version reached."""
        return pl.concat(self.last_sessions) if self.last_sessions else pl.DataFrame()

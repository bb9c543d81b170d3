"""A night's study from what was published plus the daily rows the new sessions touch.

The month-end table is the state. A ticker whose stored sessions are all unchanged (no
restatement, no rewind, the same study parameters) gains sessions only at the end of
its data, so every month before the month of its last stored session (`since`) keeps
its month-end row. Those rows come from the published `month_end`; the months from
`since` on are recomputed from a window of daily rows that reaches LOOKBACK_ROWS
sessions before `since` (the 63-session low of the 252-session drawdown looks back
that far). Everything after month-ends (moves, forward figures, context, events,
summaries) is recomputed from the month-end rows, which are few; the §2b figures only
for the (ticker, horizon) pairs whose inputs changed (SPEC §2b: a ticker's figures
depend only on its own returns, the seed and B).

The result equals `run_study` over the whole history (tests/properties prove it).
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

import surgewatch.schemas as sc
import surgewatch.transforms as tf
from surgewatch.core.calendar import nyse_sessions
from surgewatch.schemas import validate
from surgewatch.core.params import StudyParams
from surgewatch.study.run import StudyResult
from surgewatch.core.tables import MONTH_END, SIGNAL_STATS
from surgewatch.transforms.month_ends import LOOKBACK_WINDOW, PEAK_WINDOW
from surgewatch.transforms.significance import STATS_COLUMNS, q_values, verdict
from surgewatch.core.vocabulary import forward_column, forward_columns
from surgewatch.core.frames import date_span

# Rows before a month that its month-end row reads: prior_drawdown's 63 sessions, each
# with its 252-session high (62 + 252), and the previous close of its first up session.
LOOKBACK_ROWS = LOOKBACK_WINDOW + PEAK_WINDOW
# What month_ends computes from daily rows; every other month_end column follows from these.
BASE_COLUMNS = ("ticker", "month", "as_of", "close", "complete", "sessions", "up_sessions", "prior_drawdown")
_KEY = ["ticker", "month"]
# The §2b columns a night keeps or computes; q_value and verdict follow from them.
_STATS = ["ticker", "horizon", *(c for c in STATS_COLUMNS if c not in ("q_value", "verdict"))]


# A night changes a month-end row only from RECENT_MONTHS months before `since` on: the
# forward figures of month m read C[m+h], h ≤ 12 (a study with longer horizons is
# recomputed whole, see reusable).
RECENT_MONTHS = 13


@dataclass(frozen=True)
class Published:
    """The published results of some tickers, as the warehouse holds them: month_end
    (BASE_COLUMNS suffice), signal_events and signal_stats rows; `recent` has every
    month_end column of the months from RECENT_MONTHS before each ticker's since on
    (None: month_end has them, for every month)."""

    month_end: pl.DataFrame
    events: pl.DataFrame
    stats: pl.DataFrame
    recent: pl.DataFrame | None = None

    @property
    def recent_rows(self) -> pl.DataFrame:
        return self.month_end if self.recent is None else self.recent


@dataclass(frozen=True)
class Update:
    """A night's study and what it changed. For the tickers in `partial`, built on their
    published results, `month_end_changes` holds the monthly rows that differ from the
    published ones (all a publish writes of them). The §2b figures are those of `kept`
    (published rows still right) and of the `stale` (ticker, horizon) pairs, computed by
    with_stats once every chunk of a night is in (tickers of one shape share draws)."""

    study: StudyResult
    month_end_changes: pl.DataFrame
    stale: pl.DataFrame
    kept: pl.DataFrame
    partial: frozenset[str] = frozenset()

    @property
    def stats_recomputed(self) -> int:
        return self.stale.height

    def compact(self) -> "Update":
        """What a night holds of a chunk until its publish: no daily rows (its spill
        writes them) and, of the partial tickers' monthly rows, only what signal_stats
        and alerts_due read (a publish writes month_end_changes of them)."""
        monthly = self.study.monthly
        if self.partial:
            mine = pl.col("ticker").is_in(sorted(self.partial))
            held = [*_HELD, *(forward_column(h) for h in self.study.params.horizons)]
            monthly = pl.concat([monthly.filter(~mine), monthly.filter(mine).select(held)], how="diagonal_relaxed")
        study = dataclasses.replace(self.study, prices=self.study.prices.head(0), monthly=monthly)
        return dataclasses.replace(self, study=study)

    @property
    def month_end_rows(self) -> pl.DataFrame:
        """What month_end must be given: the changes of the partial tickers, every monthly
        row of the others."""
        whole = self.study.monthly.filter(~pl.col("ticker").is_in(sorted(self.partial)))
        return pl.concat([self.month_end_changes, whole], how="vertical_relaxed") if self.partial else whole


# The monthly columns a night's alerts read (alerts_due), beside signal_stats' forward returns.
_HELD = ("ticker", "month", "as_of", "complete", "move")
# Calendar days that hold LOOKBACK_ROWS sessions with room for holidays (≈ 252 a year).
_WINDOW_DAYS = LOOKBACK_ROWS * 365 // 240 + 30


def windows(sessions: pl.DataFrame) -> pl.DataFrame:
    """(ticker, since, start) from (ticker, first_session, last_session): recompute the
    months from the month of the last stored session on (since), reading daily rows
    dated from `start`, which holds LOOKBACK_ROWS sessions before since for a ticker
    without gaps (`uncovered` finds the others)."""
    since = pl.col("last_session").dt.month_start()
    return sessions.select("ticker", since.alias("since"), (since - pl.duration(days=_WINDOW_DAYS)).alias("start"))


def uncovered(window: pl.DataFrame, plan: pl.DataFrame, sessions: pl.DataFrame) -> list[str]:
    """Tickers of plan (ticker, since, start) whose window lacks rows their recomputed
    months read: fewer than LOOKBACK_ROWS rows before since while their data (sessions:
    ticker, first_session) begins before the window. They are recomputed whole."""
    before = window.join(plan, on="ticker").filter(pl.col("date") < pl.col("since")).group_by("ticker").len("rows")
    short = (
        plan.join(sessions.select("ticker", "first_session"), on="ticker")
        .join(before, on="ticker", how="left")
        .filter((pl.col("rows").fill_null(0) < LOOKBACK_ROWS) & (pl.col("first_session") < pl.col("start")))
    )
    return short["ticker"].sort().to_list()


def reusable(published: Published, params: StudyParams) -> list[str]:
    """Tickers whose published results a night can build on: month-end rows, and §2b
    figures computed with the same parameters (threshold, direction, basis, B, seed)."""
    asked = {"threshold": params.threshold, "direction": params.direction, "basis": params.basis}
    asked |= {"resamples": params.resamples, "seed": params.seed}
    same = pl.all_horizontal(pl.col(k) == v for k, v in asked.items())
    if max(params.horizons) >= RECENT_MONTHS:
        return []
    stats = published.stats.group_by("ticker").agg(same.all().alias("same"))
    held = published.month_end.select("ticker").unique()
    return sorted(stats.filter("same").join(held, on="ticker")["ticker"].to_list())


def merged(parts: Sequence[StudyResult]) -> StudyResult:
    """One study of the parts' tickers (each part holds other tickers), in ticker order."""
    if len(parts) == 1:
        return parts[0]

    def joined(frames: list[pl.DataFrame], *key: str) -> pl.DataFrame:
        # Diagonal: a night's monthly parts may be compacted (Update.compact). Parts
        # come in ticker order on a night, and a sort would copy them all once more.
        frame = pl.concat(frames, how="diagonal_relaxed", rechunk=False)
        in_order = frame.select(pl.struct("ticker", *key)).to_series().is_sorted()
        return frame if in_order else frame.sort("ticker", *key)

    return StudyResult(
        params=parts[0].params,
        prices=joined([p.prices for p in parts], "date"),
        monthly=joined([p.monthly for p in parts], "month"),
        events=joined([p.events for p in parts], "month"),
        summary=joined([p.summary for p in parts], "horizon"),
        baseline=joined([p.baseline for p in parts], "horizon"),
        missing_sessions=joined([p.missing_sessions for p in parts], "date"),
    )


def whole_update(study: StudyResult) -> Update:
    """A study recomputed whole as an Update: every (ticker, horizon) pair stale."""
    pairs = study.monthly.select("ticker").unique().join(_horizons(study.params.horizons), how="cross")
    return Update(study, study.monthly.head(0), pairs.sort("ticker", "horizon"), pl.DataFrame())


def with_stats(update: Update) -> Update:
    """The update with its §2b figures: the kept ones and the stale pairs computed (tickers
    grouped by their stale horizons), then q-values and verdicts anew per ticker (they
    join a ticker's horizons). pandera checks the tickers with a stale pair; the others'
    figures are the published ones, checked when they were written."""
    study, p = update.study, update.study.params
    fresh = []
    groups = update.stale.group_by("ticker").agg(pl.col("horizon").sort()).group_by("horizon").agg("ticker")
    for horizons, tickers in groups.sort("horizon").iter_rows():
        mine = pl.col("ticker").is_in(tickers)
        stats = tf.horizon_figures(
            study.monthly.filter(mine), study.events.filter(mine), tuple(horizons), p.resamples, p.seed
        )
        fresh.append(stats.select(_STATS))
    kept = [update.kept.select(_STATS)] if update.kept.width else []
    stats = pl.concat([*kept, *fresh]).sort("ticker", "horizon")
    stats = stats.with_columns(q_values(stats)).with_columns(verdict())
    validate(stats.filter(pl.col("ticker").is_in(update.stale["ticker"].implode())), sc.SignalStats, "signal_stats")
    return dataclasses.replace(update, study=dataclasses.replace(study, known_stats=stats))


def _horizons(horizons: Sequence[int]) -> pl.DataFrame:
    return pl.DataFrame({"horizon": list(horizons)}, schema={"horizon": pl.Int64})


def update_study(window: pl.DataFrame, since: pl.DataFrame, published: Published, params: StudyParams) -> Update:
    """The study of the window's tickers, equal to run_study over their whole histories.

    window: daily rows (validated) of each ticker from at least LOOKBACK_ROWS sessions
    before its `since` (or from its first row) to its last; since: (ticker, since, …),
    the first day of the first month to recompute; published: those tickers' published rows,
    computed with `params`. month_end = published rows of months < since + month_ends
    over the window for months ≥ since; the rest as run_study computes it.
    """
    sessions = nyse_sessions(*date_span(window["date"]))
    since = since.select("ticker", "since")
    fresh = (
        tf.month_ends(window, sessions, params.basis)
        .join(since, on="ticker")
        .filter(pl.col("month") >= pl.col("since"))
    )
    kept = (
        published.month_end.select(BASE_COLUMNS)
        .cast({c: MONTH_END[c] for c in BASE_COLUMNS})
        .join(since, on="ticker")
        .filter(pl.col("month") < pl.col("since"))
    )
    month_end = pl.concat([kept, fresh]).drop("since").sort(_KEY)
    monthly = tf.monthly_returns(tf.context_fields(month_end), params.horizons)
    # Older months are as published (their closes and windows did not move).
    recent = (
        monthly.join(since, on="ticker")
        .filter(pl.col("month") >= pl.col("since").dt.offset_by(f"-{RECENT_MONTHS}mo"))
        .drop("since")
    )
    changes = validate(_changed(recent, published.recent_rows), sc.MonthlyReturns, "monthly_returns")
    events = validate(_events(monthly, window, since, published.events, params), sc.SignalEvents, "signal_events")
    stale = _stale_stats(recent, events, published, since, params.horizons)
    study = StudyResult(
        params=params,
        prices=window,
        monthly=monthly,
        events=events,
        summary=validate(tf.horizon_summary(events, params.horizons), sc.SignalSummary, "signal_summary"),
        baseline=validate(tf.horizon_summary(monthly, params.horizons), sc.SignalSummary, "baseline"),
        missing_sessions=tf.missing_sessions(window, sessions),
    )
    return Update(study, changes, stale, _kept(published.stats, stale, params), frozenset(since["ticker"].to_list()))


def _changed(monthly: pl.DataFrame, published: pl.DataFrame) -> pl.DataFrame:
    """Rows of monthly that the published month_end does not hold with the same values."""
    columns = [c for c in monthly.columns if c in published.columns]
    stored = published.select(columns).cast({c: monthly.schema[c] for c in columns})
    return monthly.join(stored, on=columns, how="anti", nulls_equal=True)


def _events(
    monthly: pl.DataFrame, window: pl.DataFrame, since: pl.DataFrame, published: pl.DataFrame, params: StudyParams
) -> pl.DataFrame:
    """signal_events over every month; first_crossed_on from the window for months ≥ since
    (all their sessions are in it) and as published before (their sessions are not)."""
    events = tf.signal_events(monthly, window, params.threshold, params.direction, params.basis)
    stored = published.select(*_KEY, pl.col("first_crossed_on").alias("_stored"))
    return (
        events.join(since, on="ticker", how="left")
        .join(stored, on=_KEY, how="left")
        .with_columns(
            first_crossed_on=pl.when(pl.col("month") < pl.col("since"))
            .then(pl.col("_stored"))
            .otherwise(pl.col("first_crossed_on"))
        )
        .drop("since", "_stored")
    )


def _population(monthly: pl.DataFrame, events: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """Per (ticker, month): the forward returns and whether the month is an event."""
    flags = events.select(*_KEY, _event=pl.lit(True))
    return (
        monthly.select(*_KEY, *forward_columns(tuple(horizons)))
        .join(flags, on=_KEY, how="left")
        .with_columns(pl.col("_event").fill_null(False))
    )


def _stale_stats(
    recent: pl.DataFrame, events: pl.DataFrame, published: Published, since: pl.DataFrame, horizons: Sequence[int]
) -> pl.DataFrame:
    """(ticker, horizon) whose §2b inputs changed: a month's forward return at h, or
    whether it is an event while it has one, differs from the published ones; or no
    published figures exist for the pair. Both sides from RECENT_MONTHS before since."""
    cutoff = pl.col("since").dt.offset_by(f"-{RECENT_MONTHS}mo")
    stored = published.recent_rows.cast({"month": pl.Date}).join(since, on="ticker").filter(pl.col("month") >= cutoff)
    old = _population(stored, published.events, horizons)
    monthly = recent
    new = _population(monthly, events, horizons)
    both = new.join(old, on=_KEY, how="full", coalesce=True, suffix="_old")
    moved = pl.col("_event").fill_null(False) != pl.col("_event_old").fill_null(False)
    parts = []
    for h, column in zip(horizons, forward_columns(tuple(horizons))):
        now, before = pl.col(column), pl.col(f"{column}_old")
        differs = now.ne_missing(before) | (moved & (now.is_not_null() | before.is_not_null()))
        parts.append(both.filter(differs).select("ticker", horizon=pl.lit(h, pl.Int64)))
    # A row published before the chance band existed (null band beside a p) counts as missing.
    banded = pl.col("placebo_p").is_null() | pl.col("chance_low").is_not_null()
    known = published.stats.filter(banded).select("ticker", pl.col("horizon").cast(pl.Int64))
    every = monthly.select("ticker").unique().join(_horizons(horizons), how="cross")
    parts.append(every.join(known, on=["ticker", "horizon"], how="anti"))
    return pl.concat(parts).unique().sort("ticker", "horizon")


def _kept(published: pl.DataFrame, stale: pl.DataFrame, params: StudyParams) -> pl.DataFrame:
    """The published §2b rows of the asked horizons that are not stale."""
    return (
        published.select(_STATS)
        .cast({c: SIGNAL_STATS[c] for c in _STATS})
        .filter(pl.col("horizon").is_in(list(params.horizons)))
        .join(stale, on=["ticker", "horizon"], how="anti")
    )

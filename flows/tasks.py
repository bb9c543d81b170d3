"""The refresh's tasks: each a step the flow composes (fetch a batch, validate, compute,
alerts, publish), retried and logged by Prefect."""

import datetime as dt
import logging
import threading
from collections.abc import Collection
from typing import TypeVar, cast

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from surgewatch.alerts import alerts_due, retries_due, settle_alerts
from surgewatch.core.faults import Step, reach
from surgewatch.flows.night import Night, Stored, compute
from surgewatch.core.progress import report_progress
from surgewatch.schemas import DailyPrices, validate_each_ticker
from surgewatch.core.settings import Settings
from surgewatch.core.errors import SourceError
from surgewatch.sources.base import PriceSource
from surgewatch.sources.series import fetch_fred
from surgewatch.sources.incremental import TRANSIENT_BACKOFF, Fetched, fetch_many
from surgewatch.core.params import StudyParams
from surgewatch.study.run import StudyResult
from surgewatch.study.update import Update, with_stats
from surgewatch.warehouse import RunRecord, Warehouse

# The wait before a transiently failed fetch is tried again doubles from here (seconds).
FETCH_BACKOFF = TRANSIENT_BACKOFF

T = TypeVar("T")


def as_is(value: T) -> T:
    """A task argument Prefect passes on without walking it (prefect's `quote`): it looks
    through every list, dict and dataclass of a task's arguments for futures, and a
    night's hold thousands of tickers (a second a night). None of ours holds a future.
    Typed as the value, since Prefect unwraps it before the task runs."""
    return cast(T, quote(value))


@task(name="fetch", task_run_name="fetch {label}", cache_policy=NO_CACHE)
def fetch_batch(
    label: str,
    source: PriceSource,
    tickers: list[str],
    tails: dict[str, pl.DataFrame],
    as_of: dt.date | None,
    whole: frozenset[str],
    progress: "Counter",
) -> list[Fetched | Exception]:
    """One batch of tickers (sources.incremental.fetch_many): each fetched, and retried
    while its failure may pass, alone. One log line for the batch; a ticker's own line
    only when it is news (a restatement) or at DEBUG: thousands of routine lines a night
    would bury the ones that matter."""
    logger = get_run_logger()

    def done(ticker: str, outcome: Fetched | Exception) -> None:
        if isinstance(outcome, Fetched):
            if logger.isEnabledFor(logging.DEBUG):
                window = "full history" if outcome.full_history else f"from {outcome.prices['date'].min()!s}"
                logger.debug("%s: %d rows (%s)", ticker, outcome.prices.height, window)
            if outcome.restated.height:
                logger.warning(
                    "%s: provider restated %d stored value(s); re-fetched the full history",
                    ticker,
                    outcome.restated.height,
                )
        progress.step(ticker)

    outcomes = fetch_many(source, tickers, tails, as_of=as_of, whole=whole, backoff=FETCH_BACKOFF, on_done=done)
    fetched = [o for o in outcomes if isinstance(o, Fetched)]
    logger.info(
        "fetched %d of %d ticker(s): %d rows, %d full histories",
        len(fetched),
        len(tickers),
        sum(o.prices.height for o in fetched),
        sum(o.full_history for o in fetched),
    )
    reach(Step.FETCH)
    return outcomes


class Counter:
    """Fetched tickers across the batches, for the progress bar (it counts tickers)."""

    def __init__(self, total: int):
        self._lock = threading.Lock()
        self.done, self.total = 0, total

    def step(self, ticker: str) -> None:
        with self._lock:
            self.done += 1
            report_progress("fetch", self.done, self.total, ticker)


@task(name="validate prices", cache_policy=NO_CACHE)
def validate_prices(
    prices: pl.DataFrame, stored: pl.DataFrame, incremental: Collection[str]
) -> tuple[pl.DataFrame, dict[str, str]]:
    """pandera over what is new: the whole histories of tickers recomputed whole, and of
    the incremental ones their rows from the last stored session on (the stitch to what
    was validated when it was written, and the fetched sessions)."""
    last = (
        stored.filter(pl.col("ticker").is_in(list(incremental)))
        .group_by("ticker")
        .agg(last_session=pl.col("date").max())
    )
    fresh = prices.join(last, on="ticker", how="left").filter(
        pl.col("last_session").is_null() | (pl.col("date") >= pl.col("last_session"))
    )
    _, failed = validate_each_ticker(fresh.drop("last_session"), DailyPrices, "prices")
    reach(Step.VALIDATE)
    return prices.filter(~pl.col("ticker").is_in(list(failed))), failed


@task(name="compute study", cache_policy=NO_CACHE)
def compute_study(
    prices: pl.DataFrame, stored: Stored, restated: tuple[str, ...], params: StudyParams, as_of: dt.date | None
) -> Update:
    update = compute(prices, stored, restated, params, as_of)
    reach(Step.TRANSFORM)
    return update


@task(name="signal stats", cache_policy=NO_CACHE)
def compute_stats(update: Update) -> Update:
    """SPEC §2b for the pairs whose inputs changed, every chunk's at once, validated here
    (study.update.with_stats), not inside the publish transaction."""
    return with_stats(update)


@task(name="alerts", cache_policy=NO_CACHE)
def send_alerts(
    ledger: pl.DataFrame, since: pl.DataFrame, study: StudyResult, settings: Settings, run_id: str
) -> tuple[pl.DataFrame, list[str]]:
    due = alerts_due(study.monthly, ledger, study.params, since)
    retries = retries_due(ledger)
    if due.height or retries.height:
        get_run_logger().info(
            "alerts: %d due, %d to retry, %d target(s)", due.height, retries.height, len(settings.alert_urls)
        )
    return settle_alerts(
        due,
        retries,
        events=study.events,
        summary=study.summary,
        stats=study.stats,
        params=study.params,
        targets=settings.alert_urls,
        run_id=run_id,
        now=dt.datetime.now(dt.timezone.utc),
        digest=settings.alert_digest,
    )


@task(name="context series", cache_policy=NO_CACHE)
def refresh_context(wh: Warehouse, settings: Settings) -> tuple[pl.DataFrame | None, list[str]]:
    """Every stored `fred:` context series fetched anew (SPEC §2d: refreshed nightly,
    published with the prices), and a note per series FRED failed for (it keeps its
    stored values; the prices are published all the same)."""
    sources = wh.context_sources().filter(pl.col("source").str.starts_with("fred:"))
    frames, notes = [], []
    for name, source in sources.iter_rows():
        try:
            frame = fetch_fred(settings, settings.fred_url, source.removeprefix("fred:"))
        except SourceError as exc:
            notes.append(f"context {name} not refreshed ({exc})")
            get_run_logger().warning("%s", notes[-1])
            continue
        frames.append(frame.with_columns(name=pl.lit(name), source=pl.lit(source)))
    if frames:
        get_run_logger().info("context series: %d refreshed from FRED", len(frames))
    return (pl.concat(frames) if frames else None), notes


@task(name="publish", cache_policy=NO_CACHE)
def publish(
    wh: Warehouse,
    run: RunRecord,
    night: Night,
    update: Update,
    stored_alerts: pl.DataFrame,
    since: pl.DataFrame,
    settings: Settings,
    context: tuple[pl.DataFrame | None, list[str]] = (None, []),
) -> tuple[int, pl.DataFrame]:
    """Publish the run in one transaction and return its version and alert ledger.

    The alerts are delivered inside that transaction, once every other table is written:
    only the ledger and run rows and COMMIT lie between a delivery and the version that
    records it, so a crash can re-send an alert in that moment (the next run does not know
    it went out) and never loses one. context: the refreshed context series and the
    notes of those that failed (refresh_context).
    """
    study = update.study
    series, context_notes = context
    with wh.write(run) as tx:
        for spill, tickers in night.spills:
            tx.prices([spill], replace=night.replace_history & tickers)
        tx.results(
            month_end=update.month_end_rows,
            events=study.events,
            summary=study.summary,
            baseline=study.baseline,
            stats=study.stats,
            params=study.params,
            month_end_changes=update.partial,
        )
        if series is not None:
            tx.context(series)
        ledger, notes = send_alerts(as_is(stored_alerts), as_is(since), as_is(study), as_is(settings), run.run_id)
        reach(Step.ALERTS)
        tx.alerts(ledger)
        if notes or context_notes:
            tx.note("; ".join([*notes, *context_notes]))
    return tx.snapshot, ledger

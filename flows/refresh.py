"""The nightly refresh as a Prefect flow: fetch → validate → compute → publish.

The flow only composes, retries, logs and publishes; what each step means lives in
sources/, schemas/, surgewatch.study and warehouse/.
"""

import dataclasses
import threading
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from surgewatch.alerts import alerts_due, retries_due, settle_alerts
from surgewatch.schemas import DailyPrices, validate_each_ticker
from surgewatch.sources import make_source
from surgewatch.sources.base import PriceSource
from surgewatch.sources.incremental import TRANSIENT_BACKOFF, Fetched, Ingested, fetch_many, ingested, stored_tails
from surgewatch.calendar import refuse_future
from surgewatch.errors import InputError, SurgewatchError, UnreachableSource
from surgewatch.faults import Step, reach
from surgewatch.flows.plan import Request, plan
from surgewatch.progress import report_progress
from surgewatch.settings import Settings, load_settings
from surgewatch.flows.night import Stored, compute, read_stored
from surgewatch.study import StudyParams, StudyResult
from surgewatch.update import Update
from surgewatch.warehouse import RefreshInProgress, RunRecord, Warehouse

EXIT_CODES = {"published": 0, "skipped": 0, "partial": 2, "failed": 1}
FLOW_TIMEOUT_SECONDS = 2 * 60 * 60


@dataclass(frozen=True)
class RefreshReport:
    """How a refresh ended: SPEC §4 exit code 0 (all healthy), 2 (some failed), 1 (nothing published)."""

    run_id: str
    status: str
    snapshot_id: int | None = None
    rows_ingested: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    restated: tuple[str, ...] = ()
    new_events: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    message: str = ""
    # The provider whose host no ticker could reach, when that is why nothing was published.
    unreachable: str = ""
    # The schema migrations this run applied, each number → the version it became.
    migrations: dict[int, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


# The wait before a transiently failed fetch is tried again doubles from here (seconds).
FETCH_BACKOFF = TRANSIENT_BACKOFF


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
    while its failure may pass, alone."""
    logger = get_run_logger()

    def done(ticker: str, outcome: Fetched | Exception) -> None:
        if isinstance(outcome, Fetched):
            window = "full history" if outcome.full_history else f"from {outcome.prices['date'].min()!s}"
            logger.info("%s: %d rows (%s)", ticker, outcome.prices.height, window)
            if outcome.restated.height:
                logger.warning(
                    "%s: provider restated %d stored value(s); re-fetched the full history",
                    ticker,
                    outcome.restated.height,
                )
        progress.step(ticker)

    outcomes = fetch_many(source, tickers, tails, as_of=as_of, whole=whole, backoff=FETCH_BACKOFF, on_done=done)
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
def validate_prices(prices: pl.DataFrame, stored: Stored) -> tuple[pl.DataFrame, dict[str, str]]:
    """pandera over what is new: the whole histories of tickers recomputed whole, and of
    the others their rows from the last stored session on (the stitch to what was
    validated when it was written, and the fetched sessions)."""
    last = stored.last_sessions.filter(pl.col("ticker").is_in(sorted(stored.incremental)))
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
    update.study.stats  # noqa: B018  (the §2b stage runs and is validated in this task, not inside the publish transaction)
    reach(Step.TRANSFORM)
    return update


@task(name="alerts", cache_policy=NO_CACHE)
def send_alerts(
    ledger: pl.DataFrame, since: pl.DataFrame, study: StudyResult, settings: Settings, run_id: str
) -> tuple[pl.DataFrame, list[str]]:
    p = study.params
    due = alerts_due(study.monthly, ledger, p.threshold, p.direction, since)
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
        threshold=p.threshold,
        direction=p.direction,
        targets=settings.alert_urls,
        run_id=run_id,
        now=dt.datetime.now(dt.timezone.utc),
    )


@task(name="publish", cache_policy=NO_CACHE)
def publish(
    wh: Warehouse,
    run: RunRecord,
    ingest: Ingested,
    update: Update,
    stored_alerts: pl.DataFrame,
    since: pl.DataFrame,
    settings: Settings,
) -> tuple[int, pl.DataFrame]:
    """Publish the run in one transaction and return its version and alert ledger.

    The alerts are delivered inside that transaction, once every other table is written:
    only the ledger and run rows and COMMIT lie between a delivery and the version that
    records it, so a crash can re-send an alert in that moment (the next run does not know
    it went out) and never loses one.
    """
    study = update.study
    p = study.params
    with wh.write(run) as tx:
        tx.prices(
            ingest.to_write.filter(pl.col("ticker").is_in(list(run.tickers))),
            replace=ingest.replace_history & set(run.tickers),
        )
        tx.results(
            month_end=update.month_end_rows,
            events=study.events,
            summary=study.summary,
            baseline=study.baseline,
            stats=study.stats.with_columns(resamples=pl.lit(p.resamples), seed=pl.lit(p.seed)),
            threshold=p.threshold,
            direction=p.direction,
            basis=p.basis,
            month_end_changes=update.partial,
        )
        ledger, notes = send_alerts(stored_alerts, since, study, settings, run.run_id)
        reach(Step.ALERTS)
        tx.alerts(ledger)
        if notes:
            tx.note("; ".join(notes))
    return tx.snapshot, ledger


def _event_keys(frame: pl.DataFrame) -> set[str]:
    return {f"{t} {m:%Y-%m}" for t, m in frame.select("ticker", "month").iter_rows()}


@flow(name="surgewatch-refresh", timeout_seconds=FLOW_TIMEOUT_SECONDS, log_prints=True)
def refresh(
    tickers: list[str] | None = None, as_of: dt.date | None = None, full: bool = False, rewind: bool = False
) -> RefreshReport:
    """One nightly run: ingest → transform → validate → publish (SPEC §4 `surgewatch refresh`).

    An `as_of` after today (New York) is refused before any work. One before the last
    stored session of an asked ticker is refused (nothing written) unless `rewind`: then
    every stored ticker, not only the asked ones, is cut back to `as_of` and
    republished, so no version mixes dates.
    """
    logger = get_run_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    try:
        refuse_future(as_of)
    except InputError as exc:
        logger.error("refused: %s", exc)
        return RefreshReport(run_id=run_id, status="failed", message=str(exc))
    settings: Settings = load_settings()
    universe = list(tickers or settings.tickers)
    started = dt.datetime.now(dt.timezone.utc)
    try:
        with Warehouse.writer_lock(settings), Warehouse.open(settings) as wh:
            return _refresh(wh, settings, Request(tuple(universe), as_of, full, rewind), run_id, started)
    except RefreshInProgress as exc:
        logger.warning("skipped: %s", exc)
        return RefreshReport(run_id=run_id, status="skipped", message=str(exc))


def _refresh(wh: Warehouse, settings: Settings, request: Request, run_id: str, started: dt.datetime) -> RefreshReport:
    logger = get_run_logger()
    source = make_source(settings)
    as_of = request.as_of
    params = StudyParams(threshold=settings.threshold)
    report_progress("read stored state")
    spans = wh.session_spans()
    todo = plan(dict(spans.select("ticker", "last_session").iter_rows()), request)
    if todo.refused:
        logger.error("refused: %s", todo.refused)
        return RefreshReport(run_id=run_id, status="failed", message=todo.refused)
    universe = list(todo.universe)
    stored = read_stored(wh, spans, todo, params)
    known_events = _event_keys(wh.event_months())
    new = f" ({len(todo.new)} new: {', '.join(todo.new)})" if todo.new else ""
    logger.info(
        "run %s: %d ticker(s)%s from %s%s", run_id, len(universe), new, source.name, f", as of {as_of}" if as_of else ""
    )
    fetches, failed, unreachable = _fetch(source, universe, stored.prices, todo.fetch_whole, as_of)
    report_progress("validate")
    ingest = ingested(stored.prices, fetches)
    if todo.rewinding:
        # Each history is rewritten whole, so the sessions after as_of go.
        ingest = dataclasses.replace(ingest, to_write=ingest.prices, replace_history=frozenset(universe))
    prices, invalid = validate_prices(ingest.prices, stored)
    failed |= invalid
    healthy = tuple(t for t in universe if t not in failed)
    record: dict[str, Any] = dict(
        run_id=run_id,
        started_at=started,
        source=source.name,
        tickers=tuple(universe),
        as_of=as_of,
        failed=failed,
        rows_ingested={t: ingest.rows_ingested.get(t, 0) for t in healthy},
        restated=ingest.restated,
    )
    if len(unreachable) == len(universe) and len(reasons := set(unreachable.values())) == 1:
        # One cause, the machine's network or the provider's address: said once.
        return _nothing_published(wh, record, f"every ticker failed: {reasons.pop()}", unreachable=source.name)
    if not healthy:
        return _nothing_published(wh, record, "every ticker failed")
    if todo.rewinding and failed:
        # A failed ticker would keep its later sessions beside the others' rewound ones.
        return _nothing_published(wh, record, f"a rewind needs every ticker, and {', '.join(failed)} failed")
    report_progress("study")
    try:
        update = compute_study(prices, stored, ingest.restated, params, as_of)
    except SurgewatchError as exc:
        return _nothing_published(wh, record, str(exc))
    logger.info("signal stats: %d (ticker, horizon) pair(s) computed, the rest as published", update.stats_recomputed)

    report_progress("alerts and publish")
    stored_alerts = wh.alerts()
    status = "partial" if failed else "published"
    run = RunRecord(status=status, **record | {"tickers": healthy})
    try:
        snapshot, ledger = publish(wh, run, ingest, update, stored_alerts, stored.last_sessions, settings)
    except SurgewatchError as exc:
        return _nothing_published(wh, record, str(exc))
    new_events = sorted(_event_keys(update.study.events) - known_events)
    report = RefreshReport(
        run_id,
        status,
        snapshot,
        dict(run.rows_ingested),
        failed,
        ingest.restated,
        new_events,
        alerts=[f"{r['ticker']} {r['month']:%Y-%m} {r['kind']}: {r['status']}" for r in ledger.iter_rows(named=True)],
        message=todo.note,
        migrations=wh.migrated,
    )
    _artifact(report)
    reach(Step.ARTIFACT)
    logger.info("published version %d (%s); new events: %s", snapshot, status, ", ".join(new_events) or "none")
    report_progress("done")
    return report


def _fetch(
    source: PriceSource, universe: list[str], stored: pl.DataFrame, whole: frozenset[str], as_of: dt.date | None
) -> tuple[list[Fetched], dict[str, str], dict[str, str]]:
    """Fetch every ticker, SURGEWATCH_FETCH_BATCH to a task; (fetches, failed: ticker →
    why, unreachable: ticker → why its provider's host was given up)."""
    logger = get_run_logger()
    tails = stored_tails(stored, whole=whole)
    size = load_settings().fetch_batch
    batches = [universe[i : i + size] for i in range(0, len(universe), size)]
    counter = Counter(len(universe))
    futures = [
        fetch_batch.submit(
            f"{batch[0]}…{batch[-1]}", source, batch, {t: tails[t] for t in batch if t in tails}, as_of, whole, counter
        )
        for batch in batches
    ]
    fetches: list[Fetched] = []
    failed: dict[str, str] = {}
    unreachable: dict[str, str] = {}
    for batch, future in zip(batches, futures):
        for ticker, outcome in zip(batch, future.result()):
            if isinstance(outcome, Fetched):
                fetches.append(outcome)
                continue
            failed[ticker] = str(outcome) if isinstance(outcome, SurgewatchError) else f"{ticker}: {outcome!r}"
            logger.error("%s", failed[ticker])
            if isinstance(outcome, UnreachableSource):
                unreachable[ticker] = outcome.reason
    return fetches, failed, unreachable


def _nothing_published(wh: Warehouse, record: dict, message: str, unreachable: str = "") -> RefreshReport:
    """Record a run that publishes nothing (its `runs` row only) and report it."""
    wh.record_run(RunRecord(status="failed", message=message, **record))
    get_run_logger().error("nothing published: %s", message)
    return RefreshReport(
        run_id=record["run_id"], status="failed", failed=record["failed"], message=message, unreachable=unreachable
    )


def _artifact(report: RefreshReport) -> None:
    lines = [
        f"# surgewatch refresh {report.run_id}",
        f"**{report.status}** as version **{report.snapshot_id}**",
        "",
        "| ticker | rows ingested | outcome |",
        "|---|---:|---|",
        *(
            f"| {t} | {n} | ok{' (history restated)' if t in report.restated else ''} |"
            for t, n in report.rows_ingested.items()
        ),
        *(f"| {t} | 0 | failed: {m} |" for t, m in report.failed.items()),
        "",
        f"New events: {', '.join(report.new_events) or 'none'}",
        f"Alerts: {', '.join(report.alerts) or 'none'}",
    ]
    create_markdown_artifact(
        "\n".join(lines), key="surgewatch-refresh", description="rows ingested, new events, version"
    )

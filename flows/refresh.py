"""The nightly refresh as a Prefect flow: plan → (fetch → validate → study, a chunk of
tickers at a time) → alerts and publish.

The flow only composes, retries, logs and publishes; what each step means lives in
sources/, schemas/, surgewatch.study, surgewatch.update and warehouse/.
"""

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from surgewatch.calendar import refuse_future
from surgewatch.errors import InputError, SurgewatchError, UnreachableSource
from surgewatch.faults import Step, reach
from surgewatch.flows.night import Night, read_stored
from surgewatch.flows.plan import Plan, Request, plan
from surgewatch.flows.tasks import Counter, compute_stats, compute_study, fetch_batch, publish, validate_prices
from surgewatch.progress import report_progress
from surgewatch.settings import Settings, load_settings
from surgewatch.sources import make_source
from surgewatch.sources.base import PriceSource
from surgewatch.sources.incremental import Fetched, stored_tails
from surgewatch.sources.ingested import ingested
from surgewatch.study import StudyParams
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
    known_events = _event_keys(wh.event_months())
    new = f" ({len(todo.new)} new: {', '.join(todo.new)})" if todo.new else ""
    logger.info(
        "run %s: %d ticker(s)%s from %s%s", run_id, len(universe), new, source.name, f", as of {as_of}" if as_of else ""
    )
    with Night() as night:
        try:
            _gather(night, wh, source, spans, todo, params, as_of)
        except SurgewatchError as exc:
            return _nothing_published(wh, _record(night, universe, run_id, started, source.name, as_of), str(exc))
        record = _record(night, universe, run_id, started, source.name, as_of)
        failed, unreachable = night.failed, night.unreachable
        if len(unreachable) == len(universe) and len(reasons := set(unreachable.values())) == 1:
            # One cause, the machine's network or the provider's address: said once.
            return _nothing_published(wh, record, f"every ticker failed: {reasons.pop()}", unreachable=source.name)
        if len(failed) == len(universe):
            return _nothing_published(wh, record, "every ticker failed")
        if todo.rewinding and failed:
            # A failed ticker would keep its later sessions beside the others' rewound ones.
            return _nothing_published(wh, record, f"a rewind needs every ticker, and {', '.join(failed)} failed")
        report_progress("signal stats")
        try:
            update = compute_stats(night.study())
        except SurgewatchError as exc:
            return _nothing_published(wh, record, str(exc))
        logger.info(
            "signal stats: %d (ticker, horizon) pair(s) computed, the rest as published", update.stats_recomputed
        )
        report_progress("alerts and publish")
        status = "partial" if failed else "published"
        run = RunRecord(status=status, **record | {"tickers": tuple(t for t in universe if t not in failed)})
        try:
            snapshot, ledger = publish(wh, run, night, update, wh.alerts(), night.since(), settings)
        except SurgewatchError as exc:
            return _nothing_published(wh, record, str(exc))
    new_events = sorted(_event_keys(update.study.events) - known_events)
    report = RefreshReport(
        run_id,
        status,
        snapshot,
        dict(run.rows_ingested),
        failed,
        tuple(night.restated),
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


def _gather(
    night: Night,
    wh: Warehouse,
    source: PriceSource,
    spans: pl.DataFrame,
    todo: Plan,
    params: StudyParams,
    as_of: dt.date | None,
) -> None:
    """Fetch, validate and study the universe chunk by chunk (see flows.night) into night.
    What a night starts from is read here and let go when the chunks are done."""
    stored = read_stored(wh, spans, todo, params)
    counter = Counter(len(todo.universe))
    for tickers, rows in stored.chunks(wh):
        fetches = _fetch(night, source, tickers, rows, todo.fetch_whole, as_of, counter)
        report_progress("validate")
        ingest = ingested(rows, fetches)
        if todo.rewinding:
            # Each history is rewritten whole, so the sessions after as_of go.
            ingest = dataclasses.replace(ingest, to_write=ingest.prices, replace_history=frozenset(tickers))
        prices, invalid = validate_prices(ingest.prices, rows, stored.incremental)
        night.failed |= invalid
        report_progress("study")
        update = compute_study(prices, stored, ingest.restated, params, as_of) if prices.height else None
        night.add(rows, ingest, update)


def _record(
    night: Night, universe: list[str], run_id: str, started: dt.datetime, source: str, as_of: dt.date | None
) -> dict[str, Any]:
    """The run row's fields, from what the night gathered."""
    return dict(
        run_id=run_id,
        started_at=started,
        source=source,
        tickers=tuple(universe),
        as_of=as_of,
        failed=night.failed,
        rows_ingested={t: night.rows_ingested.get(t, 0) for t in universe if t not in night.failed},
        restated=tuple(night.restated),
    )


def _fetch(
    night: Night,
    source: PriceSource,
    tickers: list[str],
    stored: pl.DataFrame,
    whole: frozenset[str],
    as_of: dt.date | None,
    counter: Counter,
) -> list[Fetched]:
    """Fetch the tickers, SURGEWATCH_FETCH_BATCH to a task; failures go to night."""
    logger = get_run_logger()
    tails = stored_tails(stored, whole=whole)
    size = load_settings().fetch_batch
    batches = [tickers[i : i + size] for i in range(0, len(tickers), size)]
    futures = [
        fetch_batch.submit(
            f"{batch[0]}…{batch[-1]}", source, batch, {t: tails[t] for t in batch if t in tails}, as_of, whole, counter
        )
        for batch in batches
    ]
    fetches: list[Fetched] = []
    for batch, future in zip(batches, futures):
        for ticker, outcome in zip(batch, future.result()):
            if isinstance(outcome, Fetched):
                fetches.append(outcome)
                continue
            night.failed[ticker] = str(outcome) if isinstance(outcome, SurgewatchError) else f"{ticker}: {outcome!r}"
            logger.error("%s", night.failed[ticker])
            if isinstance(outcome, UnreachableSource):
                night.unreachable[ticker] = outcome.reason
    return fetches


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

"""The nightly refresh as a Prefect flow: plan → (fetch → validate → study, a chunk of
tickers at a time) → alerts and publish.

The flow only composes, retries, logs and publishes; what each step means lives in
sources/, schemas/, surgewatch.study, surgewatch.study.update and warehouse/.
"""

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass, field
from collections.abc import Sequence

import polars as pl
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from surgewatch.core.calendar import refuse_future
from surgewatch.core.errors import InputError, SurgewatchError, UnreachableSource
from surgewatch.core.faults import Step, reach
from surgewatch.flows.night import Night, read_stored
from surgewatch.flows.plan import Plan, Request, plan
from surgewatch.flows.tasks import (
    Counter,
    compute_stats,
    compute_study,
    fetch_batch,
    publish,
    refresh_context,
    validate_prices,
    as_is,
)
from surgewatch.core.progress import report_progress
from surgewatch.core.settings import Settings, load_settings
from surgewatch.sources import make_source
from surgewatch.sources.base import PriceSource
from surgewatch.sources.incremental import Fetched, stored_tails
from surgewatch.sources.ingested import ingested
from surgewatch.core.params import StudyParams
from surgewatch.study.update import Update
from surgewatch.core.vocabulary import RunStatus
from surgewatch.warehouse import RefreshInProgress, RunRecord, Warehouse

EXIT_CODES = {"published": 0, "skipped": 0, "partial": 2, "failed": 1}
FLOW_TIMEOUT_SECONDS = 2 * 60 * 60


@dataclass(frozen=True)
class RefreshReport:
    """How a refresh ended: SPEC §4 exit code 0 (all healthy), 2 (some failed), 1 (nothing published)."""

    run_id: str
    status: RunStatus
    snapshot_id: int | None = None
    rows_ingested: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    restated: tuple[str, ...] = ()
    new_events: list[str] = field(default_factory=list)
    # Months whose close confirmed an event this run ("IWM 2026-04"): not new, but news.
    confirmed: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    message: str = ""
    # The provider whose host no ticker could reach, when that is why nothing was published.
    unreachable: str = ""
    # The schema migrations this run applied, each number → the version it became.
    migrations: dict[int, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def _event_keys(frame: pl.DataFrame) -> list[str]:
    """'IWM 2026-04' of each (ticker, month), in order (a whole history's events: in polars)."""
    keys = pl.concat_str(pl.col("ticker"), pl.lit(" "), pl.col("month").dt.strftime("%Y-%m"))
    return frame.select(keys.alias("key")).unique()["key"].sort().to_list()


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


@dataclass(frozen=True)
class Run:
    """What every step of one refresh shares."""

    wh: Warehouse
    settings: Settings
    source: PriceSource
    run_id: str
    started: dt.datetime
    as_of: dt.date | None
    params: StudyParams

    def record(self, night: Night, universe: Sequence[str], status: RunStatus, message: str | None = None) -> RunRecord:
        """The run's `runs` row: the universe asked, what failed and what was ingested."""
        return RunRecord(
            run_id=self.run_id,
            status=status,
            started_at=self.started,
            source=self.source.name,
            tickers=tuple(t for t in universe if t not in night.failed) if status != "failed" else tuple(universe),
            as_of=self.as_of,
            failed=night.failed,
            rows_ingested={t: night.rows_ingested.get(t, 0) for t in universe if t not in night.failed},
            restated=tuple(night.restated),
            message=message,
        )


class NothingPublished(Exception):
    """A refresh that ends without a version: why, and the provider no ticker reached."""

    def __init__(self, message: str, unreachable: str = ""):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Published:
    snapshot: int
    ledger: pl.DataFrame
    run: RunRecord


def _refresh(wh: Warehouse, settings: Settings, request: Request, run_id: str, started: dt.datetime) -> RefreshReport:
    run = Run(wh, settings, make_source(settings), run_id, started, request.as_of, StudyParams(settings.threshold))
    report_progress("read stored state")
    spans = wh.session_spans()
    last_sessions = dict(spans.select("ticker", "last_session").iter_rows())
    try:
        request = _with_rederived(run.source, last_sessions, request)
    except SurgewatchError as exc:  # the night's dividends could not be read: nothing is known safe to publish
        with Night() as night:
            return _nothing_published(run, night, Plan(universe=request.tickers), exc)
    todo = plan(last_sessions, request)
    if todo.refused:
        get_run_logger().error("refused: %s", todo.refused)
        return RefreshReport(run_id=run_id, status="failed", message=todo.refused)
    known_events = set(_event_keys(wh.event_months()))
    _announce(run, todo)
    with Night() as night:
        try:
            _gather(night, run, spans, todo)
            _check_publishable(night, run, todo)
            update = _signal_stats(night)
            published = _publish(run, night, todo, update)
        except (NothingPublished, SurgewatchError) as exc:
            return _nothing_published(run, night, todo, exc)
    return _report(run, todo, night, update, published, known_events)


def _with_rederived(source: PriceSource, last_sessions: dict[str, dt.date], request: Request) -> Request:
    """The request with the tickers whose stored history a bulk source rewrites tonight
    (sources.bulk.BulkSource.rederived): the plan reads those whole. Other sources: as is."""
    rederived = getattr(source, "rederived", None)
    if rederived is None or request.full or request.rewind:
        return request
    asked = {t: last_sessions[t] for t in request.tickers if t in last_sessions}
    return dataclasses.replace(request, rederive=rederived(asked, request.as_of))


def _announce(run: Run, todo: Plan) -> None:
    new = f" ({len(todo.new)} new: {', '.join(todo.new)})" if todo.new else ""
    as_of = f", as of {run.as_of}" if run.as_of else ""
    get_run_logger().info(
        "run %s: %d ticker(s)%s from %s%s", run.run_id, len(todo.universe), new, run.source.name, as_of
    )


def _check_publishable(night: Night, run: Run, todo: Plan) -> None:
    """NothingPublished when no version may come of the night's chunks."""
    failed, unreachable, universe = night.failed, night.unreachable, todo.universe
    if len(unreachable) == len(universe) and len(reasons := set(unreachable.values())) == 1:
        # One cause, the machine's network or the provider's address: said once.
        raise NothingPublished(f"every ticker failed: {reasons.pop()}", unreachable=run.source.name)
    if len(failed) == len(universe):
        # One cause for all (a bulk source's answer for the whole universe): said once.
        reasons = {message.removeprefix(f"{ticker}: ") for ticker, message in failed.items()}
        raise NothingPublished("every ticker failed" + (f": {reasons.pop()}" if len(reasons) == 1 else ""))
    if todo.rewinding and failed:
        # A failed ticker would keep its later sessions beside the others' rewound ones.
        raise NothingPublished(f"a rewind needs every ticker, and {', '.join(failed)} failed")


def _signal_stats(night: Night) -> Update:
    report_progress("signal stats")
    update = compute_stats(as_is(night.study()))
    get_run_logger().info(
        "signal stats: %d (ticker, horizon) pair(s) computed, the rest as published", update.stats_recomputed
    )
    return update


def _publish(run: Run, night: Night, todo: Plan, update: Update) -> Published:
    report_progress("alerts and publish")
    record = run.record(night, todo.universe, "partial" if night.failed else "published")
    context = refresh_context(run.wh, as_is(run.settings))
    snapshot, ledger = publish(
        run.wh,
        as_is(record),
        as_is(night),
        as_is(update),
        as_is(run.wh.alerts()),
        as_is(night.since()),
        as_is(run.settings),
        as_is(context),
    )
    return Published(snapshot, ledger, record)


def _report(
    run: Run, todo: Plan, night: Night, update: Update, published: Published, known_events: set[str]
) -> RefreshReport:
    new_events = sorted(set(_event_keys(update.study.events)) - known_events)
    report = RefreshReport(
        run_id=run.run_id,
        status=published.run.status,
        snapshot_id=published.snapshot,
        rows_ingested=dict(published.run.rows_ingested),
        failed=night.failed,
        restated=tuple(night.restated),
        new_events=new_events,
        confirmed=_event_keys(published.ledger.filter(pl.col("kind") == "confirmed")),
        alerts=[
            f"{r['ticker']} {r['month']:%Y-%m} {r['kind']}: {r['status']}"
            for r in published.ledger.iter_rows(named=True)
        ],
        message=todo.note,
        migrations=run.wh.migrated,
    )
    _artifact(report)
    reach(Step.ARTIFACT)
    get_run_logger().info(
        "published version %d (%s); new events: %s", published.snapshot, report.status, ", ".join(new_events) or "none"
    )
    report_progress("done")
    return report


def _gather(night: Night, run: Run, spans: pl.DataFrame, todo: Plan) -> None:
    """Fetch, validate and study the universe chunk by chunk (see flows.night) into night.
    What a night starts from is read here and let go when the chunks are done."""
    stored = read_stored(run.wh, spans, todo, run.params)
    counter = Counter(len(todo.universe))
    for tickers, rows in stored.chunks(run.wh):
        fetches = _fetch(night, run, tickers, rows, todo, counter)
        report_progress("validate")
        ingest = ingested(rows, fetches)
        if todo.rewinding:
            # Each history is rewritten whole, so the sessions after as_of go.
            ingest = dataclasses.replace(ingest, to_write=ingest.prices, replace_history=frozenset(tickers))
        prices, invalid = validate_prices(as_is(ingest.prices), as_is(rows), as_is(stored.incremental))
        night.failed |= invalid
        report_progress("study")
        update = (
            compute_study(as_is(prices), as_is(stored), as_is(ingest.restated), run.params, run.as_of)
            if prices.height
            else None
        )
        night.add(rows, ingest, update)


def _fetch(
    night: Night, run: Run, tickers: list[str], stored: pl.DataFrame, todo: Plan, counter: Counter
) -> list[Fetched]:
    """Fetch the tickers, SURGEWATCH_FETCH_BATCH to a task; failures go to night. The
    source sees each ticker's overlap window, or all its stored rows when it fetches or
    rewrites the whole history."""
    logger = get_run_logger()
    # The stage starts here, not at the first ticker done: a batch read answers all at once.
    report_progress("fetch", counter.done, counter.total)
    refetch = todo.fetch_whole
    tails = stored_tails(stored, whole=refetch | todo.rederive)
    size = run.settings.fetch_batch
    batches = [tickers[i : i + size] for i in range(0, len(tickers), size)]
    futures = [
        fetch_batch.submit(
            f"{batch[0]}…{batch[-1]}",
            run.source,
            as_is(batch),
            as_is({t: tails[t] for t in batch if t in tails}),
            run.as_of,
            as_is(refetch),
            counter,
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


def _nothing_published(run: Run, night: Night, todo: Plan, why: NothingPublished | SurgewatchError) -> RefreshReport:
    """Record a run that publishes nothing (its `runs` row only) and report it."""
    message = str(why)
    run.wh.record_run(run.record(night, todo.universe, "failed", message))
    get_run_logger().error("nothing published: %s", message)
    unreachable = why.unreachable if isinstance(why, NothingPublished) else ""
    return RefreshReport(
        run_id=run.run_id, status="failed", failed=night.failed, message=message, unreachable=unreachable
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

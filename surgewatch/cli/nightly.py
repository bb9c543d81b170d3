"""The nightly job and what it produces: refresh, report, serve."""

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional, get_args

import typer

from surgewatch.core.errors import InputError, SurgewatchError
from surgewatch.core.tickers import normalize_ticker, parse_tickers

from surgewatch.cli.app import app, in_flags
from surgewatch.cli.options import parse_date, listing

# The README's first-command section runs this on a machine without internet.
OFFLINE_REFRESH = (
    'SURGEWATCH_SOURCE=csv SURGEWATCH_CSV_DIR=../shared/data/prices make refresh ARGS="--as-of 2026-07-31"'
)


@app.command(
    epilog="Example: SURGEWATCH_SOURCE=csv SURGEWATCH_CSV_DIR=../shared/data/prices surgewatch refresh --tickers IWM,SPY --as-of 2026-07-31"
)
def refresh(
    tickers: Annotated[
        Optional[str], typer.Option(help="Comma-separated symbols (default: SURGEWATCH_TICKERS).")
    ] = None,
    as_of: Annotated[
        Optional[str], typer.Option("--as-of", help="Ignore data after this date: replay a past night.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Fetch every ticker's full history.")] = False,
    rewind: Annotated[
        bool,
        typer.Option(
            "--rewind", help="Allow an --as-of before the stored sessions: republish every ticker as of that date."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only failures; the exit code tells the rest.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's report as one JSON object.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs and the rows ingested per ticker.")
    ] = False,
) -> None:
    """One run of the nightly flow: ingest → transform → validate → publish → alert.

    Exit 0: published, every ticker healthy; 2: published the healthy tickers, some
    failed (named); 1: nothing published. A run that finds another one writing skips
    without writing and exits 0.
    """
    try:
        report = _run_refresh(tickers, as_of, full, rewind, quiet=quiet, as_json=as_json, verbose=verbose)
    except SurgewatchError as exc:
        # Exit 2 means "published, some tickers failed" here, so a run that could not
        # even start (settings, warehouse) says 1: nothing published.
        typer.echo(f"error: {in_flags(str(exc))}", err=True)
        raise typer.Exit(1) from None
    _print_refresh(report, quiet=quiet, as_json=as_json, verbose=verbose)
    raise typer.Exit(report.exit_code)


def _run_refresh(
    tickers: str | None, as_of: str | None, full: bool, rewind: bool, *, quiet: bool, as_json: bool, verbose: bool
):
    import contextlib
    import os

    from surgewatch.core.calendar import refuse_future
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    settings = load_settings()
    symbols = parse_tickers(tickers) if tickers else list(settings.tickers)
    cutoff = parse_date(as_of)
    # Refused here, in one line, before the seconds Prefect takes to start.
    refuse_future(cutoff)
    Warehouse.check_writable(settings)
    bar = sys.stderr.isatty() and not (quiet or as_json or verbose)
    # Set before Prefect is imported (it reads them then), and inherited by the temporary
    # server it may start. Whatever the user set stays.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's 20 s for its temporary server to start is too short on a busy machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if not verbose:
        # Only surgewatch's own lines on the terminal (its report names every failure);
        # Prefect's run logs still reach its API and UI. Libraries' warnings (e.g. a
        # pandas PerformanceWarning inside exchange_calendars) go the same way.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        logging.captureWarnings(True)
    from surgewatch.flows.server import local_server, running_server, temporary_server

    # A server that answers spares starting one for this run; else one starts now, before
    # Prefect is imported here, so that it starts while the flow's modules import (see
    # flows.server). Only PREFECT_API_URL in a Prefect profile needs Prefect to be read:
    # then the temporary server, started for nothing, stops again.
    quick = os.environ.get("PREFECT_API_URL") or local_server()
    with contextlib.ExitStack() as stack:
        server = None if quick else stack.enter_context(temporary_server())
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        api = running_server()
        if api and server is not None:
            server.stop()
            server = None
        from surgewatch.flows.refresh import refresh as refresh_flow
        from surgewatch.core.progress import ProgressBar, RetryLines

        # Retries show on the bar; without one, as lines (--verbose shows them among Prefect's logs).
        lines = not (bar or quiet or verbose)
        chosen = {PREFECT_API_URL: api if server is None else server.ready()}
        if PREFECT_FLOWS_HEARTBEAT_FREQUENCY.name not in os.environ:
            # Heartbeats let the server mark a deployment's dead run Crashed (flows.heartbeats);
            # this run's user watches it end. Prefect's default beat (180 s) would outlast the
            # automation's 90 s, and its end waits up to 1 s for the heartbeat thread.
            chosen[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
        stack.enter_context(temporary_settings(chosen))
        with ProgressBar(enabled=bar), RetryLines(lines):
            return refresh_flow(tickers=symbols, as_of=cutoff, full=full, rewind=rewind)


def _print_refresh(report, *, quiet: bool, as_json: bool, verbose: bool) -> None:
    import dataclasses
    import json

    if as_json:
        document = {**dataclasses.asdict(report), "message": in_flags(report.message), "exit_code": report.exit_code}
        typer.echo(json.dumps(document, indent=2, default=str))
        return
    if report.unreachable:
        # Every ticker failed for this one reason: said once, with the ways around it.
        typer.echo(f"nothing published: {in_flags(report.message)}. {_ways_around(report.unreachable)}", err=True)
        return
    for message in report.failed.values():
        typer.echo(f"failed: {message}", err=True)
    if report.status == "skipped":
        typer.echo(f"skipped: {in_flags(report.message)}", err=True)
    elif report.snapshot_id is None:
        typer.echo(f"nothing published: {in_flags(report.message)}", err=True)
    elif not quiet:
        if verbose:
            for ticker, rows in report.rows_ingested.items():
                restated = " (history restated, re-fetched in full)" if ticker in report.restated else ""
                typer.echo(f"{ticker}: {rows} row(s) ingested{restated}")
        # One line for the universe, however large; the failures are named above.
        healthy = len(report.rows_ingested)
        failures = f", {len(report.failed)} failed ({listing(sorted(report.failed))})" if report.failed else ""
        restated = (
            f"; history restated and re-fetched in full: {listing(list(report.restated))}" if report.restated else ""
        )
        typer.echo(f"{sum(report.rows_ingested.values())} row(s) ingested for {healthy} ticker(s){failures}{restated}")
        if report.message:
            typer.echo(in_flags(report.message))
        typer.echo(
            f"{_migrated(report.migrations)}published version {report.snapshot_id} (run {report.run_id}); "
            f"new events: {listing(report.new_events)}"
            + (f"; confirmed: {listing(report.confirmed)}" if report.confirmed else "")
        )
        if report.alerts:
            typer.echo(f"alerts: {', '.join(report.alerts)}")


def _migrated(migrations: dict[int, int]) -> str:
    """'versions 1–4 created the tables; ' on a new warehouse: why its first run is not version 1."""
    if not migrations:
        return ""
    first, last = min(migrations.values()), max(migrations.values())
    span = f"version {first}" if first == last else f"versions {first}–{last}"
    done = "created the tables" if 1 in migrations else f"upgraded the tables to schema version {max(migrations)}"
    return f"{span} {done}; "


def _ways_around(provider: str) -> str:
    """What to do when the provider cannot be reached from this machine."""
    from surgewatch.core.settings import Source, env_name

    others = " or ".join(s for s in get_args(Source) if s not in (provider, "csv"))
    return (
        f"Without internet, run on the csv source: {OFFLINE_REFRESH}; "
        f"or point {env_name(f'{provider}_url')} at a mirror; or choose another provider: {env_name('source')}={others}"
    )


@app.command(
    epilog="Example: surgewatch report --out report.html --published ../shared/data/reference/published_table.csv --since 2026-01-01"
)
def report(
    out: Annotated[Path, typer.Option(help="Where to write the HTML file.")] = Path("report.html"),
    published: Annotated[
        Optional[Path],
        typer.Option(
            help="Published event table to audit (month,move_pct,fwd_<h>m_pct…); published_summary.csv beside it is used too."
        ),
    ] = None,
    published_ticker: Annotated[
        Optional[str],
        typer.Option(help="Ticker the published table is about (default: the first of SURGEWATCH_TICKERS)."),
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option(
            help="Start of the relative-performance chart (YYYY-MM-DD; default: a year before the last session)."
        ),
    ] = None,
    vs: Annotated[
        Optional[str], typer.Option("--vs", help="A stored ticker to set the others against (SPEC §2d), e.g. SPY.")
    ] = None,
    when: Annotated[
        Optional[str],
        typer.Option(
            help='Split each ticker\'s events by this condition in the context section (default "prior_drawdown <= -0.10"), '
            'e.g. "SPY.prior_drawdown <= -0.10" or "fedfunds_chg_3m < 0".'
        ),
    ] = None,
) -> None:
    """A self-contained HTML report: event tables, charts, the published audit, lineage."""
    from surgewatch.reports import build_report, load_published_audit, load_report_data
    from surgewatch.reports.context import CORRECTION, report_condition
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    settings = load_settings()
    start = parse_date(since, "--since")
    with Warehouse.open(settings, read_only=True) as wh:
        data = load_report_data(wh)
        audit = load_published_audit(wh, published_ticker or settings.tickers[0], published) if published else None
    benchmark = None if vs is None else normalize_ticker(vs)
    if benchmark is not None and benchmark not in data.tickers:
        raise InputError(f"--vs {benchmark} is not in the warehouse (it holds {', '.join(data.tickers)})")
    condition = CORRECTION if when is None else report_condition(when, data)
    out.write_text(build_report(data, since=start, published=audit, vs=benchmark, when=condition), encoding="utf-8")
    typer.echo(f"wrote {out} (data through {data.last_session})")


@app.command(
    epilog="Example: surgewatch serve   (leave it running; the refresh runs at 22:30 New York time, Monday to Friday)"
)
def serve() -> None:
    """Keep the nightly schedule running on this machine (starts or connects to a Prefect server)."""
    from surgewatch.flows.schedule import serve_nightly

    serve_nightly(lambda line: typer.echo(line, err=True))

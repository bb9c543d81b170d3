"""The `surgewatch` command: a thin shell over the library functions.

Every expected failure is a SurgewatchError, printed as one line on stderr with a
non-zero exit; a traceback means a bug.
"""

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import polars as pl
import typer

from surgewatch.errors import InputError, SurgewatchError, WarehouseError
from surgewatch.settings import load_settings
from surgewatch.output import render_rows, render_study, study_document
from surgewatch.study import StudyParams, parse_horizons, run_study
from surgewatch.tickers import normalize_ticker, parse_tickers

app = typer.Typer(
    help="What usually happens after a month like this? Month-end surge signals and their forward returns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]


def parse_date(raw: str | None, option: str = "--as-of") -> dt.date | None:
    """ISO date or None; InputError naming the option otherwise."""
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{option}: not a date (YYYY-MM-DD): {raw!r}") from None


def parse_threshold(raw: str) -> float:
    """A positive fraction such as 0.10."""
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--threshold: not a number: {raw!r}") from None
    if not value > 0 or value != value:
        raise InputError(f"--threshold must be > 0 (a fraction, 0.10 for 10%), got {raw}")
    return value


def parse_format(raw: str) -> str:
    if raw not in ("table", "csv", "json"):
        raise InputError(f"--format must be table, csv or json, got {raw!r}")
    return raw


def load_prices(ticker: str, prices: Path | None) -> pl.DataFrame:
    """Daily prices of one ticker from a CSV file, or from the warehouse."""
    if prices is not None:
        from surgewatch.sources.csv_files import read_price_csv

        return read_price_csv(prices, ticker)
    from surgewatch.warehouse import Warehouse

    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.prices([ticker])
        if frame.is_empty():
            held = wh.sql("SELECT DISTINCT ticker FROM prices_daily ORDER BY 1")["ticker"].to_list()
            raise InputError(
                f"{ticker} is not in the warehouse (it holds {', '.join(held) or 'no tickers'}); "
                "add it with `surgewatch refresh --tickers` or pass --prices FILE.csv"
            )
    return frame


def _listing(items: list[str], most: int = 8) -> str:
    """'a, b, c' — or the first `most` and how many more, so a first load stays readable."""
    if not items:
        return "none"
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else f"{len(items)}: {shown} and {len(items) - most} more"


def parse_snapshot(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise InputError(f"a version is a whole number (see `surgewatch versions`), got {raw!r}")
    return int(raw)


@app.command(
    epilog="Example: surgewatch study --ticker IWM --prices ../shared/data/prices/IWM.csv --as-of 2026-07-31 --format json"
)
def study(
    ticker: Annotated[str, typer.Option(help="Symbol, e.g. IWM.")],
    prices: Annotated[Optional[Path], typer.Option(help="CSV with date,open,high,low,close,adj_close,volume; without it, the warehouse.")] = None,
    threshold: Annotated[str, typer.Option(help="Move that qualifies, as a fraction.")] = "0.10",
    direction: Annotated[str, typer.Option(help="up (move >= threshold) or down (move <= -threshold).")] = "up",
    horizons: Annotated[str, typer.Option(help="Forward horizons in months, comma separated.")] = "1,3,6,12",
    basis: Annotated[str, typer.Option(help="price (close) or total (adj_close, dividends reinvested).")] = "price",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ignore data after this date (YYYY-MM-DD).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The event table and its summary and baseline for one ticker (SPEC §2)."""
    symbol = normalize_ticker(ticker)
    params = StudyParams(
        threshold=parse_threshold(threshold),
        direction=direction,  # type: ignore[arg-type]
        horizons=parse_horizons(horizons),
        basis=basis,  # type: ignore[arg-type]
    )
    fmt, cutoff = parse_format(fmt), parse_date(as_of)
    result = run_study(load_prices(symbol, prices), params, as_of=cutoff)
    if not result.missing_sessions.is_empty():
        days = result.missing_sessions["date"]
        typer.echo(f"warning: {symbol} lacks {len(days)} NYSE session(s) inside its data, e.g. {days[0]}", err=True)
    typer.echo(render_study(study_document(result, symbol), fmt))  # type: ignore[arg-type]


@app.command(
    "check-published",
    epilog="Example: surgewatch check-published --ticker IWM --table ../shared/data/reference/published_table.csv --prices ../shared/data/prices/IWM.csv",
)
def check_published(
    ticker: Annotated[str, typer.Option(help="Symbol the table is about.")],
    table: Annotated[Path, typer.Option(help="Published table: month,move_pct,fwd_<h>m_pct…")],
    prices: Annotated[Optional[Path], typer.Option(help="CSV of daily prices; without it, the warehouse.")] = None,
    summary: Annotated[Optional[Path], typer.Option(help="Published summary (default: published_summary.csv beside the table, if any).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Every published cell beside the computed one; exit 1 when any differs by more than 0.05 pp."""
    from surgewatch.published import HEADER_AUDIT, TOLERANCE_PP, audit_published, published_summary_beside

    symbol, fmt = normalize_ticker(ticker), parse_format(fmt)
    audit = audit_published(load_prices(symbol, prices), table, summary or published_summary_beside(table))
    typer.echo(render_rows(HEADER_AUDIT, audit.rows, fmt, title=f"{symbol}: published vs computed (tolerance {TOLERANCE_PP} pp)"))  # type: ignore[arg-type]
    if audit.flagged:
        typer.echo(f"{audit.flagged} difference(s) flagged", err=True)
        raise typer.Exit(1)


@app.command(
    epilog="Example: SURGEWATCH_SOURCE=csv SURGEWATCH_CSV_DIR=../shared/data/prices surgewatch refresh --tickers IWM,SPY --as-of 2026-07-31"
)
def refresh(
    tickers: Annotated[Optional[str], typer.Option(help="Comma-separated symbols (default: SURGEWATCH_TICKERS).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ignore data after this date: replay a past night.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Fetch every ticker's full history.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only failures; the exit code tells the rest.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's report as one JSON object.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs instead of a progress bar.")] = False,
) -> None:
    """One run of the nightly flow: ingest → transform → validate → publish → alert.

    Exit 0: published, every ticker healthy; 2: published the healthy tickers, some
    failed (named); 1: nothing published. A run that finds another one writing skips
    without writing and exits 0.
    """
    try:
        report = _run_refresh(tickers, as_of, full, quiet=quiet, as_json=as_json, verbose=verbose)
    except SurgewatchError as exc:
        # Exit 2 means "published, some tickers failed" here, so a run that could not
        # even start (settings, warehouse) says 1: nothing published.
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _print_refresh(report, quiet=quiet, as_json=as_json)
    raise typer.Exit(report.exit_code)


def _run_refresh(tickers: str | None, as_of: str | None, full: bool, *, quiet: bool, as_json: bool, verbose: bool):
    import os

    settings = load_settings()
    symbols = parse_tickers(tickers) if tickers else list(settings.tickers)
    cutoff = parse_date(as_of)
    bar = sys.stderr.isatty() and not (quiet or as_json or verbose)
    if not verbose and (quiet or as_json or bar):
        # Prefect's run logs still reach its API and UI; only the terminal is spared.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    from surgewatch.flows.refresh import refresh as refresh_flow
    from surgewatch.progress import ProgressBar

    with ProgressBar(enabled=bar):
        return refresh_flow(tickers=symbols, as_of=cutoff, full=full)


def _print_refresh(report, *, quiet: bool, as_json: bool) -> None:
    import dataclasses
    import json

    if as_json:
        typer.echo(json.dumps({**dataclasses.asdict(report), "exit_code": report.exit_code}, indent=2, default=str))
        return
    for message in report.failed.values():
        typer.echo(f"failed: {message}", err=True)
    if report.status == "skipped":
        typer.echo(f"skipped: {report.message}", err=True)
    elif report.snapshot_id is None:
        typer.echo(f"nothing published: {report.message}", err=True)
    elif not quiet:
        for ticker, rows in report.rows_ingested.items():
            restated = " (history restated, re-fetched in full)" if ticker in report.restated else ""
            typer.echo(f"{ticker}: {rows} row(s) ingested{restated}")
        typer.echo(f"published version {report.snapshot_id} (run {report.run_id}); new events: {_listing(report.new_events)}")
        if report.alerts:
            typer.echo(f"alerts: {', '.join(report.alerts)}")


@app.command(epilog='Example: surgewatch sql "SELECT ticker, month, move FROM signal_events ORDER BY move DESC LIMIT 5"')
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query; tables: prices_daily, month_end, signal_events, signal_summary, runs, alerts.")],
    snapshot: Annotated[Optional[str], typer.Option(help="Query the warehouse as of this version (see `surgewatch versions`).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Read-only SQL against the warehouse, optionally as of an earlier version."""
    from surgewatch.warehouse import Warehouse

    fmt, version, settings = parse_format(fmt), parse_snapshot(snapshot), load_settings()
    with Warehouse.open(settings, read_only=True) as wh:
        try:
            frame = wh.sql(query, snapshot=version)
        except WarehouseError:
            expired = _expired_version(wh, version, settings.keep_days)
            if expired is None:
                raise
            raise WarehouseError(expired) from None
    typer.echo(render_rows(frame.columns, frame.rows(), fmt))  # type: ignore[arg-type]


def _expired_version(wh, version: int | None, keep_days: int) -> str | None:
    """Why `--snapshot N` found no version N, when upkeep expired it."""
    from surgewatch.warehouse.catalog import ALIAS
    from surgewatch.warehouse.upkeep import expired_version

    if version is None:
        return None
    oldest = wh.sql(f"SELECT min(snapshot_id) AS oldest FROM {ALIAS}.snapshots()")["oldest"][0]
    return expired_version(oldest, version, keep_days)


@app.command(epilog="Example: surgewatch upkeep --keep-days 30 --dry-run")
def upkeep(
    keep_days: Annotated[Optional[int], typer.Option("--keep-days", help="Keep versions younger than this many days (default: SURGEWATCH_KEEP_DAYS).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be reclaimed; change nothing.")] = False,
) -> None:
    """Expire versions older than the retention, merge small files, delete files no version uses."""
    from surgewatch.warehouse.upkeep import upkeep as run_upkeep

    typer.echo(run_upkeep(load_settings(), keep_days=keep_days, dry_run=dry_run).summary())


@app.command(epilog="Example: surgewatch shell   (then: SELECT * FROM signal_events;)")
def shell() -> None:
    """The DuckDB shell with the warehouse attached (read-only)."""
    import os

    from surgewatch.warehouse import Warehouse

    with Warehouse.open(load_settings(), read_only=True) as wh:
        argv = wh.shell_command()
    os.execv(argv[0], argv)


@app.command(epilog="Example: surgewatch versions --format json")
def versions(fmt: FormatOpt = "table") -> None:
    """Published versions: id, time, run, what changed."""
    from surgewatch.warehouse import Warehouse

    fmt = parse_format(fmt)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.versions()
    typer.echo(render_rows(frame.columns, frame.rows(), fmt))  # type: ignore[arg-type]


@app.command(epilog="Example: surgewatch diff 3 4")
def diff(
    a: Annotated[str, typer.Argument(help="The older version.")],
    b: Annotated[str, typer.Argument(help="The newer version.")],
    fmt: FormatOpt = "table",
) -> None:
    """The rows of the result tables that differ between versions A and B."""
    from surgewatch.warehouse import Warehouse

    fmt = parse_format(fmt)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.diff(parse_snapshot(a), parse_snapshot(b))  # type: ignore[arg-type]
    typer.echo(render_rows(frame.columns, frame.rows(), fmt))  # type: ignore[arg-type]


@app.command(
    epilog="Example: surgewatch report --out report.html --published ../shared/data/reference/published_table.csv --since 2026-01-01"
)
def report(
    out: Annotated[Path, typer.Option(help="Where to write the HTML file.")] = Path("report.html"),
    published: Annotated[Optional[Path], typer.Option(help="Published event table to audit (month,move_pct,fwd_<h>m_pct…); published_summary.csv beside it is used too.")] = None,
    published_ticker: Annotated[Optional[str], typer.Option(help="Ticker the published table is about (default: the first of SURGEWATCH_TICKERS).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Start of the relative-performance chart (YYYY-MM-DD; default: a year before the last session).")] = None,
) -> None:
    """A self-contained HTML report: event tables, charts, the published audit, lineage."""
    from surgewatch.reports import build_report, load_published_audit, load_report_data
    from surgewatch.warehouse import Warehouse

    settings = load_settings()
    start = parse_date(since, "--since")
    with Warehouse.open(settings, read_only=True) as wh:
        data = load_report_data(wh)
        audit = load_published_audit(wh, published_ticker or settings.tickers[0], published) if published else None
    out.write_text(build_report(data, since=start, published=audit), encoding="utf-8")
    typer.echo(f"wrote {out} (data through {data.last_session})")


@app.command(epilog="Example: surgewatch serve   (leave it running; the refresh runs at 22:30 New York time, Monday to Friday)")
def serve() -> None:
    """Keep the nightly schedule running on this machine (starts or connects to a Prefect server)."""
    from surgewatch.flows.schedule import serve_nightly

    serve_nightly(lambda line: typer.echo(line, err=True))


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one-line errors, documented exit codes."""
    try:
        result = app(args=argv, standalone_mode=False)
    except SurgewatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return 130
    except click.exceptions.ClickException as exc:
        typer.echo(f"error: {exc.format_message()} (see --help)", err=True)
        return exc.exit_code
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The `surgewatch` command: a thin shell over the library functions.

Every expected failure is a SurgewatchError, printed as one line on stderr with a
non-zero exit; a traceback means a bug.
"""

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional, cast, get_args

import polars as pl
import typer
from typer._click import exceptions as click_errors  # the pinned typer raises its vendored click's

from surgewatch.errors import InputError, SurgewatchError, WarehouseError
from surgewatch.settings import check_threshold, load_settings
from surgewatch.documents import render_studies, study_document
from surgewatch.output import DIFF_HEADER, Format, diff_rows, render_rows
from surgewatch.study import MAX_RESAMPLES, StudyParams, StudyResult, parse_horizons, run_study
from surgewatch.tickers import normalize_ticker, parse_tickers
from surgewatch.vocabulary import DEFAULT_HORIZONS

app = typer.Typer(
    help="What usually happens after a month like this? Month-end surge signals and their forward returns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
    """A fraction such as 0.10; 10 is refused with a hint, not read as +1000%."""
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"--threshold: not a number: {raw!r}") from None
    try:
        return check_threshold(value)
    except ValueError as exc:
        raise InputError(f"--threshold {exc}") from None


def parse_count(raw: str, option: str, least: int, most: int | None = None) -> int:
    """A whole number in [least, most], e.g. --resamples 10000; InputError naming the option."""
    text = raw.strip()
    ok = text.isascii() and text.lstrip("-").isdigit()
    if not ok or int(text) < least or (most is not None and int(text) > most):
        bounds = f">= {least}" if most is None else f"from {least} to {most:,}"
        raise InputError(f"{option} must be a whole number {bounds}, got {raw!r}")
    return int(text)


def parse_format(raw: str) -> Format:
    if raw not in get_args(Format):
        raise InputError(f"--format must be table, csv or json, got {raw!r}")
    return cast(Format, raw)


def load_prices(tickers: str | list[str] | None, prices: Path | None) -> pl.DataFrame:
    """Daily prices of one ticker from a CSV file, or of some tickers (None: every
    ticker) from the warehouse."""
    symbols = [tickers] if isinstance(tickers, str) else tickers
    if prices is not None:
        from surgewatch.sources.csv_files import read_price_csv

        if symbols is None or len(symbols) != 1:
            named = "every ticker" if symbols is None else ", ".join(symbols)
            raise InputError(
                f"--prices holds one ticker's prices, not {named}: drop --prices to read the warehouse, or name one ticker"
            )
        return read_price_csv(prices, symbols[0])
    from surgewatch.warehouse import Warehouse

    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.prices(symbols)
        if symbols is None and frame.is_empty():
            raise InputError("the warehouse holds no prices yet; run `surgewatch refresh` or pass --prices FILE.csv")
        present = set(frame["ticker"].unique().to_list())
        missing = [s for s in symbols or [] if s not in present]
        if missing:
            held = wh.sql("SELECT DISTINCT ticker FROM prices_daily ORDER BY 1")["ticker"].to_list()
            raise InputError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the warehouse (it holds {', '.join(held) or 'no tickers'}); "
                "add it with `surgewatch refresh --tickers` or pass --prices FILE.csv"
            )
    return frame


def _listing(items: list[str], most: int = 8) -> str:
    """'a, b, c' — or the first `most` and how many more, so a first load stays readable."""
    if not items:
        return "none"
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else f"{len(items)}: {shown} and {len(items) - most} more"


def study_params(
    threshold: str | None, direction: str, horizons: str, basis: str, resamples: str = "10000", seed: str = "0"
) -> StudyParams:
    """The options every study-like command shares, parsed; the threshold defaults to the settings'."""
    return StudyParams(
        threshold=load_settings().threshold if threshold is None else parse_threshold(threshold),
        direction=direction,  # type: ignore[arg-type]  # StudyParams refuses anything but up/down, naming it
        horizons=parse_horizons(horizons),
        basis=basis,  # type: ignore[arg-type]  # StudyParams refuses anything but price/total, naming it
        resamples=parse_count(resamples, "--resamples", 1, MAX_RESAMPLES),
        seed=parse_count(seed, "--seed", 0),
    )


def warn_missing_sessions(result: StudyResult) -> None:
    for ticker, days in result.missing_sessions.group_by("ticker", maintain_order=True):
        typer.echo(
            f"warning: {ticker[0]} lacks {len(days)} NYSE session(s) inside its data, e.g. {days['date'][0]}", err=True
        )


def parse_snapshot(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise InputError(f"a version is a whole number (see `surgewatch versions`), got {raw!r}")
    return int(raw)


@app.command(
    epilog='Example: surgewatch study --ticker IWM --prices ../shared/data/prices/IWM.csv --as-of 2026-07-31 --when "prior_drawdown <= -0.10"'
)
def study(
    ticker: Annotated[
        str, typer.Option(help="Symbol, e.g. IWM; several comma separated (IWM,SPY,QQQ) from the warehouse.")
    ],
    prices: Annotated[
        Optional[Path],
        typer.Option(help="CSV with date,open,high,low,close,adj_close,volume; without it, the warehouse."),
    ] = None,
    threshold: Annotated[
        Optional[str],
        typer.Option(help="Move that qualifies, as a fraction (default: SURGEWATCH_THRESHOLD, else 0.10)."),
    ] = None,
    direction: Annotated[str, typer.Option(help="up (move >= threshold) or down (move <= -threshold).")] = "up",
    horizons: Annotated[str, typer.Option(help="Forward horizons in months, comma separated.")] = ",".join(
        map(str, DEFAULT_HORIZONS)
    ),
    basis: Annotated[str, typer.Option(help="price (close) or total (adj_close, dividends reinvested).")] = "price",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ignore data after this date (YYYY-MM-DD).")] = None,
    when: Annotated[
        Optional[str],
        typer.Option(help='Split the events by a condition, e.g. "prior_drawdown <= -0.10 and up_share > 0.6".'),
    ] = None,
    resamples: Annotated[
        str,
        typer.Option(help="Resamples B behind every p-value and interval (bootstrap, random months, permutations)."),
    ] = "10000",
    seed: Annotated[str, typer.Option(help="Seed of those resamples: same inputs and seed, same figures.")] = "0",
    fmt: FormatOpt = "table",
) -> None:
    """The event table, its summary and baseline, and how sure that history is, per ticker (SPEC §2, §2b, §2c)."""
    from surgewatch.conditional import conditional_study
    from surgewatch.conditions import parse_condition

    symbols = parse_tickers(ticker)
    params = study_params(threshold, direction, horizons, basis, resamples, seed)
    fmt, cutoff = parse_format(fmt), parse_date(as_of)
    condition = parse_condition(when) if when is not None else None
    result = run_study(load_prices(symbols, prices), params, as_of=cutoff)
    warn_missing_sessions(result)
    documents = [
        study_document(
            result, s, conditional_study(result, s, condition, params.resamples, params.seed) if condition else None
        )
        for s in symbols
    ]
    typer.echo(render_studies(documents, fmt))


@app.command(
    epilog="Example: surgewatch analogs --ticker IWM --prices ../shared/data/prices/IWM.csv --as-of 2026-04-20"
)
def analogs(
    ticker: Annotated[str, typer.Option(help="Symbol whose month to match, e.g. IWM.")],
    month: Annotated[
        Optional[str], typer.Option(help="Month to match, YYYY-MM (default: the latest in the data, complete or not).")
    ] = None,
    top: Annotated[str, typer.Option(help="How many nearest events to list.")] = "5",
    universe: Annotated[
        bool, typer.Option("--universe", help="Candidates from every ticker in the warehouse, not only this one.")
    ] = False,
    prices: Annotated[
        Optional[Path],
        typer.Option(help="CSV with date,open,high,low,close,adj_close,volume; without it, the warehouse."),
    ] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ignore data after this date (YYYY-MM-DD).")] = None,
    threshold: Annotated[
        Optional[str],
        typer.Option(
            help="Move that qualifies a candidate event, as a fraction (default: SURGEWATCH_THRESHOLD, else 0.10)."
        ),
    ] = None,
    direction: Annotated[str, typer.Option(help="up (move >= threshold) or down (move <= -threshold).")] = "up",
    horizons: Annotated[str, typer.Option(help="Forward horizons in months, comma separated.")] = ",".join(
        map(str, DEFAULT_HORIZONS)
    ),
    basis: Annotated[str, typer.Option(help="price (close) or total (adj_close, dividends reinvested).")] = "price",
    fmt: FormatOpt = "table",
) -> None:
    """The past events nearest to a month on move, prior drawdown, prior 12 months and up share (SPEC §2c)."""
    from surgewatch.analogs import analogs_document, find_analogs, parse_month, render_analogs

    symbol = normalize_ticker(ticker)
    params = study_params(threshold, direction, horizons, basis)
    fmt, cutoff, target = parse_format(fmt), parse_date(as_of), parse_month(month)
    count = parse_count(top, "--top", 1)
    if universe and prices is not None:
        raise InputError(
            "--universe compares with every ticker in the warehouse: drop --prices (a file holds one ticker)"
        )
    frame = load_prices(None if universe else [symbol], prices)
    if universe and symbol not in frame["ticker"].unique().to_list():
        raise InputError(f"{symbol} is not in the warehouse; add it with `surgewatch refresh --tickers {symbol}`")
    result = run_study(frame, params, as_of=cutoff)
    warn_missing_sessions(result)
    found = find_analogs(result, symbol, target, count, universe)
    typer.echo(render_analogs(analogs_document(found), params.horizons, fmt))


@app.command(
    "check-published",
    epilog="Example: surgewatch check-published --ticker IWM --table ../shared/data/reference/published_table.csv --prices ../shared/data/prices/IWM.csv",
)
def check_published(
    ticker: Annotated[str, typer.Option(help="Symbol the table is about.")],
    table: Annotated[Path, typer.Option(help="Published table: month,move_pct,fwd_<h>m_pct…")],
    prices: Annotated[Optional[Path], typer.Option(help="CSV of daily prices; without it, the warehouse.")] = None,
    summary: Annotated[
        Optional[Path],
        typer.Option(help="Published summary (default: published_summary.csv beside the table, if any)."),
    ] = None,
    flagged_only: Annotated[bool, typer.Option("--flagged-only", help="Show only the flagged rows.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Every published cell beside the computed one, in percent (study prints fractions);
    exit 1 when any differs by more than 0.05 pp."""
    from surgewatch.published import HEADER_AUDIT, TOLERANCE_PP, audit_published, published_summary_beside

    symbol, fmt = normalize_ticker(ticker), parse_format(fmt)
    audit = audit_published(load_prices(symbol, prices), table, summary or published_summary_beside(table))
    rows = [r for r in audit.rows if r[-1]] if flagged_only else audit.rows
    title = f"{symbol}: published vs computed, in percent (`study` prints fractions); tolerance {TOLERANCE_PP} pp"
    typer.echo(render_rows(HEADER_AUDIT, rows, fmt, title=title))
    if audit.flagged:
        typer.echo(f"{audit.flagged} difference(s) flagged", err=True)
        raise typer.Exit(1)


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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _print_refresh(report, quiet=quiet, as_json=as_json, verbose=verbose)
    raise typer.Exit(report.exit_code)


def _run_refresh(
    tickers: str | None, as_of: str | None, full: bool, rewind: bool, *, quiet: bool, as_json: bool, verbose: bool
):
    import os

    settings = load_settings()
    symbols = parse_tickers(tickers) if tickers else list(settings.tickers)
    cutoff = parse_date(as_of)
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
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from surgewatch.flows.refresh import refresh as refresh_flow
    from surgewatch.flows.schedule import running_server
    from surgewatch.progress import ProgressBar

    # A server that answers spares the 4–6 s of starting a temporary one for this run.
    api = running_server()
    with temporary_settings({PREFECT_API_URL: api} if api else {}), ProgressBar(enabled=bar):
        return refresh_flow(tickers=symbols, as_of=cutoff, full=full, rewind=rewind)


def _print_refresh(report, *, quiet: bool, as_json: bool, verbose: bool) -> None:
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
        if verbose:
            for ticker, rows in report.rows_ingested.items():
                restated = " (history restated, re-fetched in full)" if ticker in report.restated else ""
                typer.echo(f"{ticker}: {rows} row(s) ingested{restated}")
        # One line for the universe, however large; the failures are named above.
        healthy = len(report.rows_ingested)
        failures = f", {len(report.failed)} failed ({_listing(sorted(report.failed))})" if report.failed else ""
        restated = (
            f"; history restated and re-fetched in full: {_listing(list(report.restated))}" if report.restated else ""
        )
        typer.echo(f"{sum(report.rows_ingested.values())} row(s) ingested for {healthy} ticker(s){failures}{restated}")
        if report.message:
            typer.echo(report.message)
        typer.echo(
            f"published version {report.snapshot_id} (run {report.run_id}); new events: {_listing(report.new_events)}"
        )
        if report.alerts:
            typer.echo(f"alerts: {', '.join(report.alerts)}")


@app.command(
    epilog='Example: surgewatch sql "SELECT ticker, month, move FROM signal_events ORDER BY move DESC LIMIT 5"'
)
def sql(
    query: Annotated[
        str,
        typer.Argument(
            help="A read-only SQL query; tables: prices_daily, month_end, signal_events, signal_summary, signal_stats, runs, alerts."
        ),
    ],
    snapshot: Annotated[
        Optional[str], typer.Option(help="Query the warehouse as of this version (see `surgewatch versions`).")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Read-only SQL against the warehouse, optionally as of an earlier version."""
    from surgewatch.warehouse import Warehouse

    fmt, version, settings = parse_format(fmt), parse_snapshot(snapshot), load_settings()
    if not query.strip(" \t\r\n;"):
        raise InputError('sql: the query is empty; e.g. surgewatch sql "SELECT * FROM signal_events LIMIT 5"')
    with Warehouse.open(settings, read_only=True) as wh:
        try:
            frame = wh.sql(query, snapshot=version)
        except WarehouseError:
            expired = _expired_version(wh, version, settings.keep_days)
            if expired is None:
                raise
            raise WarehouseError(expired) from None
    if not frame.width:
        raise InputError("sql: the query returned no result (only comments, or a statement without rows)")
    typer.echo(render_rows(frame.columns, frame.rows(), fmt))


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
    keep_days: Annotated[
        Optional[int],
        typer.Option("--keep-days", help="Keep versions younger than this many days (default: SURGEWATCH_KEEP_DAYS)."),
    ] = None,
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
    typer.echo(render_rows(frame.columns, frame.rows(), fmt))


@app.command(epilog="Example: surgewatch diff 3 4")
def diff(
    a: Annotated[str, typer.Argument(help="The older version.")],
    b: Annotated[str, typer.Argument(help="The newer version.")],
    fmt: FormatOpt = "table",
) -> None:
    """What changed between versions A and B: per row key, each field old → new."""
    from surgewatch.warehouse import Warehouse

    from surgewatch.warehouse.schema import KEYS

    fmt = parse_format(fmt)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.diff(parse_snapshot(a), parse_snapshot(b))  # type: ignore[arg-type]  # an argument is never None
    typer.echo(render_rows(DIFF_HEADER, diff_rows(frame, KEYS, fmt), fmt))


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


@app.command(
    epilog="Example: surgewatch serve   (leave it running; the refresh runs at 22:30 New York time, Monday to Friday)"
)
def serve() -> None:
    """Keep the nightly schedule running on this machine (starts or connects to a Prefect server)."""
    from surgewatch.flows.schedule import serve_nightly

    serve_nightly(lambda line: typer.echo(line, err=True))


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one-line errors, documented exit codes."""
    try:
        result = app(args=argv, prog_name="surgewatch", standalone_mode=False)
    except SurgewatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        return 0
    except click_errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "surgewatch"
        typer.echo(f"error: {exc.format_message()} (try `{command} --help`)", err=True)
        return exc.exit_code
    except click_errors.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

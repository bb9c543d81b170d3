"""Commands that read the warehouse: sql, versions, diff, shell; and its upkeep."""

from typing import Annotated, Optional

import typer

from surgewatch.core.errors import InputError, WarehouseError

from surgewatch.cli.app import FormatOpt, WideOpt, app
from surgewatch.cli.options import parse_format, parse_snapshot


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
    from surgewatch.present.output import render_query
    from surgewatch.core.settings import load_settings
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
    typer.echo(render_query(frame.columns, frame.rows(), fmt))


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
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse.upkeep import upkeep as run_upkeep

    typer.echo(run_upkeep(load_settings(), keep_days=keep_days, dry_run=dry_run).summary())


@app.command(epilog="Example: surgewatch shell   (then: SELECT * FROM signal_events;)")
def shell() -> None:
    """The DuckDB shell with the warehouse attached (read-only)."""
    import os

    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    with Warehouse.open(load_settings(), read_only=True) as wh:
        argv = wh.shell_command()
    os.execv(argv[0], argv)


@app.command(epilog="Example: surgewatch versions --format json")
def versions(fmt: FormatOpt = "table", wide: WideOpt = False) -> None:
    """Published versions: id, time, run, what changed."""
    import polars as pl

    from surgewatch.present.output import render_rows
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    fmt = parse_format(fmt)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.versions()
    if fmt == "table":  # to the second on screen; csv and json keep every digit
        frame = frame.with_columns(pl.col("time").dt.truncate("1s"))
    compact = ["version", "time", "changes", "message", "run_id"]
    typer.echo(render_rows(frame.columns, frame.rows(), fmt, compact=compact, wide=wide, prose=("message", "changes")))


@app.command(epilog="Example: surgewatch diff 3 4 --table signal_events")
def diff(
    a: Annotated[str, typer.Argument(help="The older version.")],
    b: Annotated[str, typer.Argument(help="The newer version.")],
    table: Annotated[
        Optional[str], typer.Option("--table", help="Only this table, e.g. signal_events (default: every table).")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """What changed between versions A and B: per row key, each field old → new."""
    from surgewatch.present.output import DIFF_HEADER, diff_rows, render_rows
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse
    from surgewatch.warehouse.schema import KEYS, RESULT_TABLES

    fmt = parse_format(fmt)
    if table is not None and table not in RESULT_TABLES:
        raise InputError(f"--table: diff compares {', '.join(RESULT_TABLES)}, not {table!r}")
    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.diff(parse_snapshot(a), parse_snapshot(b), None if table is None else [table])  # type: ignore[arg-type]  # an argument is never None
    typer.echo(render_rows(DIFF_HEADER, diff_rows(frame, KEYS, fmt), fmt))

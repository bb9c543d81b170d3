"""`surgewatch context`: series from outside prices (SPEC §2d) stored in the warehouse
(`context_series`), versioned like everything else; `--fred` ones are refreshed nightly."""

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Annotated, Optional

import typer

from surgewatch.cli.app import FormatOpt, app
from surgewatch.cli.options import parse_format
from surgewatch.core.errors import InputError

context_app = typer.Typer(
    help="Series from outside prices (a policy rate…) for --when, --features and analogs.", no_args_is_help=True
)
app.add_typer(context_app, name="context")

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _name(raw: str) -> str:
    from surgewatch.study.when import FIELDS

    name = raw.strip().lower()
    if not _NAME.fullmatch(name) or name in FIELDS or "_chg_" in name:
        raise InputError(
            f"context name {raw!r}: use lower-case letters, digits and _ (e.g. fedfunds), "
            f"not a price field ({', '.join(FIELDS)}) and without _chg_"
        )
    return name


def _write(frame, drop: tuple[str, ...], what: str) -> int:  # noqa: ANN001  (a polars frame, imported lazily)
    """One published version holding the change; its number."""
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import RunRecord, Warehouse

    settings = load_settings()
    Warehouse.check_writable(settings)
    run = RunRecord(
        run_id=str(uuid.uuid4()), status="published", started_at=dt.datetime.now(dt.UTC), source="context", message=what
    )
    with Warehouse.writer_lock(settings), Warehouse.open(settings) as wh, wh.write(run) as tx:
        tx.context(frame, drop=drop)
    return tx.snapshot


@context_app.command("add", epilog="Example: surgewatch context add fedfunds --csv ../shared/data/context/FEDFUNDS.csv")
def add(
    name: Annotated[str, typer.Argument(help="The series' name in conditions and features, e.g. fedfunds.")],
    csv: Annotated[Optional[Path], typer.Option("--csv", help="date,value CSV, or FRED's CSV as downloaded.")] = None,
    fred: Annotated[
        Optional[str], typer.Option("--fred", help="A FRED series id, e.g. FEDFUNDS (refreshed nightly).")
    ] = None,
) -> None:
    """Store a series (replacing one of the same name) in one new version."""
    import polars as pl

    from surgewatch.core.frames import date_span

    series = _name(name)
    if (csv is None) == (fred is None):
        raise InputError("context add: give exactly one of --csv FILE or --fred SERIES_ID")
    if csv is not None:
        from surgewatch.sources.series import read_series_csv

        frame, source = read_series_csv(csv), f"csv:{csv.name}"
    else:
        frame, source = fetch_fred(fred or ""), f"fred:{(fred or '').strip().upper()}"
    rows = frame.with_columns(name=pl.lit(series), source=pl.lit(source))
    version = _write(rows, (series,), f"context {series} from {source}")
    first, last = date_span(frame["date"])
    typer.echo(f"{series}: {frame.height} value(s), {first} to {last}, from {source}; published version {version}")


def fetch_fred(series_id: str):  # noqa: ANN201  (a polars frame, imported lazily)
    """A FRED series through the price providers' HTTP session (retries, pace, one-line errors)."""
    from surgewatch.core.errors import SourceError
    from surgewatch.core.settings import load_settings
    from surgewatch.sources.series import fetch_fred as fetch, fred_id

    settings = load_settings()
    try:
        return fetch(settings, settings.fred_url, fred_id(series_id))
    except SourceError as exc:
        raise InputError(f"--fred {exc}") from None


@context_app.command("list")
def list_series(fmt: FormatOpt = "table") -> None:
    """The stored series: name, source, first and last date, values."""
    import polars as pl

    from surgewatch.core.settings import load_settings
    from surgewatch.present.output import render_rows
    from surgewatch.warehouse import Warehouse

    fmt = parse_format(fmt)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        stored = wh.context_series()
    summary = (
        stored.group_by("name", maintain_order=True)
        .agg(pl.col("source").last(), first=pl.col("date").min(), last=pl.col("date").max(), values=pl.len())
        .sort("name")
    )
    if not summary.height and fmt == "table":
        typer.echo("no context series stored; add one with `surgewatch context add NAME --csv FILE`")
        return
    typer.echo(render_rows(summary.columns, summary.rows(), fmt))


@context_app.command("drop")
def drop(name: Annotated[str, typer.Argument(help="The series to remove.")]) -> None:
    """Remove a series in one new version (earlier versions keep it)."""
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    series = _name(name)
    with Warehouse.open(load_settings(), read_only=True) as wh:
        held = set(wh.context_series()["name"].unique().to_list())
    if series not in held:
        raise InputError(f"no context series {series!r} (stored: {', '.join(sorted(held)) or 'none'})")
    version = _write(None, (series,), f"context {series} dropped")
    typer.echo(f"{series}: dropped; published version {version}")

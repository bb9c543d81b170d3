"""Commands against a benchmark or a date (SPEC §2d): returns since a date side by side
(compare) and the daily path after the events (path)."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from surgewatch.cli.app import FormatOpt, app
from surgewatch.cli.options import (
    AsOfOpt,
    BasisOpt,
    DirectionOpt,
    PricesOpt,
    ThresholdOpt,
    VsOpt,
    VsPricesOpt,
    benchmark_prices,
    load_prices,
    parse_count,
    parse_date,
    parse_format,
    study_params,
)
from surgewatch.core.errors import InputError
from surgewatch.core.tickers import normalize_ticker, parse_tickers


@app.command(epilog="Example: surgewatch compare IWM,SPY,QQQ --since 2025-08-01 --as-of 2026-04-20")
def compare(
    tickers: Annotated[
        str, typer.Argument(help="Comma-separated symbols; the first is what the others are set against.")
    ],
    since: Annotated[str, typer.Option(help="From each ticker's last close before this date (YYYY-MM-DD).")],
    as_of: AsOfOpt = None,
    prices_dir: Annotated[
        Optional[Path], typer.Option(help="Folder of TICKER.csv price files; without it, the warehouse.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Each ticker's return since a date, side by side, and its difference to the first (SPEC §2d)."""
    import polars as pl

    import surgewatch.transforms as tf
    from surgewatch.core.frames import date_span, latest_date
    from surgewatch.present.output import plain, render_rows

    symbols, fmt = parse_tickers(tickers), parse_format(fmt)
    start, cutoff = parse_date(since, "--since"), parse_date(as_of)
    assert start is not None  # a required option
    if cutoff is not None and start > cutoff:
        raise InputError(f"--since {start} is after --as-of {cutoff}: nothing lies between them")
    frames = [load_prices(s, None if prices_dir is None else prices_dir / f"{s}.csv") for s in symbols]
    prices = pl.concat(frames) if prices_dir is not None else load_prices(symbols, None)
    for s in symbols:
        first, last = date_span(prices.filter(pl.col("ticker") == s)["date"])
        if first >= start:
            raise InputError(f"{s} has no close before --since {start} (its data starts {first})")
    end = cutoff or latest_date(prices["date"])
    assert end is not None  # every ticker has a close before --since
    out = tf.returns_since(prices, symbols, start, end)
    if fmt == "json":
        rows = [{k: plain(v) for k, v in r.items()} for r in out.to_dicts()]
        typer.echo(json.dumps({"since": start.isoformat(), "as_of": end.isoformat(), "returns": rows}, indent=2))
        return
    title = f"Returns from the last close before {start} to the last on or before {end}; vs_first: against {symbols[0]}"
    typer.echo(render_rows(out.columns, out.rows(), fmt, title=title if fmt == "table" else None))


@app.command(epilog="Example: surgewatch path --ticker IWM --prices ../shared/data/prices/IWM.csv --sessions 63")
def path(
    ticker: Annotated[str, typer.Option(help="Symbol whose events to follow, e.g. IWM.")],
    sessions: Annotated[str, typer.Option(help="Sessions to follow after the event month's last one.")] = "63",
    prices: PricesOpt = None,
    threshold: ThresholdOpt = None,
    direction: DirectionOpt = "up",
    basis: BasisOpt = "price",
    as_of: AsOfOpt = None,
    vs: VsOpt = None,
    vs_prices: VsPricesOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """The daily path after the events: for each complete event month, the close d sessions after its last session over that close, less 1; mean, median and 25-75% band per d beside the same over every month (SPEC §2d)."""
    import polars as pl

    import surgewatch.transforms as tf
    from surgewatch.core.calendar import refuse_future
    from surgewatch.present.formats import threshold_percent
    from surgewatch.present.output import render_rows
    from surgewatch.study.paths import event_path
    from surgewatch.study.run import run_study

    symbol, fmt = normalize_ticker(ticker), parse_format(fmt)
    days, cutoff = parse_count(sessions, "--sessions", 1), parse_date(as_of)
    refuse_future(cutoff)
    params = study_params(threshold, direction, "1", basis)
    result = run_study(load_prices([symbol], prices), params, as_of=cutoff)
    column = tf.BASIS_COLUMN[params.basis]
    against = benchmark_prices(vs, vs_prices, [symbol])
    benchmark, theirs = against if against is not None else (None, None)
    if theirs is not None and cutoff is not None:
        theirs = theirs.filter(pl.col("date") <= cutoff)
    found = event_path(result.prices, result.monthly, result.events, days, column, theirs)
    table, months_of = found.table, found.events
    if fmt == "json":
        document = {"ticker": symbol, "vs": benchmark, "sessions": days, "events": months_of, "path": table.to_dicts()}
        typer.echo(json.dumps(document, indent=2))
        return
    sign = "+" if params.direction == "up" else "-"
    title = (
        f"{symbol}: the {days} sessions after each of its {len(months_of)} complete {sign}{threshold_percent(params.threshold)} months,"
        f" beside every complete month ({found.months})"
        + (f"; relative to {benchmark} over the same sessions" if benchmark else "")
    )
    typer.echo(render_rows(table.columns, table.rows(), fmt, title=title if fmt == "table" else None))

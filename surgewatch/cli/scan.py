"""`surgewatch scan`: the month's movers over every stored ticker (SPEC §4), from the
published tables only."""

import datetime as dt
import json
from typing import Annotated, Optional

import typer

from surgewatch.cli.app import FormatOpt, app
from surgewatch.cli.options import AsOfOpt, DirectionOpt, ThresholdOpt, parse_date, parse_format, parse_month
from surgewatch.core.errors import InputError


@app.command(epilog="Example: surgewatch scan --month 2026-04 --near 2")
def scan(
    month: Annotated[Optional[str], typer.Option(help="The month, YYYY-MM (default: the latest stored).")] = None,
    as_of: AsOfOpt = None,
    threshold: ThresholdOpt = None,
    direction: DirectionOpt = "up",
    near: Annotated[
        Optional[str], typer.Option(help="Also list moves within this many percentage points of the threshold.")
    ] = None,
    top: Annotated[Optional[str], typer.Option(help="At most this many movers (default: all).")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The month's movers: every stored ticker whose move crossed the threshold, with its own history after such months, ranked by verdict, then 12M excess."""

    from surgewatch.cli.options import parse_count, study_params
    from surgewatch.core.calendar import nyse_sessions
    from surgewatch.core.settings import load_settings
    from surgewatch.present.formats import threshold_percent
    from surgewatch.present.output import plain, render_rows
    from surgewatch.study.scan import month_movers, mover_figures
    from surgewatch.warehouse import Warehouse

    fmt, cutoff, wanted = parse_format(fmt), parse_date(as_of), parse_month(month)
    params = study_params(threshold, direction, "12", "price")
    limit = None if top is None else parse_count(top, "--top", 1)
    margin = None
    if near is not None:
        try:
            margin = float(near) / 100
        except ValueError:
            raise InputError(f"--near: not a number of percentage points: {near!r} (e.g. 2 for 2 points)") from None
        if not 0 < margin < params.threshold:
            raise InputError(f"--near {near}: give points between 0 and the threshold's ({params.threshold * 100:g})")
    with Warehouse.open(load_settings(), read_only=True) as wh:
        snapshot = None
        if cutoff is not None:
            runs = wh.sql(
                "SELECT snapshot_id FROM runs WHERE status IN ('published', 'partial') AND source IS DISTINCT FROM 'context' "
                "AND as_of <= ? ORDER BY as_of DESC, started_at DESC LIMIT 1",
                params=[cutoff],
            )
            if not runs.height:
                raise InputError(f"--as-of {cutoff}: no run was published as of that date or earlier")
            snapshot = int(runs["snapshot_id"][0])
        inputs = wh.month_movers_inputs(wanted, snapshot)
    rows = inputs["month_end"]
    chosen = wanted or (rows["month"][0] if rows.height else None)
    if chosen is None:
        raise InputError("the warehouse holds no results yet; run `surgewatch refresh` first")
    found = month_movers(
        rows, inputs["events"], inputs["summary"], inputs["stats"], params.threshold, params.direction, margin
    )
    if limit is not None:
        found = found.head(limit)
    following = (chosen.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    sessions = nyse_sessions(chosen, following - dt.timedelta(days=1))["date"]
    left = [int((sessions > a).sum()) for a in found["as_of"]]
    label = f"{chosen:%Y-%m}"
    movers = [
        {
            "ticker": r["ticker"],
            "month": label,
            "complete": r["complete"],
            "move": r["move"],
            "first_crossed_on": plain(r["first_crossed_on"]),
            "sessions_left": n,
            "near": r["near"],
            "history": [
                {k: h[k] for k in ("horizon", "n", "average", "excess", "verdict")} for h in r["history"] or []
            ],
        }
        for r, n in zip(found.iter_rows(named=True), left)
    ]
    as_of_text = plain(rows["as_of"].max()) if rows.height else None
    if fmt == "json":
        document = {
            "month": label,
            "as_of": as_of_text,
            "threshold": params.threshold,
            "direction": params.direction,
            "tickers_scanned": rows.height,
            "movers": movers,
        }
        typer.echo(json.dumps(document, indent=2))
        return
    sign = "+" if params.direction == "up" else "-"
    if not movers and fmt == "table":
        typer.echo(
            f"{label}: no mover among {rows.height} ticker(s) ({sign}{threshold_percent(params.threshold)}, as of {as_of_text})"
        )
        return
    header = [
        "ticker",
        "move",
        "status",
        "first_crossed_on",
        "sessions_left",
        "n",
        "average_3m",
        "average_12m",
        "excess_12m",
        "verdict_12m",
    ]
    table = []
    for m, status in zip(movers, found["status"]):
        figures = mover_figures(m["history"])
        table.append(
            [
                m["ticker"],
                m["move"],
                status,
                m["first_crossed_on"],
                m["sessions_left"],
                *(figures[c] for c in header[5:]),
            ]
        )
    title = (
        f"{label}: {len(movers)} mover(s) among {rows.height} ticker(s), {sign}{threshold_percent(params.threshold)}"
        f" as of {as_of_text}; each with its history after such months (as published), best verdict first"
    )
    compact = [
        "ticker",
        "move",
        "status",
        "verdict_12m",
        "average_12m",
        "excess_12m",
        "n",
        "sessions_left",
        "average_3m",
    ]
    typer.echo(render_rows(header, table, fmt, title=title if fmt == "table" else None, compact=compact))

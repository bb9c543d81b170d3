"""`surgewatch alerts`: the ledger (list), what tonight's run would send (preview) and a
test message to every target (test)."""

import datetime as dt
from typing import Annotated, Optional

import typer

from surgewatch.cli.app import FormatOpt, app
from surgewatch.core.errors import InputError
from surgewatch.cli.options import parse_date, parse_format

alerts_app = typer.Typer(
    help="The alert ledger, what tonight's run would send, and a test message to every target.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")

LEDGER_HEADER = ["ticker", "month", "kind", "status", "move", "as_of", "attempts", "sent_at", "key"]


@alerts_app.command("list", epilog="Example: surgewatch alerts list --since 2026-04-01")
def list_alerts(
    since: Annotated[Optional[str], typer.Option(help="Only alerts whose move is as of this date or later.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The ledger: every alert owed so far, what became of it (sent, pending, failed,
    recorded without targets), when, and the key a receiver can drop repeats by."""
    import polars as pl

    from surgewatch.alerts.rules import idempotency_key
    from surgewatch.core.params import StudyParams
    from surgewatch.core.settings import load_settings
    from surgewatch.present.output import render_rows
    from surgewatch.warehouse import Warehouse

    fmt, first = parse_format(fmt), parse_date(since, "--since")
    settings = load_settings()
    with Warehouse.open(settings, read_only=True) as wh:
        ledger = wh.alerts()
    if first is not None:
        ledger = ledger.filter(pl.col("as_of") >= first)
    params = StudyParams(settings.threshold)
    rows = [
        [
            r["ticker"],
            f"{r['month']:%Y-%m}",
            r["kind"],
            r["status"],
            r["move"],
            r["as_of"],
            r["attempts"],
            r["sent_at"],
            idempotency_key(r["ticker"], r["month"], r["kind"], params.threshold, params.direction),
        ]
        for r in ledger.sort("month", "ticker", "kind").iter_rows(named=True)
    ]
    if not rows and fmt == "table":
        typer.echo("no alerts in the ledger" + (f" as of {first} or later" if first else ""))
        return
    typer.echo(render_rows(LEDGER_HEADER, rows, fmt))


@alerts_app.command("preview", epilog="Example: surgewatch alerts preview --as-of 2026-08-03")
def preview_alerts(
    as_of: Annotated[
        Optional[str], typer.Option(help="The night to preview (default: today); its prices are fetched, not stored.")
    ] = None,
) -> None:
    """What the nightly run would send tonight, sending and writing nothing: the stored
    tickers' new sessions up to --as-of fetched from SURGEWATCH_SOURCE, the study
    recomputed on them, and every alert due (or waiting for its retry) printed as its
    target would receive it."""
    import polars as pl

    from surgewatch.alerts import alerts_due, compose_alerts, retries_due
    from surgewatch.alerts.digest import envelopes
    from surgewatch.core.calendar import refuse_future, today_in_new_york
    from surgewatch.core.params import StudyParams
    from surgewatch.core.settings import load_settings
    from surgewatch.sources import make_source
    from surgewatch.sources.incremental import fetch_many, stored_tails
    from surgewatch.sources.ingested import ingested
    from surgewatch.study.run import run_study
    from surgewatch.warehouse import Warehouse

    night = parse_date(as_of, "--as-of") or today_in_new_york()
    refuse_future(night, "--as-of")
    settings = load_settings()
    with Warehouse.open(settings, read_only=True) as wh:
        stored, ledger, since = wh.prices(), wh.alerts(), wh.last_sessions()
    if stored.is_empty():
        raise InputError("the warehouse holds no prices yet: run `surgewatch refresh` first")
    tickers = sorted(stored["ticker"].unique().to_list())
    outcomes = fetch_many(make_source(settings), tickers, stored_tails(stored), as_of=night)
    fetched = [o for o in outcomes if not isinstance(o, Exception)]
    for ticker, outcome in zip(tickers, outcomes):
        if isinstance(outcome, Exception):
            typer.echo(f"{ticker}: not fetched ({outcome}); previewed on its stored prices", err=True)
    # A ticker not fetched is previewed on its stored prices.
    missed = stored.filter(~pl.col("ticker").is_in([f.ticker for f in fetched]))
    prices = pl.concat([ingested(stored, fetched).prices, missed]).filter(pl.col("date") <= night)
    params = StudyParams(settings.threshold)
    study = run_study(prices, params, with_stats=True)
    due = alerts_due(study.monthly, ledger, params, since.filter(pl.col("last_session") <= night))
    outgoing = compose_alerts(
        due,
        retries_due(ledger),
        events=study.events,
        summary=study.summary,
        stats=study.stats,
        params=params,
        run_id="",
    )
    targets = len(settings.alert_urls)
    if not outgoing:
        typer.echo(f"as of {night}: no alert due; tonight's run would send nothing (nothing sent)")
        return
    to = (
        f"{targets} target{'s' if targets != 1 else ''}"
        if targets
        else "no target (SURGEWATCH_ALERT_URLS unset: recorded only)"
    )
    messages = envelopes(outgoing, study.summary, study.stats, params, settings.alert_digest)
    shape = f" in one digest (more than {settings.alert_digest})" if len(messages) < len(outgoing) else ""
    typer.echo(f"as of {night}: {len(outgoing)} alert(s){shape} for {to}; nothing sent")
    for message in messages:
        retry = "".join(
            f" (retry {a['attempts'] + 1})" for a in message.items if a["attempts"] and len(message.items) == 1
        )
        typer.echo(f"\n── {message.title}{retry} · key {message.key}\n{message.body}")


@alerts_app.command("test", epilog="Example: SURGEWATCH_ALERT_URLS=json://localhost:8000/hook surgewatch alerts test")
def test_alerts() -> None:
    """One test message to every target of SURGEWATCH_ALERT_URLS; a line per target says
    whether it arrived (exit 1 when one did not)."""
    from surgewatch.alerts.deliver import deliver_each
    from surgewatch.core.errors import SettingsError
    from surgewatch.core.settings import load_settings

    targets = load_settings().alert_urls
    if not targets:
        raise SettingsError("no alert targets: set SURGEWATCH_ALERT_URLS to one or more Apprise URLs")
    now = dt.datetime.now(dt.timezone.utc)
    outcomes = deliver_each(
        targets,
        "surgewatch: test message",
        f"A test from `surgewatch alerts test` at {now:%Y-%m-%d %H:%M} UTC: this target receives surgewatch's alerts.",
        key=f"test-{now:%Y%m%dT%H%M%S}",
    )
    for label, failed in outcomes:
        typer.echo(f"alert target {label}: " + ("arrived" if failed is None else f"failed: {failed}"))
    if any(failed for _, failed in outcomes):
        raise typer.Exit(1)

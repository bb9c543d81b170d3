"""Commands that study prices: study, analogs, check-published (SPEC §2, §2b, §2c, §3)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from surgewatch.core.errors import InputError
from surgewatch.present.sentences import glossary_lines
from surgewatch.core.tickers import normalize_ticker, parse_tickers

from surgewatch.cli.app import FormatOpt, WideOpt, app
from surgewatch.cli.options import (
    DEFAULT_HORIZONS_TEXT,
    AsOfOpt,
    benchmark_prices,
    prices_beside,
    BasisOpt,
    DirectionOpt,
    HorizonsOpt,
    PricesOpt,
    ThresholdOpt,
    VsOpt,
    VsPricesOpt,
    parse_date,
    parse_count,
    parse_format,
    parse_features,
    parse_month,
    load_prices,
    context_words,
    stored_series,
    study_of,
    study_params,
    with_outside_fields,
    warn_missing_sessions,
)


@app.command(
    epilog='Example: surgewatch study --ticker IWM --prices ../shared/data/prices/IWM.csv --as-of 2026-07-31 --when "prior_drawdown <= -0.10"'
    + "\n\n\b\nWhat the figures mean (SPEC §2b, §2c):\n"
    + "\n".join(glossary_lines("  "))
)
def study(
    ticker: Annotated[
        str, typer.Option(help="Symbol, e.g. IWM; several comma separated (IWM,SPY,QQQ) from the warehouse.")
    ],
    prices: PricesOpt = None,
    threshold: ThresholdOpt = None,
    direction: DirectionOpt = "up",
    horizons: HorizonsOpt = DEFAULT_HORIZONS_TEXT,
    basis: BasisOpt = "price",
    as_of: AsOfOpt = None,
    when: Annotated[
        Optional[str],
        typer.Option(help='Split the events by a condition, e.g. "prior_drawdown <= -0.10 and up_share > 0.6".'),
    ] = None,
    resamples: Annotated[
        str,
        typer.Option(help="Resamples B behind every p-value and interval (bootstrap, random months, permutations)."),
    ] = "10000",
    seed: Annotated[str, typer.Option(help="Seed of those resamples: same inputs and seed, same figures.")] = "0",
    vs: VsOpt = None,
    vs_prices: VsPricesOpt = None,
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    """The event table, its summary and baseline, and how sure that history is, per ticker (SPEC §2, §2b, §2c, §2d)."""
    from surgewatch.study.groups import conditional_study
    from surgewatch.study.when import parse_condition
    from surgewatch.transforms.outside import stored_series_fields
    from surgewatch.present.documents import render_studies, study_document
    from surgewatch.core.calendar import refuse_future

    symbols = parse_tickers(ticker)
    params = study_params(threshold, direction, horizons, basis, resamples, seed)
    fmt, cutoff = parse_format(fmt), parse_date(as_of)
    refuse_future(cutoff)
    series = stored_series(context_words(when))
    condition = parse_condition(when, stored_series_fields(series)) if when is not None else None
    result = study_of(symbols, prices, params, cutoff, vs, vs_prices)
    if condition is not None:
        result = with_outside_fields(result, [c.field for c in condition.comparisons], prices, series)
    warn_missing_sessions(result)
    documents = [
        study_document(
            result, s, conditional_study(result, s, condition, params.resamples, params.seed) if condition else None
        )
        for s in symbols
    ]
    typer.echo(render_studies(documents, fmt, wide))


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
    prices: PricesOpt = None,
    as_of: AsOfOpt = None,
    threshold: ThresholdOpt = None,
    direction: DirectionOpt = "up",
    horizons: HorizonsOpt = DEFAULT_HORIZONS_TEXT,
    basis: BasisOpt = "price",
    features: Annotated[
        Optional[str],
        typer.Option(
            help="Features of the distance, comma separated (default: move,prior_drawdown,prior_12m,up_share)."
        ),
    ] = None,
    vs: VsOpt = None,
    vs_prices: VsPricesOpt = None,
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    """The past events nearest to a month on move, prior drawdown, prior 12 months and up share (SPEC §2c); --vs: what followed them, relative to a benchmark (§2d)."""
    from surgewatch.present.analogs import analogs_document, render_analogs
    from surgewatch.study.analogs import find_analogs
    from surgewatch.core.calendar import refuse_future
    from surgewatch.study.relative import relative_study
    from surgewatch.study.run import run_study
    from surgewatch.transforms.outside import stored_series_fields

    symbol = normalize_ticker(ticker)
    params = study_params(threshold, direction, horizons, basis)
    fmt, cutoff, target = parse_format(fmt), parse_date(as_of), parse_month(month)
    refuse_future(cutoff)
    series = stored_series(context_words(features))
    count, chosen = parse_count(top, "--top", 1), parse_features(features, stored_series_fields(series))
    if universe and prices is not None:
        raise InputError(
            "--universe compares with every ticker in the warehouse: drop --prices (a file holds one ticker)"
        )
    frame = load_prices(None if universe else [symbol], prices)
    if universe and symbol not in frame["ticker"].unique().to_list():
        raise InputError(f"{symbol} is not in the warehouse; add it with `surgewatch refresh --tickers {symbol}`")
    against = benchmark_prices(vs, vs_prices, [symbol])
    if against is None:
        result = run_study(frame, params, as_of=cutoff)
    else:
        benchmark, theirs = against
        others = frame.filter(frame["ticker"] != benchmark)  # the benchmark is no candidate of itself
        result = relative_study(others, theirs, benchmark, params, cutoff)
    result = with_outside_fields(result, chosen, prices, series)
    warn_missing_sessions(result)
    found = find_analogs(result, symbol, target, count, universe, chosen)
    typer.echo(render_analogs(analogs_document(found), params.horizons, fmt, wide))


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
    claims: Annotated[
        Optional[Path],
        typer.Option(
            help="Claims beside the table: as_of,published and kind (month: column = move, sessions, up_sessions or prior_drawdown; since: since = a date), optionally ticker."
        ),
    ] = None,
    flagged_only: Annotated[bool, typer.Option("--flagged-only", help="Show only the flagged rows.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Every published cell beside the computed one, in percent (study prints fractions);
    exit 1 when any differs by more than 0.05 pp."""
    from surgewatch.present.output import fit_lines, render_rows

    from surgewatch.core.vocabulary import DEFAULT_THRESHOLD
    from surgewatch.study.claims import claim_rows
    from surgewatch.study.published import HEADER_AUDIT, TOLERANCE_PP, Audit, audit_published, published_summary_beside

    symbol, fmt = normalize_ticker(ticker), parse_format(fmt)
    own = load_prices(symbol, prices)
    audit = audit_published(own, table, summary or published_summary_beside(table))
    if claims is not None:
        claimed = claim_rows(claims, symbol, own, prices_beside(prices), DEFAULT_THRESHOLD)
        audit = Audit([*audit.rows, *claimed], audit.notes)
    rows = [r for r in audit.rows if r[-1]] if flagged_only else audit.rows
    title = f"{symbol}: published vs computed, in percent (`study` prints fractions); tolerance {TOLERANCE_PP} pp"
    compact = ["check", "month", "column", "flag", "difference", "published", "computed"]
    typer.echo(render_rows(HEADER_AUDIT, rows, fmt, title=title, compact=compact))
    # Notes go with the table; beside csv or json they go to stderr so the data stays parseable.
    notes = [f"note: {note}" for note in audit.notes]
    for line in fit_lines(notes, "  ") if fmt == "table" else notes:
        typer.echo(line, err=fmt != "table")
    if audit.flagged:
        typer.echo(f"{audit.flagged} difference(s) flagged", err=True)
        raise typer.Exit(1)

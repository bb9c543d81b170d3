"""What the commands share: parsing their options into the library's types (an
InputError naming the option otherwise), and reading prices from a file or the warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Annotated, Optional, cast, get_args

import typer

from surgewatch.core.errors import InputError
from surgewatch.core.tickers import normalize_ticker
from surgewatch.core.vocabulary import DEFAULT_HORIZONS
from surgewatch.present.formats import Format

if TYPE_CHECKING:  # what a command needs is imported when it runs: `--help` stays quick
    import polars as pl

    from surgewatch.core.params import StudyParams
    from surgewatch.study.run import StudyResult


# The options study and analogs share, declared once (as sqlite-utils shares its option decorators).
PricesOpt = Annotated[
    Optional[Path], typer.Option(help="CSV with date,open,high,low,close,adj_close,volume; without it, the warehouse.")
]
VsOpt = Annotated[
    Optional[str],
    typer.Option("--vs", help="Benchmark ticker: forward returns become the ticker's less its over the same months."),
]
VsPricesOpt = Annotated[
    Optional[Path], typer.Option("--vs-prices", help="CSV of the --vs benchmark's prices (beside --prices).")
]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="Ignore data after this date (YYYY-MM-DD).")]
ThresholdOpt = Annotated[
    Optional[str], typer.Option(help="Move that qualifies, as a fraction (default: SURGEWATCH_THRESHOLD, else 0.10).")
]
DirectionOpt = Annotated[str, typer.Option(help="up (move >= threshold) or down (move <= -threshold).")]
HorizonsOpt = Annotated[str, typer.Option(help="Forward horizons in months, comma separated.")]
DEFAULT_HORIZONS_TEXT = ",".join(map(str, DEFAULT_HORIZONS))
BasisOpt = Annotated[str, typer.Option(help="price (close) or total (adj_close, dividends reinvested).")]


def parse_date(raw: str | None, option: str = "--as-of") -> dt.date | None:
    """ISO date or None; InputError naming the option otherwise."""
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{option}: not a date (YYYY-MM-DD): {raw!r}") from None


def parse_threshold(raw: str) -> float:
    """A fraction such as 0.10; 10 or 10% is refused with a hint, not read as +1000%."""
    from surgewatch.core.vocabulary import percent_as_fraction

    text = raw.strip()
    try:
        if text.endswith("%"):
            raise InputError(
                f"--threshold {text} is a percent: give a fraction; did you mean {percent_as_fraction(float(text[:-1]))}?"
            )
        value = float(text)
    except ValueError:
        raise InputError(f"--threshold: not a number: {raw!r}") from None
    from surgewatch.core.settings import check_threshold

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


def benchmark_prices(
    vs: str | None, vs_prices: Path | None, studied: Collection[str]
) -> "tuple[str, pl.DataFrame] | None":
    """The --vs benchmark and its daily prices (the warehouse's, or --vs-prices'); None
    without --vs. InputError for --vs-prices alone or a benchmark among the studied tickers."""
    if vs is None:
        if vs_prices is not None:
            raise InputError("--vs-prices needs --vs TICKER: the benchmark its file holds")
        return None
    benchmark = normalize_ticker(vs)
    if benchmark in studied:
        raise InputError(f"--vs {benchmark} is the ticker studied: compare with another one")
    return benchmark, load_prices([benchmark], vs_prices)


def prices_beside(prices: Path | None) -> "Callable[[str], pl.DataFrame]":
    """How a command reads another ticker's prices: its TICKER.csv beside --prices, else
    the warehouse's."""

    def prices_of(ticker: str) -> "pl.DataFrame":
        return load_prices([ticker], None if prices is None else prices.parent / f"{ticker}.csv")

    return prices_of


def study_of(
    symbols: list[str],
    prices: Path | None,
    params: "StudyParams",
    as_of: "dt.date | None",
    vs: str | None = None,
    vs_prices: Path | None = None,
) -> "StudyResult":
    """The study of symbols (run_study), or against the benchmark --vs (study.relative),
    whose prices come from the warehouse or --vs-prices."""
    from surgewatch.study.relative import relative_study
    from surgewatch.study.run import run_study

    against = benchmark_prices(vs, vs_prices, symbols)
    if against is None:
        return run_study(load_prices(symbols, prices), params, as_of=as_of, with_stats=True)
    return relative_study(load_prices(symbols, prices), against[1], against[0], params, as_of)


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
        _refuse_another_tickers_file(prices, symbols[0])
        return read_price_csv(prices, symbols[0])
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    with Warehouse.open(load_settings(), read_only=True) as wh:
        frame = wh.prices(symbols)
        if symbols is None and frame.is_empty():
            raise InputError("the warehouse holds no prices yet; run `surgewatch refresh` or pass --prices FILE.csv")
        present = set(frame["ticker"].unique().to_list())
        missing = [s for s in symbols or [] if s not in present]
        if missing:
            held = wh.last_sessions()["ticker"].to_list()
            raise InputError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the warehouse (it holds {', '.join(held) or 'no tickers'}); "
                "add it with `surgewatch refresh --tickers` or pass --prices FILE.csv"
            )
    return frame


def _refuse_another_tickers_file(prices: Path, ticker: str) -> None:
    """`--ticker SPY --prices IWM.csv` would label IWM's prices as SPY's."""
    from surgewatch.core.tickers import looks_like_symbol

    if looks_like_symbol(prices.stem) and prices.stem not in (ticker, ticker.removeprefix("^")):  # RUT.csv: ^RUT
        raise InputError(
            f"--prices {prices.name} looks like {prices.stem}'s prices, not {ticker}'s: "
            f"pass --ticker {prices.stem}, or rename the file"
        )


def listing(items: list[str], most: int = 8) -> str:
    """'a, b, c' — or the first `most` and how many more, so a first load stays readable."""
    if not items:
        return "none"
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else f"{len(items)}: {shown} and {len(items) - most} more"


def study_params(
    threshold: str | None, direction: str, horizons: str, basis: str, resamples: str = "10000", seed: str = "0"
) -> StudyParams:
    """The options every study-like command shares, parsed; the threshold defaults to the settings'."""
    from surgewatch.core.settings import load_settings
    from surgewatch.core.params import MAX_RESAMPLES, StudyParams, parse_horizons

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


def parse_month(raw: str | None) -> dt.date | None:
    """'2026-04' → 2026-04-01; InputError naming the value otherwise."""
    if raw is None:
        return None
    try:
        return dt.datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise InputError(f"--month: not a month (YYYY-MM): {raw!r}") from None


def parse_features(raw: str | None, series: Collection[str] = ()) -> tuple[str, ...]:
    """'move,up_share' → ('move', 'up_share'); a feature may also be another ticker's
    (`SPY.prior_drawdown`) or a stored context series' field (`series`); InputError
    naming an unknown one."""
    from surgewatch.study.when import check_field
    from surgewatch.transforms.distances import FEATURES

    if raw is None:
        return FEATURES
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if not names:
        raise InputError("--features: none given")
    return tuple(check_field(n, series, "--features") for n in names)


def context_words(*texts: str | None) -> bool:
    """Whether some word of a condition or feature list is neither a price field, nor
    another ticker's (`T.field`), nor `and`: a context series' field, to be looked up."""
    import re

    from surgewatch.study.when import FIELDS

    words = {w for text in texts if text for w in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text)}
    return any(w not in FIELDS and w.lower() != "and" and "." not in w for w in words)


def stored_series(needed: bool) -> "pl.DataFrame | None":
    """The warehouse's context series (name, date, value, source) when needed and a
    warehouse exists; None otherwise."""
    if not needed:
        return None
    from surgewatch.core.errors import WarehouseError
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import Warehouse

    try:
        with Warehouse.open(load_settings(), read_only=True) as wh:
            return wh.context_series()
    except WarehouseError:
        return None


def with_outside_fields(
    result: "StudyResult", names: "Collection[str]", prices: Path | None, series: "pl.DataFrame | None"
) -> "StudyResult":
    """result with the outside fields among `names` (study.outside): another ticker's
    prices from the warehouse, or from its CSV beside --prices."""
    from surgewatch.study.outside import with_outside
    from surgewatch.study.when import FIELDS

    outside = [n for n in names if n not in FIELDS]
    return with_outside(result, outside, prices_beside(prices), series) if outside else result

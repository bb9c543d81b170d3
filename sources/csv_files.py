"""Prices from local CSV files: the `csv` source and `surgewatch study --prices FILE.csv`.

A file has a header with at least ``date,open,high,low,close`` (``adj_close`` and
``volume`` may be absent or empty: null), ISO dates, one row per session in any order.
Header names are matched case-insensitively with spaces as underscores, so a Yahoo
download's ``Date,…,Adj Close,Volume`` reads too. Numbers are taken as written
(float32 artefacts such as 297.6700134277344 included). Any problem stops the read
with one line naming the file, the line and the value.

The `csv` source reads ``{SURGEWATCH_CSV_DIR}/{TICKER}.csv``; an index symbol is looked
up with its caret first and then without (``^RUT`` → ``^RUT.csv``, else ``RUT.csv``),
because a caret is awkward in file names.
"""

import codecs
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from surgewatch.sources.base import OHLC, check_request, empty_frame, finish_frame
from surgewatch.sources.csv_many import read_many, tail_blocks
from surgewatch.core.errors import InputError, SettingsError, SourceError
from surgewatch.core.tickers import normalize_ticker
from surgewatch.core.vocabulary import BAR_COLUMNS

NAME = "csv"
COLUMNS = ("date", *BAR_COLUMNS)
OPTIONAL = ("adj_close", "volume")
_SHOW = 3
# A night's read of a file this big or bigger reads only its tail (read_price_csv);
# a smaller one costs about as little read whole.
TAIL_FROM = 256 * 1024
TAIL_BLOCK = 4 * 1024  # ~60 lines: a night needs the last week's
HEADER_MAX = 64 * 1024  # a first line longer than this is no header the tail can be read with


class CsvSource:
    """Daily bars from a folder of TICKER.csv files."""

    name = NAME

    def __init__(self, folder: Path | None):
        if folder is None:
            raise SettingsError("the csv source needs a folder: set SURGEWATCH_CSV_DIR")
        self._dir = folder

    def daily_prices(self, ticker: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
        """Bars for [start, end] from the ticker's file; see PriceSource."""
        symbol, possible = check_request(ticker, start, end)
        path = self._path(symbol)
        if not possible:
            return empty_frame()
        try:
            bars = read_price_csv(path, symbol, since=start)
        except InputError as exc:
            raise SourceError(symbol, str(exc)) from exc
        # read_price_csv's frame is finished already (finish_frame): only `end` is left.
        return bars if end is None else bars.filter(pl.col("date") <= end)

    def daily_prices_many(
        self, starts: Mapping[str, dt.date | None], end: dt.date | None
    ) -> dict[str, pl.DataFrame | Exception]:
        """daily_prices(ticker, start, end) for every ticker of starts, read as one
        (sources.csv_many): per ticker its frame or the exception it raised."""
        out: dict[str, pl.DataFrame | Exception] = {}
        paths: dict[str, Path] = {}
        for ticker, start in starts.items():
            try:
                symbol, possible = check_request(ticker, start, end)
                paths[ticker] = self._path(symbol)
            except Exception as exc:  # noqa: BLE001  (each ticker's failure is its own)
                out[ticker] = exc
                continue
            if not possible:
                out[ticker] = empty_frame()
                del paths[ticker]

        def alone(ticker: str) -> pl.DataFrame | Exception:
            try:
                return self.daily_prices(ticker, starts[ticker], end)
            except Exception as exc:  # noqa: BLE001
                return exc

        # A symbol spelled otherwise than asked keeps the per-file read's spelling rules.
        odd = [t for t in paths if normalize_ticker(t) != t]
        for ticker in odd:
            out[ticker] = alone(ticker)
            del paths[ticker]
        return out | read_many(paths, starts, end, alone, (TAIL_FROM, TAIL_BLOCK))

    def _path(self, symbol: str) -> Path:
        candidates = [f"{symbol}.csv"] + ([f"{symbol[1:]}.csv"] if symbol.startswith("^") else [])
        path = next((self._dir / name for name in candidates if (self._dir / name).is_file()), None)
        if path is None:
            raise SourceError(symbol, f"no file {' or '.join(candidates)} in {self._dir}")
        return path


def read_price_csv(path: Path, ticker: str, since: dt.date | None = None) -> pl.DataFrame:
    """The rows of a price file as the raw frame (RAW_SCHEMA), sorted by date: all of
    them, or with `since` only the sessions from that date on.

    A next night needs a week of a 30-year file: with `since`, the rows before it are
    dropped right after the text is split into columns, so their values are never
    parsed or checked (a bad value in them goes unnoticed until a full read), which
    makes a night's read a small fraction of a full one.

    With `since`, a file of TAIL_FROM bytes or more is read from its end when it allows:
    the header line, then blocks back from the end (TAIL_BLOCK bytes, doubling) until
    the block holds a complete data line, other than the first, dated before `since`.
    Those last lines are used when their dates all read and strictly ascend; otherwise
    (or when the first line is not a header ending in a newline, or the tail would reach
    the header, or any check of the window's rows fails) the whole file is read, and any
    message comes from that full read, with its true line numbers. So a night's read does
    not notice what lies before the tail (rows out of order there, a date that does not
    read, bytes that are not UTF-8); for a file sorted by date its rows are those of the
    full read. A full read checks everything.

    Raises InputError with one line naming the problem: missing file, missing
    column(s), an unparseable date, a missing or non-numeric value, a price <= 0, a
    negative volume, or duplicate dates.
    """
    symbol = normalize_ticker(ticker)
    path = Path(path)
    if since is not None:
        tail = _tail(path, since)
        if tail is not None:
            try:
                return _checked(path, symbol, tail, since)
            except InputError:
                pass  # the full read below says what is wrong, on the right line
    return _checked(path, symbol, _split(path, _read_text(path).encode()), since)


def _split(path: Path, text: bytes) -> pl.DataFrame:
    """The file's non-blank rows as stripped text in COLUMNS, with their line numbers."""
    try:
        raw = pl.read_csv(text, infer_schema=False)
    except pl.exceptions.NoDataError:
        raise InputError(f"{path}: empty file (expected a header {','.join(COLUMNS)})") from None
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: not a readable CSV ({_first_line(exc)})") from None
    raw = raw.rename({c: c.strip().lower().replace(" ", "_") for c in raw.columns})
    missing = [c for c in COLUMNS if c not in raw.columns and c not in OPTIONAL]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}"
            f" (expected {','.join(COLUMNS)}; found {','.join(raw.columns)})"
        )
    for optional in OPTIONAL:
        if optional not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(optional))
    # Line numbers as an editor shows them (the header is line 1), counted before blank
    # lines are let go.
    return (
        raw.select(*(pl.col(c).str.strip_chars() for c in COLUMNS))
        .with_row_index("line", offset=2)
        .filter(~pl.all_horizontal(pl.col(c).is_null() for c in COLUMNS))
    )


def _dates(raw: pl.DataFrame) -> pl.Series:
    return raw["date"].str.to_date("%Y-%m-%d", strict=False)


def _checked(path: Path, symbol: str, raw: pl.DataFrame, since: dt.date | None) -> pl.DataFrame:
    date = pl.col("date").str.to_date("%Y-%m-%d", strict=False)
    if since is not None:
        # An unreadable date stays in, so it is still refused with its line number.
        raw = raw.filter(date.is_null() | (date >= since))
    number = {c: pl.col(c).cast(pl.Float64, strict=False) for c in (*OHLC, *OPTIONAL)}
    rules: list[tuple[pl.Expr, str, str]] = [(date.is_null(), "date", "date {value} is not a YYYY-MM-DD date")]
    for column, parsed in number.items():
        given = pl.col(column).is_not_null()
        rules.append((given & ~parsed.is_finite().fill_null(False), column, f"{column} {{value}} is not a number"))
        if column in OHLC:
            rules.append((~given, column, f"{column} is empty"))
    for column in (*OHLC, "adj_close"):
        rules.append(((number[column] <= 0).fill_null(False), column, f"{column} is {{text}}, prices must be > 0"))
    rules.append(((number["volume"] < 0).fill_null(False), "volume", "volume is {text}, must be >= 0"))
    rules.append((date.is_duplicated() & date.is_not_null(), "", ""))
    # Every rule in one pass over the rows (a night reads thousands of small files);
    # only a broken one is looked at again, the first in the order above.
    broken = raw.select(*(mask.any().alias(str(i)) for i, (mask, _, _) in enumerate(rules))).row(0)
    for (mask, column, problem), hit in zip(rules, broken):
        if hit and column:
            _refuse(path, raw, raw.select(mask).to_series(), column, problem)
        elif hit:
            repeated = raw.filter(rules[-1][0]).select(date)["date"].unique().sort()
            shown = ", ".join(str(d) for d in repeated.head(_SHOW).to_list())
            more = f" (+{repeated.len() - _SHOW} more)" if repeated.len() > _SHOW else ""
            raise InputError(f"{path}: duplicate dates {shown}{more}: one row per session expected")
    return finish_frame(raw.with_columns(date=date, **number).drop("line"), symbol, NAME, None, None)


def _tail(path: Path, since: dt.date) -> pl.DataFrame | None:
    """The header and the last lines of the file, split as _split does (their line
    numbers are not the file's), when they cover `since` as read_price_csv says; None
    when the whole file must be read. The tail's line numbers are never shown: any
    problem in it sends the caller to the full read."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            if size < TAIL_FROM:
                return None
            file.seek(0)
            header = file.readline(HEADER_MAX)
            body = file.tell()  # where the first data line starts
            if not header.endswith(b"\n"):
                return None
            header = header.removeprefix(codecs.BOM_UTF8)
            for lines in tail_blocks(file, body, size, TAIL_BLOCK):
                if lines:
                    # The full read's universal newlines end a line at a lone CR too; polars does not.
                    if lines.count(b"\r") != lines.count(b"\r\n"):
                        return None
                    raw = _split(path, header + lines)
                    dates = _dates(raw)
                    if dates.null_count() or not (dates.diff().drop_nulls() > dt.timedelta(0)).all():
                        return None
                    if dates.len() and dates[0] < since:
                        return raw
    except (OSError, InputError):
        return None
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _refuse(path: Path, raw: pl.DataFrame, mask: pl.Series, column: str, problem: str) -> None:
    """Raise InputError about the first row where mask holds; problem may use {value} and {text}."""
    bad = raw.filter(mask)
    if bad.is_empty():
        return
    first = bad.row(0, named=True)
    where = f"line {first['line']}" + ("" if column == "date" else f" ({first['date']})")
    more = f" (and {bad.height - 1} more row(s))" if bad.height > 1 else ""
    detail = problem.format(value=_shown(first[column]), text=first[column])
    raise InputError(f"{path}: {where}: {detail}{more}")


def _shown(value: str | None) -> str:
    return repr(value) if value else "(empty)"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

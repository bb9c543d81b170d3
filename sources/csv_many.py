"""Many tickers' CSV files read as one: the csv source's batch read (CsvSource.daily_prices_many).

A night asks thousands of files for their last week and a first load for everything.
One file at a time, polars' per-call costs dominate (a dozen small frames a file); here
each file's lines (its tail when the file allows, see _tail_lines) are prefixed with
their ticker and parsed, checked and finished as one frame. A file that does not fit
this path (a quoted field, an unusual header, a tail out of order, any value the checks
refuse) is read alone by read_price_csv, which reads it whole when it must and names
the problem on its own line: the batch read gives the same rows and the same errors as
one read per file.
"""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import polars as pl

from surgewatch.sources.base import OHLC, finish_bars

_COLUMNS = ("date", "open", "high", "low", "close", "adj_close", "volume")
_OPTIONAL = ("adj_close", "volume")
_BOM = b"\xef\xbb\xbf"


def read_many(
    paths: Mapping[str, Path],
    starts: Mapping[str, dt.date | None],
    end: dt.date | None,
    alone: Callable[[str], pl.DataFrame | Exception],
    tail: tuple[int, int],
) -> dict[str, pl.DataFrame | Exception]:
    """Each ticker's bars from `paths[ticker]` for [starts[ticker], end] (None: no bound),
    finished as the csv source returns them; `alone(ticker)` reads a file that does not
    fit the batch (the per-file read, returning its frame or its exception); tail: the
    per-file read's (size from which a file's tail is read, first block), so both read
    the same lines."""
    groups: dict[bytes, list[tuple[str, bytes]]] = {}
    out: dict[str, pl.DataFrame | Exception] = {}
    for ticker, path in paths.items():
        read = _lines(path, starts.get(ticker), *tail)
        if read is None:
            out[ticker] = alone(ticker)
        else:
            groups.setdefault(read[0], []).append((ticker, read[1]))
    for header, files in groups.items():
        out |= _parse(header, files, starts, end, alone)
    return out


def _lines(path: Path, since: dt.date | None, tail_from: int, block: int) -> tuple[bytes, bytes] | None:
    """(normalised header, data lines) of a file that fits the batch read, else None."""
    try:
        with path.open("rb") as file:
            head = file.readline(64 * 1024)
            size = file.seek(0, 2)
            body: bytes | None
            if since is None or size < tail_from:
                file.seek(len(head))
                body = file.read()
            else:
                body = _tail_lines(file, len(head), size, head, since, block)
    except OSError:
        return None
    if body is None or not head.endswith(b"\n") or b'"' in head or b'"' in body:
        return None
    if body.count(b"\r") != body.count(b"\r\n"):  # a lone CR ends a line for the per-file read only
        return None
    names = [n.strip().lower().replace(b" ", b"_") for n in head.removeprefix(_BOM).rstrip(b"\r\n").split(b",")]
    if any(c.encode() not in names for c in _COLUMNS if c not in _OPTIONAL) or len(set(names)) != len(names):
        return None
    return b",".join(names), body


def tail_blocks(file, body: int, size: int, block: int) -> Iterator[bytes]:  # noqa: ANN001 (a binary file)
    """The complete lines at the end of a file of `size` bytes whose first data line starts
    at `body`, more of them at each step (blocks doubling from `block`), until they would
    reach the first data line. A line begins right after a newline, so the partial one a
    block cuts is skipped; starting one byte into the first data line keeps it out."""
    start, tail = size, b""
    while start > body + 1:
        stop, start = start, max(size - block, body + 1)
        file.seek(start - 1)
        chunk = file.read(stop - start + 1)
        tail = chunk[1:] + tail
        yield tail if chunk[:1] == b"\n" else tail.partition(b"\n")[2]
        block *= 2


def _tail_lines(file, body: int, size: int, head: bytes, since: dt.date, block: int) -> bytes | None:  # noqa: ANN001 (a binary file)
    """The complete lines at the file's end back to one dated before `since` (the first of
    them), or None when the tail reaches the first data line (the whole file is needed)."""
    names = [n.strip().lower() for n in head.removeprefix(_BOM).split(b",")]
    if b"date" not in names:
        return None
    at = names.index(b"date")
    for lines in tail_blocks(file, body, size, block):
        if not lines.count(b"\n"):
            continue  # no complete line yet
        first = lines.split(b"\n", 1)[0].split(b",")
        try:
            if len(first) > at and dt.date.fromisoformat(first[at].strip().decode()) < since:
                return lines
        except ValueError:
            return None
    return None


def _parse(
    header: bytes,
    files: list[tuple[str, bytes]],
    starts: Mapping[str, dt.date | None],
    end: dt.date | None,
    alone: Callable[[str], pl.DataFrame | Exception],
) -> dict[str, pl.DataFrame | Exception]:
    """One header's files as one frame: checked, finished and split by ticker."""
    # Each line gets its ticker as a first field: bytes.replace, not a loop over lines.
    text = (
        b"ticker,"
        + header
        + b"\n"
        + b"".join(t.encode() + b"," + body.replace(b"\n", b"\n" + t.encode() + b",") + b"\n" for t, body in files)
    )
    try:
        raw = pl.read_csv(text, infer_schema=False)
    except pl.exceptions.PolarsError:
        return {t: alone(t) for t, _ in files}
    for optional in _OPTIONAL:
        if optional not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(optional))
    given_starts = {t: starts[t] for t, _ in files if starts.get(t) is not None}
    # A first load asks every file whole: no start to look up per row.
    since = (
        pl.col("ticker").replace_strict(given_starts, default=None, return_dtype=pl.Date)
        if given_starts
        else pl.lit(None, pl.Date)
    )
    # Values are read as text, stripped and converted as read_price_csv converts them; one
    # lazy query, so the stripped text is never a column of its own.
    date = pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    number = {c: pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in (*OHLC, *_OPTIONAL)}
    typed = (
        raw.lazy()
        .filter(~pl.all_horizontal(pl.col(c).is_null() for c in _COLUMNS))
        .with_columns(_since=since, _date=date, **{f"_{c}": e for c, e in number.items()})
    )
    # read_price_csv's rules, per row: anything it would refuse, in the window or before
    # it, sends the file to it. (Stripping never makes a value missing.)
    given = {c: pl.col(c).is_not_null() for c in number}
    same_file = pl.col("ticker") == pl.col("ticker").shift()
    bad = (
        pl.col("_date").is_null()
        | pl.any_horizontal(given[c] & ~pl.col(f"_{c}").is_finite().fill_null(False) for c in number)
        | pl.any_horizontal(~given[c] for c in OHLC)
        | pl.any_horizontal((pl.col(f"_{c}") <= 0).fill_null(False) for c in (*OHLC, "adj_close"))
        | (pl.col("_volume") < 0).fill_null(False)
        # A tail (or a whole file) must be in strictly rising date order, which also
        # rules out a date given twice: otherwise the file is read alone. A file's lines
        # are consecutive rows here, so "the row before" is the file's own previous line.
        | ((pl.col("_date").diff() <= pl.duration(days=0)) & same_file).fill_null(False)
    )
    framed = (
        typed.with_columns(_bad=bad).select("ticker", "_since", "_date", "_bad", *(f"_{c}" for c in number)).collect()
    )
    refused = set(framed.filter(pl.col("_bad"))["ticker"].unique())
    window = pl.col("_since").is_null() | (pl.col("_date") >= pl.col("_since"))
    keep = window & ~pl.col("ticker").is_in(list(refused)) if refused else window
    kept = framed.filter(keep).select(
        "ticker", pl.col("_date").alias("date"), *(pl.col(f"_{c}").alias(c) for c in number)
    )
    bars = finish_bars(kept, "csv", None, end)
    out: dict[str, pl.DataFrame | Exception] = {
        t: f for (t,), f in bars.partition_by("ticker", as_dict=True, maintain_order=True).items()
    }
    empty = bars.head(0)
    for ticker, _ in files:
        out[ticker] = alone(ticker) if ticker in refused else out.get(ticker, empty)
    return out

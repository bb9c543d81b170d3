"""A night's read of a price file from its tail gives the full read's rows (read_price_csv)."""

import codecs
import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.core.errors import InputError
from surgewatch.sources import csv_files
from surgewatch.sources.csv_files import read_price_csv

HEADERS = {
    "plain": "date,open,high,low,close,adj_close,volume",
    "yahoo": "Date,Open,High,Low,Close,Adj Close,Volume",
    "no optional": "date,open,high,low,close",
}


def random_rows(rng: random.Random, n: int, header: str) -> tuple[list[dt.date], list[str]]:
    """n rows on increasing dates 1 to 4 days apart, so some dates fall in gaps."""
    day = dt.date(1995, 1, 2) + dt.timedelta(days=rng.randrange(3000))
    dates, lines = [], []
    for _ in range(n):
        day += dt.timedelta(days=rng.randint(1, 4))
        close = rng.uniform(1, 500)
        values = [day.isoformat(), f"{close * 0.99:.4f}", repr(close * 1.01), f"{close * 0.98:.2f}", repr(close)]
        if header != HEADERS["no optional"]:
            values.append(rng.choice([repr(close * 0.97), ""]))
            values.append(rng.choice([str(rng.randrange(10**9)), ""]))
        dates.append(day)
        lines.append(",".join(values))
    return dates, lines


def write_file(path: Path, header: str, lines: list[str], *, crlf=False, bom=False, blank_end=False, eol_end=True):
    eol = "\r\n" if crlf else "\n"
    text = eol.join([header, *lines]) + (eol if eol_end or blank_end else "") + (eol if blank_end else "")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())


def sinces(rng: random.Random, dates: list[dt.date]) -> list[dt.date]:
    in_gaps = [a + dt.timedelta(days=1) for a, b in zip(dates, dates[1:]) if (b - a).days > 1]
    return [
        dates[0] - dt.timedelta(days=10),  # before the first row
        dates[0],
        dates[-1],
        dates[-1] + dt.timedelta(days=3),  # after the last row
        rng.choice(dates),  # on a row
        *(rng.sample(in_gaps, 1) if in_gaps else []),  # between two rows
        dates[max(len(dates) - 5, 0)],  # a night's window
    ]


@pytest.fixture
def full_reads(monkeypatch):
    """Counts the reads of a whole file."""
    calls: list[Path] = []
    whole = csv_files._read_text

    def counted(path: Path) -> str:
        calls.append(path)
        return whole(path)

    monkeypatch.setattr(csv_files, "_read_text", counted)
    return calls


def full_read(monkeypatch, path: Path, since: dt.date) -> pl.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(csv_files, "TAIL_FROM", float("inf"))
        return read_price_csv(path, "T", since=since)


@pytest.mark.parametrize("seed", range(40))
def test_tail_reads_equal_full_reads_on_sorted_files(tmp_path, monkeypatch, full_reads, seed):
    # Tiny blocks make small files take every path a 30-year file takes: several doublings,
    # a block cut mid-line or right after a newline, and a tail reaching the first line.
    rng = random.Random(seed)
    header = rng.choice(list(HEADERS.values()))
    dates, lines = random_rows(rng, rng.choice([1, 2, 3, rng.randint(4, 40), rng.randint(41, 600)]), header)
    path = tmp_path / "T.csv"
    write_file(
        path,
        header,
        lines,
        crlf=rng.random() < 0.3,
        bom=rng.random() < 0.3,
        blank_end=rng.random() < 0.3,
        eol_end=rng.random() < 0.7,
    )
    monkeypatch.setattr(csv_files, "TAIL_FROM", 0)
    monkeypatch.setattr(csv_files, "TAIL_BLOCK", rng.choice([16, 64, 100, 512, 4096]))
    for since in sinces(rng, dates):
        expected = full_read(monkeypatch, path, since)
        full_reads.clear()
        assert_frame_equal(read_price_csv(path, "T", since=since), expected)
        # The tail serves whenever a data line after the first is dated before the window.
        assert bool(full_reads) == (not any(d < since for d in dates[1:])), since


@pytest.mark.parametrize(("crlf", "bom", "eol_end"), [(False, False, True), (True, True, False)])
def test_a_30_year_file_is_read_from_its_tail_with_the_default_blocks(
    tmp_path, monkeypatch, full_reads, crlf, bom, eol_end
):
    dates, lines = random_rows(random.Random(1), 7_600, HEADERS["yahoo"])
    path = tmp_path / "T.csv"
    write_file(path, HEADERS["yahoo"], lines, crlf=crlf, bom=bom, eol_end=eol_end)
    assert path.stat().st_size >= csv_files.TAIL_FROM
    since = dates[-5]
    expected = full_read(monkeypatch, path, since)
    full_reads.clear()
    assert_frame_equal(read_price_csv(path, "T", since=since), expected)
    assert expected.height == 5 and not full_reads


def test_a_small_file_is_read_whole(tmp_path, full_reads):
    dates, lines = random_rows(random.Random(2), 50, HEADERS["plain"])
    write_file(path := tmp_path / "T.csv", HEADERS["plain"], lines)
    assert read_price_csv(path, "T", since=dates[-3]).height == 3
    assert full_reads == [path]


@pytest.fixture
def tiny_blocks(monkeypatch):
    monkeypatch.setattr(csv_files, "TAIL_FROM", 0)
    monkeypatch.setattr(csv_files, "TAIL_BLOCK", 64)


def test_an_unsorted_tail_is_read_whole_and_sorted(tmp_path, monkeypatch, full_reads, tiny_blocks):
    dates, lines = random_rows(random.Random(3), 200, HEADERS["plain"])
    lines[-2], lines[-3] = lines[-3], lines[-2]
    write_file(path := tmp_path / "T.csv", HEADERS["plain"], lines)
    frame = read_price_csv(path, "T", since=dates[-6])
    assert full_reads == [path]
    assert frame["date"].to_list() == dates[-6:]
    assert_frame_equal(frame, full_read(monkeypatch, path, dates[-6]))


def test_what_lies_before_the_tail_goes_unnoticed_by_a_nights_read(tmp_path, full_reads, tiny_blocks):
    dates, lines = random_rows(random.Random(4), 200, HEADERS["plain"])
    late = dates[-1] + dt.timedelta(days=5)
    lines[10] = late.isoformat() + lines[10][10:]  # far out of order, and inside the window
    write_file(path := tmp_path / "T.csv", HEADERS["plain"], lines)
    assert read_price_csv(path, "T", since=dates[-3])["date"].to_list() == dates[-3:]
    assert not full_reads
    assert read_price_csv(path, "T")["date"].to_list()[-1] == late  # a full read has it
    lines[20] = "2001-13-01" + lines[20][10:]
    write_file(path, HEADERS["plain"], lines)
    assert read_price_csv(path, "T", since=dates[-3]).height == 3
    with pytest.raises(InputError, match=r"line 22: date '2001-13-01' is not a YYYY-MM-DD date$"):
        read_price_csv(path, "T", since=dates[0])


def test_a_problem_in_the_tail_is_told_with_the_files_line_number(tmp_path, full_reads, tiny_blocks):
    dates, lines = random_rows(random.Random(5), 200, HEADERS["plain"])
    bad_value = [*lines[:-2], lines[-2].replace(",", ",oops", 1), lines[-1]]
    write_file(path := tmp_path / "T.csv", HEADERS["plain"], bad_value)
    with pytest.raises(InputError, match=rf"T.csv: line 200 \({dates[-2]}\): open 'oops.*' is not a number$"):
        read_price_csv(path, "T", since=dates[-3])
    bad_date = [*lines[:-3], "2001-02-30" + lines[-3][10:], *lines[-2:]]
    write_file(path, HEADERS["plain"], bad_date)
    with pytest.raises(InputError, match=r"T.csv: line 199: date '2001-02-30' is not a YYYY-MM-DD date$"):
        read_price_csv(path, "T", since=dates[-4])
    assert full_reads == [path, path]


def test_a_file_without_a_header_line_is_read_whole(tmp_path, monkeypatch, full_reads, tiny_blocks):
    path = tmp_path / "T.csv"
    path.write_bytes(b"date,open,high,low,close" + b" " * 100)  # no newline: a header and no rows
    assert read_price_csv(path, "T", since=dt.date(2020, 1, 1)).is_empty()
    assert full_reads == [path]
    monkeypatch.setattr(csv_files, "HEADER_MAX", 8)
    dates, lines = random_rows(random.Random(6), 200, HEADERS["plain"])
    write_file(path, HEADERS["plain"], lines)
    assert read_price_csv(path, "T", since=dates[-2])["date"].to_list() == dates[-2:]
    assert full_reads == [path, path]

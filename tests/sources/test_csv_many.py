"""The csv source's batch read (daily_prices_many) gives, ticker by ticker, exactly what
one daily_prices call per file gives: the same rows, or the same error."""

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.sources import csv_files
from surgewatch.sources.csv_files import CsvSource
from tests.sources.test_csv_tail import HEADERS, random_rows, write_file


def one_by_one(source: CsvSource, starts: dict, end: dt.date | None) -> dict:
    out = {}
    for ticker, start in starts.items():
        try:
            out[ticker] = source.daily_prices(ticker, start, end)
        except Exception as exc:  # noqa: BLE001
            out[ticker] = exc
    return out


def assert_same(batch: dict, single: dict) -> None:
    assert batch.keys() == single.keys()
    for ticker, expected in single.items():
        got = batch[ticker]
        if isinstance(expected, Exception):
            assert type(got) is type(expected) and str(got) == str(expected), ticker
        else:
            assert isinstance(got, pl.DataFrame), f"{ticker}: {got!r}"
            assert_frame_equal(got, expected, check_exact=True)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> tuple[Path, dict[str, list[dt.date]]]:
    """Files of every kind the per-file read handles, small tails forced by a small TAIL_FROM."""
    monkeypatch.setattr(csv_files, "TAIL_FROM", 2_000)
    rng = random.Random(5)
    dates = {}
    for i in range(30):
        header = rng.choice(list(HEADERS.values()))
        days, lines = random_rows(rng, rng.choice([3, 40, 200]), header)
        kwargs = dict(crlf=i % 5 == 1, bom=i % 7 == 2, eol_end=i % 4 != 3, blank_end=i % 6 == 4)
        write_file(tmp_path / f"T{i:02d}.csv", header, lines, **kwargs)
        dates[f"T{i:02d}"] = days
    days, lines = random_rows(rng, 200, HEADERS["plain"])
    broken = {
        "BADLAST": lines[:-1] + [lines[-1].replace(lines[-1].split(",")[4], "abc", 1)],  # refused in the window
        "BADOLD": [lines[0].replace(lines[0].split(",")[4], "abc", 1)] + lines[1:],  # before any window
        "UNSORTED": lines[:150] + [lines[-1]] + lines[150:-1],
        "DUPLICATE": lines + [lines[-1]],
        "QUOTED": [f'"{line}"' if j == len(lines) - 2 else line for j, line in enumerate(lines)],
        "NEGATIVE": lines[:-1] + [lines[-1].replace(lines[-1].split(",")[1], "-1", 1)],
    }
    for name, rows in broken.items():
        write_file(tmp_path / f"{name}.csv", HEADERS["plain"], rows)
        dates[name] = days
    (tmp_path / "EMPTY.csv").write_text("")
    (tmp_path / "HEADONLY.csv").write_text(HEADERS["plain"] + "\n")
    write_file(tmp_path / "RUT.csv", HEADERS["plain"], lines)
    dates |= {"EMPTY": days, "HEADONLY": days, "^RUT": days, "MISSING": days}
    return tmp_path, dates


@pytest.mark.parametrize("when", ["whole", "tails", "mixed"])
def test_the_batch_read_equals_one_read_per_file(folder, when):
    path, dates = folder
    rng = random.Random(when)
    source = CsvSource(path)
    starts = {}
    for ticker, days in dates.items():
        if when == "whole" or (when == "mixed" and rng.random() < 0.3):
            starts[ticker] = None
        else:
            starts[ticker] = days[max(0, len(days) - rng.randint(1, 8))] - dt.timedelta(days=rng.choice([0, 1]))
    for end in (None, max(max(d) for d in dates.values()) - dt.timedelta(days=3)):
        assert_same(source.daily_prices_many(starts, end), one_by_one(source, starts, end))


def test_files_the_batch_cannot_take_are_read_alone(folder, monkeypatch):
    path, dates = folder
    source = CsvSource(path)
    alone: list[str] = []
    single = source.daily_prices

    def spy(ticker, start, end):
        alone.append(ticker)
        return single(ticker, start, end)

    monkeypatch.setattr(source, "daily_prices", spy)
    starts = {t: d[-3] for t, d in dates.items() if t.startswith("T")}
    starts |= {t: dates[t][-3] for t in ("BADLAST", "UNSORTED", "QUOTED", "EMPTY")}
    source.daily_prices_many(starts, None)
    assert sorted(alone) == ["BADLAST", "EMPTY", "QUOTED", "UNSORTED"]

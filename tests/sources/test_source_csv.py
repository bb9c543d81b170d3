"""The csv source and read_price_csv: good files read exactly, bad ones get one clear line."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.sources import RAW_SCHEMA, make_source, read_price_csv
from surgewatch.core.errors import InputError, SettingsError, SourceError
from surgewatch.core.settings import Settings
from tests.fake_providers import shared_prices

HEADER = "date,open,high,low,close,adj_close,volume"
GOOD_ROWS = [
    "2026-06-11,284.44000244140625,291.05999755859375,284.07000732421875,290.4100036621094,289.72100830078125,41468800",
    "2026-06-12,291.6300048828125,295.7200012207031,290.30999755859375,292.95001220703125,,34415200",
    "2026-06-15,296.55999755859375,297.9100036621094,293.9200134277344,294.6400146484375,294.6400146484375,",
]


def write(tmp_path: Path, *lines: str, name: str = "TEST.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def csv_source(folder: Path | None):
    return make_source(Settings(_env_file=None, source="csv", csv_dir=folder))


def test_reads_values_exactly_as_written(tmp_path):
    frame = read_price_csv(write(tmp_path, HEADER, *GOOD_ROWS), "test")
    assert frame.schema == RAW_SCHEMA
    assert frame.row(0) == (
        "TEST",
        dt.date(2026, 6, 11),
        284.44000244140625,
        291.05999755859375,
        284.07000732421875,
        290.4100036621094,
        289.72100830078125,
        41468800,
    )
    assert frame["adj_close"][1] is None
    assert frame["volume"][2] is None


def test_accepts_yahoo_download_headers_missing_optional_columns_and_any_row_order(tmp_path):
    path = write(tmp_path, "Date,Open,High,Low,Close", "2026-06-12,2,3,1,2.5", "2026-06-11,1,2,0.5,1.5")
    frame = read_price_csv(path, "TEST")
    assert frame["date"].to_list() == [dt.date(2026, 6, 11), dt.date(2026, 6, 12)]
    assert frame["adj_close"].null_count() == 2 and frame["volume"].null_count() == 2
    yahoo = write(tmp_path, "Date,Open,High,Low,Close,Adj Close,Volume", "2026-06-11,1,2,0.5,1.5,1.4,10", name="Y.csv")
    assert read_price_csv(yahoo, "Y")["adj_close"].to_list() == [1.4]


def test_reads_the_shared_files(tmp_path):
    prices = shared_prices()
    frame = read_price_csv(prices / "IWM.csv", "IWM")
    rows = pl.read_csv(prices / "IWM.csv", schema_overrides={"date": pl.Date, "volume": pl.Int64})
    assert_frame_equal(frame.drop("ticker"), rows)
    assert read_price_csv(prices / "RUT.csv", "^RUT")["adj_close"].null_count() == 9811


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (None, r"TEST.csv: no such file$"),
        ([], r"TEST.csv: empty file \(expected a header date,open"),
        (["date,open,close,volume", "2026-06-11,1,2,3"], r"TEST.csv: missing column\(s\) high, low \(expected"),
        (
            [HEADER, "2026-06-11,1,2,0.5,1.5,1.5,1", "11/06/2026,1,2,0.5,1.5,1.5,1"],
            r"TEST.csv: line 3: date '11/06/2026' is not a YYYY-MM-DD date$",
        ),
        ([HEADER, "2026-02-30,1,2,0.5,1.5,1.5,1"], r"TEST.csv: line 2: date '2026-02-30' is not a YYYY-MM-DD date$"),
        ([HEADER, ",1,2,0.5,1.5,1.5,1"], r"TEST.csv: line 2: date \(empty\) is not a YYYY-MM-DD date$"),
        (
            [HEADER, "2026-06-11,1,2,0.5,abc,1.5,1", "2026-06-12,1,2,0.5,n/a,1.5,1"],
            r"TEST.csv: line 2 \(2026-06-11\): close 'abc' is not a number \(and 1 more row\(s\)\)$",
        ),
        (
            [HEADER, "2026-06-11,1,2,0.5,1.5,1.5,lots"],
            r"TEST.csv: line 2 \(2026-06-11\): volume 'lots' is not a number$",
        ),
        ([HEADER, "2026-06-11,1,2,0.5,nan,1.5,1"], r"close 'nan' is not a number$"),
        ([HEADER, "2026-06-11,1,,0.5,1.5,1.5,1"], r"TEST.csv: line 2 \(2026-06-11\): high is empty$"),
        (
            [HEADER, "2026-06-11,1,2,0.5,1.5,1.5,1", "2026-06-12,1,2,0,1.5,1.5,1"],
            r"TEST.csv: line 3 \(2026-06-12\): low is 0, prices must be > 0$",
        ),
        ([HEADER, "2026-06-11,1,2,0.5,1.5,-1.5,1"], r"line 2 \(2026-06-11\): adj_close is -1.5, prices must be > 0$"),
        ([HEADER, "2026-06-11,1,2,0.5,1.5,1.5,-3"], r"line 2 \(2026-06-11\): volume is -3, must be >= 0$"),
        (
            [HEADER, *[f"2026-06-1{d},1,2,0.5,1.5,1.5,1" for d in (1, 1, 2, 5, 2)]],
            r"TEST.csv: duplicate dates 2026-06-11, 2026-06-12: one row per session expected$",
        ),
        ([HEADER, "2026-06-11,1,2,0.5,1.5,1.5,1,extra"], r"TEST.csv: not a readable CSV \("),
    ],
)
def test_bad_files_get_one_line_naming_the_problem(tmp_path, lines, message):
    path = tmp_path / "TEST.csv" if lines is None else write(tmp_path, *lines)
    with pytest.raises(InputError, match=message) as caught:
        read_price_csv(path, "TEST")
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_blank_lines_are_skipped_and_lines_still_counted(tmp_path):
    path = write(tmp_path, HEADER, GOOD_ROWS[0], "", ",,,,,,", "2026-06-12,1,2,0.5,x,1.5,1")
    with pytest.raises(InputError, match=r"line 5 \(2026-06-12\): close 'x' is not a number$"):
        read_price_csv(path, "TEST")
    assert read_price_csv(write(tmp_path, HEADER, GOOD_ROWS[0], "", GOOD_ROWS[1]), "TEST").height == 2


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_price_csv(tmp_path, "TEST")


def test_source_reads_the_tickers_file_for_the_window(tmp_path):
    write(tmp_path, HEADER, *GOOD_ROWS)
    source = csv_source(tmp_path)
    assert source.name == "csv"
    frame = source.daily_prices("test", dt.date(2026, 6, 12), dt.date(2026, 6, 12))
    assert frame.rows() == [
        (
            "TEST",
            dt.date(2026, 6, 12),
            291.6300048828125,
            295.7200012207031,
            290.30999755859375,
            292.95001220703125,
            None,
            34415200,
        )
    ]


def test_source_reads_the_shared_folder():
    prices = shared_prices()
    frame = csv_source(prices).daily_prices("IWM", dt.date(2026, 8, 1), None)
    assert frame["date"].to_list()[-1] == dt.date(2026, 8, 21)
    assert frame.height == 15


def test_an_index_file_is_found_with_or_without_its_caret(tmp_path):
    write(tmp_path, HEADER, GOOD_ROWS[0], name="RUT.csv")
    assert csv_source(tmp_path).daily_prices("^RUT", None, None)["ticker"].to_list() == ["^RUT"]
    write(tmp_path, HEADER, *GOOD_ROWS, name="^RUT.csv")
    assert csv_source(tmp_path).daily_prices("^RUT", None, None).height == 3


def test_a_missing_file_is_a_source_error_naming_the_folder(tmp_path):
    with pytest.raises(SourceError, match=rf"^\^RUT: no file \^RUT.csv or RUT.csv in {tmp_path}$"):
        csv_source(tmp_path).daily_prices("^RUT", None, None)
    with pytest.raises(SourceError, match=rf"^QQQ: no file QQQ.csv in {tmp_path}$"):
        csv_source(tmp_path).daily_prices("QQQ", None, None)


def test_a_broken_file_fails_only_its_ticker(tmp_path):
    write(tmp_path, HEADER, "2026-06-11,1,2,0.5,-1,1,1")
    with pytest.raises(SourceError, match=r"^TEST: .*TEST.csv: line 2 \(2026-06-11\): close is -1,"):
        csv_source(tmp_path).daily_prices("TEST", None, None)


def test_the_csv_source_needs_a_folder(tmp_path):
    with pytest.raises(SettingsError, match="SURGEWATCH_CSV_DIR"):
        csv_source(None)


def test_a_night_reads_only_the_rows_from_its_start(tmp_path):
    # A bad value before the window is never parsed; one inside it is still refused.
    path = write(tmp_path, HEADER, "2026-06-10,oops,1,1,1,1,1", *GOOD_ROWS)
    with pytest.raises(InputError, match=r"line 2 \(2026-06-10\): open 'oops' is not a number"):
        read_price_csv(path, "test")
    window = read_price_csv(path, "test", since=dt.date(2026, 6, 12))
    assert window["date"].to_list() == [dt.date(2026, 6, 12), dt.date(2026, 6, 15)]
    assert_frame_equal(window, read_price_csv(write(tmp_path, HEADER, *GOOD_ROWS[1:], name="B.csv"), "test"))
    assert (
        csv_source(tmp_path).daily_prices("test", dt.date(2026, 6, 12), None)["date"].to_list()
        == window["date"].to_list()
    )
    with pytest.raises(InputError, match="line 3: date 'June 13' is not a YYYY-MM-DD date"):
        read_price_csv(
            write(tmp_path, HEADER, GOOD_ROWS[0], "June 13,1,1,1,1,1,1", name="C.csv"),
            "test",
            since=dt.date(2026, 6, 12),
        )

"""Tables that read (issue 35, SPEC §4): at 80 and 120 columns no value, month or verdict
is ever cut across lines, in every block a command prints: a cell is a whole cell of
the same output without a width limit, a wrapped sentence breaks between words and never
inside a verdict, and what a narrow terminal drops is named."""

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest

from benchmarks.universe import publish_study

from surgewatch.cli import main
from surgewatch.core.params import StudyParams
from surgewatch.core.vocabulary import VERDICTS
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.study.run import run_study
from tests.factories import use_home

TICKERS = ("IWM", "SPY", "QQQ")
NIGHTS = ("2026-06-30", "2026-07-31")
_BLOCK_LINE = re.compile(r"^\s*([\w' ()%-]+) = (.*)$")  # one record per block: `name = value`


@pytest.fixture(scope="module")
def home(prices_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tickers' prices and study, published as of two nights (two versions)."""
    home = tmp_path_factory.mktemp("tables-read")
    every = pl.concat([read_price_csv(prices_dir / f"{t}.csv", t) for t in TICKERS])
    params = StudyParams(resamples=500)
    for i, day in enumerate(NIGHTS, 1):
        as_of = dt.date.fromisoformat(day)
        prices = every.filter(pl.col("date") <= as_of)
        publish_study(home, prices, run_study(prices, params), f"run-{i}", as_of)
    return home


@pytest.fixture
def outputs(home, prices_dir, capsys, monkeypatch):
    """Each command's output at a width (None: no terminal, every cell whole on one line)."""
    use_home(monkeypatch, home)
    iwm = str(prices_dir / "IWM.csv")

    def at(width: int | None, *argv: str) -> str:
        if width is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", str(width))
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    first, last = (json.loads(at(None, "versions", "--format", "json"))[i]["version"] for i in (0, -1))
    commands = {
        "study": ["study", "--ticker", "IWM", "--prices", iwm, "--as-of", "2026-07-31"],
        "when": ["study", "--ticker", "IWM", "--prices", iwm, "--when", "prior_drawdown <= -0.10"],
        "several": ["study", "--ticker", ",".join(TICKERS), "--resamples", "2000"],
        "analogs": ["analogs", "--ticker", "IWM", "--prices", iwm, "--as-of", "2026-04-20"],
        "universe": ["analogs", "--ticker", "IWM", "--universe", "--as-of", "2026-04-20"],
        "versions": ["versions"],
        "diff": ["diff", str(first), str(last), "--table", "signal_stats"],
        "sql": ["sql", "select * from signal_stats order by ticker, horizon"],
    }
    return at, commands


def table_cells(text: str) -> list[str]:
    """The cells of every table line (body │ and header ┃), and the values of `name = value` lines."""
    cells = []
    for line in text.splitlines():
        for bar in "│┃":
            if line.startswith(bar):
                cells += [cell.strip() for cell in line.split(bar)[1:-1]]
        block = _BLOCK_LINE.match(line)
        if block and not line.startswith(("│", "┃")):
            cells.append(block.group(2).strip())
    return [c for c in cells if c]


def prose(text: str) -> list[str]:
    """The lines that are no table and no note of dropped columns."""
    text = re.sub(r"\(not shown at \d+ columns: [^)]*\)", "", text)
    return [
        line for line in text.splitlines() if line.strip() and line[0] not in "│┃┏┡└" and not _BLOCK_LINE.match(line)
    ]


def assert_nothing_cut(narrow: str, whole: str, width: int, wrapping: bool = False) -> None:
    """wrapping: the table has columns of words (versions' message and changes), whose
    cells may wrap between words: each line of such a cell is whole words."""
    assert max(map(len, narrow.splitlines()), default=0) <= width
    shown = set(table_cells(whole))
    in_cells = {word for cell in shown for word in cell.split()}
    for cell in table_cells(narrow):
        whole_words = wrapping and all(word in in_cells for word in cell.split())
        assert cell in shown or whole_words, f"a cut cell: {cell!r}"
    words = {word for line in prose(whole) for word in line.split()}
    lines = prose(narrow)
    for line in lines:
        for word in line.split():
            assert word in words, f"a word cut across lines: {word!r} in {line!r}"
    for before, after in zip(lines, lines[1:]):
        joined = f"{before.rstrip()} {after.strip()}"
        for verdict in VERDICTS:
            assert joined.count(verdict) == before.count(verdict) + after.count(verdict), (verdict, before, after)


@pytest.mark.parametrize("width", [80, 120])
def test_no_value_month_or_verdict_is_cut_at_any_width(outputs, width):
    at, commands = outputs
    for name, argv in commands.items():
        whole, narrow = at(None, *argv), at(width, *argv)
        try:
            assert_nothing_cut(narrow, whole, width, wrapping=name == "versions")
        except AssertionError as error:
            raise AssertionError(f"{name} at {width} columns: {error}\n{narrow}") from error


def test_a_narrow_terminal_names_what_it_dropped_and_wide_shows_it(outputs):
    at, commands = outputs
    narrow = at(80, *commands["study"])
    assert "(not shown at 80 columns: " in narrow and "--wide shows every column" in narrow
    wide = at(80, *commands["study"], "--wide")
    assert "│ excess" in wide or "┃   excess" in wide or "excess ┃" in wide


def test_the_universe_shows_each_analogs_ticker_and_feature_values_beside_their_shares(outputs):
    at, commands = outputs
    out = at(120, *commands["universe"])
    doc = json.loads(at(None, *commands["universe"], "--format", "json"))
    analogs = [line.split("│") for line in out.splitlines() if re.match(r"│ \d{4}-\d\d +│ \w+ +│ +\d", line)]
    assert [(cells[1].strip(), cells[2].strip()) for cells in analogs] == [
        (a["month"], a["ticker"]) for a in doc["analogs"]
    ]
    assert len({cells[2] for cells in analogs}) > 1  # other tickers' months, each named
    # Every feature: its value, its share of the squared distance beside it.
    for cells, analog in zip(analogs, doc["analogs"]):
        move, up_share = cells[4].strip(), cells[7].strip()
        assert move == f"{analog['move'] * 100:+.2f}% ({analog['shares']['move']:.0%})"
        assert up_share == f"{analog['up_share'] * 100:.2f}% ({analog['shares']['up_share']:.0%})"


def test_analogs_of_a_month_that_is_no_event_say_so_and_name_the_latest(outputs):
    at, commands = outputs
    out = at(120, "analogs", "--ticker", "IWM", "--as-of", "2026-07-31")
    assert out.startswith("IWM 2026-07 is not an event month; its latest event is 2026-04 (--month 2026-04).")
    doc = json.loads(at(None, "analogs", "--ticker", "IWM", "--as-of", "2026-07-31", "--format", "json"))
    assert (doc["target_is_event"], doc["latest_event"]) == (False, "2026-04")
    event = json.loads(at(None, "analogs", "--ticker", "IWM", "--month", "2026-04", "--format", "json"))
    assert (event["target_is_event"], event["latest_event"]) == (True, "2026-04")


def test_several_tickers_side_by_side_one_row_per_ticker_and_horizon(outputs):
    at, commands = outputs
    out = at(120, *commands["several"])
    rows = [line.split("│") for line in out.splitlines() if re.match(r"│ (IWM|SPY|QQQ) ", line)]
    assert [(r[1].strip(), r[2].strip()) for r in rows] == [(t, f"{h}M") for t in TICKERS for h in (1, 3, 6, 12)]
    assert all(r[3].strip() in VERDICTS for r in rows)


def test_the_benchmark_commands_read_the_warehouse_as_they_read_files(outputs, prices_dir):
    """§2d from the warehouse: the same figures as from the CSVs through the same night."""
    at, _ = outputs
    files = ["--prices", str(prices_dir / "IWM.csv"), "--vs-prices", str(prices_dir / "SPY.csv"), "--as-of", NIGHTS[-1]]
    stored = json.loads(at(None, "study", "--ticker", "IWM", "--vs", "SPY", "--resamples", "500", "--format", "json"))
    direct = json.loads(
        at(None, "study", "--ticker", "IWM", "--vs", "SPY", "--resamples", "500", *files, "--format", "json")
    )
    assert stored == direct and stored["vs"] == "SPY"
    path = json.loads(at(None, "path", "--ticker", "IWM", "--vs", "SPY", "--sessions", "3", "--format", "json"))
    assert path["vs"] == "SPY" and len(path["path"]) == 4
    compare = json.loads(at(None, "compare", "IWM,SPY,QQQ", "--since", "2025-08-01", "--format", "json"))
    assert compare["as_of"] == NIGHTS[-1] and [r["ticker"] for r in compare["returns"]] == list(TICKERS)


def test_a_benchmark_not_stored_is_one_line(outputs, capsys):
    assert main(["study", "--ticker", "IWM", "--vs", "DIA"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DIA is not in the warehouse" in err[0]

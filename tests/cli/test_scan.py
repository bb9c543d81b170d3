"""`surgewatch scan` (SPEC §4, issue 31): the month's movers over a synthetic universe of a
few dozen tickers, from the published tables, each figure equal to `study`'s."""

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from benchmarks.universe import generate_universe, publish_study
from surgewatch.cli import main
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.study.scan import VERDICT_RANK
from tests.factories import use_home

PARAMS = StudyParams(resamples=400, threshold=0.05)


@pytest.fixture(scope="module")
def universe(tmp_path_factory) -> tuple[Path, pl.DataFrame]:
    home = tmp_path_factory.mktemp("scan")
    prices = generate_universe(36, 8, seed=11)
    result = run_study(prices, PARAMS)
    publish_study(home, prices, result, "run-1")
    return home, result


@pytest.fixture
def scan(universe, monkeypatch, capsys):
    home, _ = universe
    use_home(monkeypatch, home)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["scan", "--threshold", "0.05", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def busiest_month(result) -> dt.date:
    counts = result.events.group_by("month").len().sort(["len", "month"], descending=True)
    return counts["month"][0]


def test_every_movers_figures_are_its_studys(universe, scan):
    _, result = universe
    month = busiest_month(result)
    code, out, err = scan("--month", f"{month:%Y-%m}", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    expected = result.events.filter(pl.col("month") == month)
    assert doc["tickers_scanned"] == result.monthly.filter(pl.col("month") == month).height
    assert sorted(m["ticker"] for m in doc["movers"]) == sorted(expected["ticker"].to_list()) and len(doc["movers"]) > 3
    summary = {(r["ticker"], r["horizon"]): r for r in result.summary.iter_rows(named=True)}
    stats = {(r["ticker"], r["horizon"]): r for r in result.stats.iter_rows(named=True)}
    event = {r["ticker"]: r for r in expected.iter_rows(named=True)}
    for mover in doc["movers"]:
        t = mover["ticker"]
        assert mover["move"] == pytest.approx(event[t]["move"], abs=1e-15) and not mover["near"]
        assert mover["first_crossed_on"] == (
            str(event[t]["first_crossed_on"]) if event[t]["first_crossed_on"] else None
        )
        for h in mover["history"]:
            key = (t, h["horizon"])
            assert (h["n"], h["verdict"]) == (summary[key]["n"], stats[key]["verdict"])
            assert (
                h["average"] == pytest.approx(summary[key]["average"], abs=1e-15, nan_ok=True)
                if h["average"] is not None
                else summary[key]["average"] is None
            )
            assert (
                h["excess"] == pytest.approx(stats[key]["excess"], abs=1e-15)
                if h["excess"] is not None
                else stats[key]["excess"] is None
            )
    # Ranked by the 12M verdict, then the 12M excess, falling.
    keys = []
    for mover in doc["movers"]:
        twelve = next(h for h in mover["history"] if h["horizon"] == 12)
        keys.append(
            (VERDICT_RANK.get(twelve["verdict"], 99), -(twelve["excess"] if twelve["excess"] is not None else -1e9))
        )
    assert keys == sorted(keys)


def test_near_adds_the_moves_just_short_of_the_threshold(universe, scan):
    _, result = universe
    month = busiest_month(result)
    code, out, _ = scan("--month", f"{month:%Y-%m}", "--near", "1", "--format", "json")
    rows = result.monthly.filter((pl.col("month") == month) & pl.col("move").is_between(0.04, 0.05, closed="left"))
    near = [m for m in json.loads(out)["movers"] if m["near"]]
    assert sorted(m["ticker"] for m in near) == sorted(rows["ticker"].to_list())


def test_a_month_with_no_mover_is_one_line(universe, scan):
    _, result = universe
    calmest = result.monthly.group_by("month").agg(pl.col("move").max()).drop_nulls().sort("move").row(0)
    quiet, highest = calmest
    code, out, err = scan("--month", f"{quiet:%Y-%m}", "--threshold", f"{highest + 0.001:.4f}")
    assert code == 0 and err == "" and out.count("\n") == 1
    held = result.monthly.filter(pl.col("month") == quiet).height
    assert out.startswith(f"{quiet:%Y-%m}: no mover among {held} ticker(s)")


@pytest.mark.parametrize(
    ("argv", "message"), [(["--near", "x"], "--near"), (["--near", "9"], "--near 9"), (["--month", "2026-13"], "month")]
)
def test_bad_options_are_one_line(scan, argv, message):
    code, out, err = scan(*argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err

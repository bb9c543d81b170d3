"""The §2b figures of the `when` / `otherwise` groups (SPEC §2c): the study's own
signal_stats run on each group, in the JSON document and the table."""

import datetime as dt
import json
import re

import polars as pl
import pytest

from surgewatch.core.vocabulary import VERDICTS
from polars.testing import assert_frame_equal

from surgewatch.cli import main
from surgewatch.study.groups import conditional_study
from surgewatch.study.when import parse_condition
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import StudyResult, run_study
from surgewatch.core.vocabulary import forward_column

AS_OF = dt.date(2026, 7, 31)
RESAMPLES, SEED = 999, 3


@pytest.fixture(scope="module")
def iwm(prices_dir) -> StudyResult:
    prices = read_price_csv(prices_dir / "IWM.csv", "IWM")
    return run_study(prices, StudyParams(resamples=RESAMPLES, seed=SEED), as_of=AS_OF)


def test_a_condition_every_event_meets_gives_the_study_its_own_figures(iwm):
    split = conditional_study(iwm, "IWM", parse_condition("move > 0"), RESAMPLES, SEED)
    assert split.when.events.height == iwm.events.height
    assert_frame_equal(split.when.stats, iwm.stats)
    # No event is left for `otherwise`: n = 0 and every figure undefined, at every horizon.
    empty = split.otherwise.stats
    assert empty["horizon"].to_list() == list(iwm.params.horizons)
    assert empty["n"].to_list() == [0] * 4 and empty["n_independent"].to_list() == [0] * 4
    assert empty["placebo_draws"].to_list() == [0] * 4  # no test, so no random set drawn
    assert empty["verdict"].to_list() == ["too few episodes"] * 4
    figures = empty.drop("ticker", "horizon", "n", "n_independent", "placebo_draws", "verdict")
    assert all(figures[c].null_count() == empty.height for c in figures.columns)


def test_each_group_is_measured_against_every_month(iwm):
    """excess = mean(the group's R) − mean(every month's R), computed here from the frames."""
    split = conditional_study(iwm, "IWM", parse_condition("prior_drawdown <= -0.10"), RESAMPLES, SEED)
    for group, met in ((split.when, True), (split.otherwise, False)):
        for row in group.stats.iter_rows(named=True):
            fwd = forward_column(row["horizon"])
            mine = iwm.events.filter((pl.col("prior_drawdown") <= -0.10) == met)[fwd].drop_nulls()
            assert row["n"] == mine.len()
            assert row["excess"] == pytest.approx(mine.mean() - iwm.monthly[fwd].drop_nulls().mean(), rel=1e-12)
    when = {r["horizon"]: r for r in split.when.stats.iter_rows(named=True)}
    # 12 events with a 12M return; their windows overlap, and the walk keeps 8.
    assert (when[12]["n"], when[12]["n_independent"]) == (12, 8)
    assert when[12]["excess"] == pytest.approx(0.1930737432060602 - iwm.monthly["fwd_12m"].drop_nulls().mean())


def test_json_and_table_carry_the_group_figures(capsys, prices_dir):
    argv = ["study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--as-of", AS_OF.isoformat()]
    argv += ["--when", "prior_drawdown <= -0.10", "--resamples", str(RESAMPLES), "--seed", str(SEED)]
    assert main([*argv, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for group in ("when", "otherwise"):
        assert set(doc[group]) == {"events", "summary", "stats"}
        assert [s["horizon"] for s in doc[group]["stats"]] == [1, 3, 6, 12]
    assert [s["n"] for s in doc["otherwise"]["stats"]] == [2, 2, 2, 2]

    assert main(argv) == 0
    table = capsys.readouterr().out
    header = next(line for line in table.splitlines() if "┃ verdict" in line)
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    assert columns[:5] == ["group", "horizon", "verdict", "events' mean", "chance band"]
    rows = {
        tuple(cell.strip() for cell in line.split("│")[1:3]): dict(
            zip(columns, (c.strip() for c in line.split("│")[1:-1]))
        )
        for line in table.splitlines()
        if re.match(r"│ (all|when|otherwise) ", line)
    }
    for group in ("all", "when", "otherwise"):
        for h in ("1M", "3M", "6M", "12M"):
            assert rows[(group, h)]["verdict"] in VERDICTS
    # n = 2 against 12 or more: only the otherwise group is marked
    assert {rows[("otherwise", h)]["sample"] for h in ("1M", "12M")} == {"small sample"}
    assert rows[("when", "1M")]["sample"] == ""

    assert main([*argv, "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert "\nwhen,placebo_p," in csv and "\notherwise,ci_low," in csv

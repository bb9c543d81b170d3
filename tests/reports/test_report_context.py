"""The report's context section (SPEC §2c): the correction split and the analogs of each
ticker's latest month, read from the warehouse, are the `study --when` and `analogs`
commands' figures; the month-end paths are the closes rebased at each month."""

import dataclasses
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from surgewatch.study.analogs import find_analogs
from surgewatch.study.groups import conditional_study
from surgewatch.reports import build_report, load_report_data
from surgewatch.cli import main
from surgewatch.reports.context import CORRECTION, episode_paths, report_condition, ticker_context
from surgewatch.sources.series import read_series_csv
from surgewatch.study.outside import with_outside
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from tests.factories import open_read_only
from tests.fake_providers import SHARED
from tests.reports.conftest import REAL_AS_OF

FEDFUNDS = SHARED / "data" / "context" / "FEDFUNDS.csv"


def test_paths_are_closes_over_the_close_at_the_month():
    months = [dt.date(2020, m, 1) for m in range(1, 6)]
    month_end = pl.DataFrame(
        {
            "ticker": ["X"] * 5,
            "month": months,
            "close": [100.0, 110.0, 121.0, 99.0, 132.0],
            "complete": [True, True, True, True, False],
        }
    )
    anchors = pl.DataFrame({"ticker": ["X"], "month": [dt.date(2020, 3, 1)]})
    paths = episode_paths(month_end, anchors, before=2, after=3)
    # k = 3 (2020-06) is past the data: absent, not null.
    assert paths["k"].to_list() == [-2, -1, 0, 1, 2]
    assert paths["value"].to_list() == pytest.approx([100 / 121, 110 / 121, 1.0, 99 / 121, 132 / 121], rel=1e-15)
    assert paths["complete"].to_list() == [True, True, True, True, False]
    assert set(paths["anchor"]) == {dt.date(2020, 3, 1)}


@pytest.fixture(scope="module")
def loaded(warehouse_home):
    with open_read_only(warehouse_home) as wh:
        return load_report_data(wh)


@pytest.fixture(scope="module")
def iwm_study(prices_dir):
    return run_study(
        read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=dt.date.fromisoformat(REAL_AS_OF)
    )


def test_the_split_is_study_when_on_the_same_data(loaded, iwm_study):
    """The warehouse's IWM through the article's night, against `study --when` on the csv."""
    mine = ticker_context(loaded, "IWM").split
    study = conditional_study(iwm_study, "IWM", CORRECTION, iwm_study.params.resamples, iwm_study.params.seed)
    assert [f"{m:%Y-%m}" for m in mine.otherwise.events["month"]] == ["2016-11", "2024-07"]
    _assert_same_split(mine, study)


def test_the_split_draws_with_the_stored_resamples_and_seed(loaded, iwm_study):
    """A warehouse whose figures were drawn with B = 2,000 and seed 5: the report's split
    uses those, not the study's defaults."""
    stored = dataclasses.replace(loaded, stats=loaded.stats.with_columns(resamples=pl.lit(2_000), seed=pl.lit(5)))
    mine = ticker_context(stored, "IWM")
    study = conditional_study(iwm_study, "IWM", CORRECTION, 2_000, 5)
    assert mine.resamples == 2_000
    assert_frame_equal(mine.split.diff, study.diff, rel_tol=1e-12)
    assert_frame_equal(mine.split.when.stats, study.when.stats, rel_tol=1e-12)
    assert not mine.split.diff.equals(ticker_context(loaded, "IWM").split.diff)


def test_the_analogs_are_the_commands(loaded, iwm_study):
    """April 2026 is the latest event of that night, 13 sessions in: the five nearest,
    compared like with like, as `analogs` lists them (SPEC §2c)."""
    mine = ticker_context(loaded, "IWM")
    command = find_analogs(iwm_study, "IWM", None, 5, universe=False)
    assert mine.target["month"] == dt.date(2026, 4, 1) and not mine.target["complete"]
    assert mine.target["sessions"] == 13
    assert mine.analogs.nearest["month"].to_list() == command.found.nearest["month"].to_list()
    assert mine.analogs.nearest["distance"].to_list() == pytest.approx(
        command.found.nearest["distance"].to_list(), rel=1e-12
    )
    for f in command.found.features:
        assert mine.analogs.nearest[f"share_{f}"].to_list() == pytest.approx(
            command.found.nearest[f"share_{f}"].to_list(), rel=1e-9
        )
    assert mine.analogs.candidates.height == command.found.candidates.height
    # Cut at session 13 like April, no candidate's up share sits 5 deviations away.
    assert max(mine.analogs.nearest["share_up_share"]) < 0.9


def test_a_month_that_did_not_qualify_is_no_target(loaded):
    """As if April had not crossed the threshold: the target is the latest event, not April."""
    earlier = loaded.events.filter(pl.col("month") < dt.date(2026, 4, 1))
    mine = ticker_context(dataclasses.replace(loaded, events=earlier), "IWM")
    last = earlier.filter(pl.col("ticker") == "IWM")["month"].max()
    assert mine.target["month"] == last and mine.target["complete"]
    assert mine.analogs.nearest["month"].max() < last
    assert ticker_context(dataclasses.replace(loaded, events=earlier.head(0)), "IWM") is None


def test_the_page_shows_each_tickers_split_and_analogs(loaded):
    html = build_report(loaded)
    section = html[html.index('<section id="context">') :]
    section = section[: section.index("</section>")]
    for ticker in loaded.tickers:
        assert f'id="context-{ticker}"' in section
    assert "<code>prior_drawdown &lt;= -0.10</code>" in section
    assert "After a correction · 13 events" in section and "Otherwise · 2 events" in section
    assert "Nearest earlier events to 2026-04 (MTD to 04-20), each cut at session 13" in section
    assert "<th>Nearest by</th>" in section and section.count('<td class="shares">') == sum(
        ticker_context(loaded, t).analogs.nearest.height for t in loaded.tickers
    )
    assert "earlier months past the threshold at that session" in section
    assert 'id="chart-analogs"' in section


def _fedfunds() -> pl.DataFrame:
    if not FEDFUNDS.is_file():
        pytest.skip("../shared is absent")
    return read_series_csv(FEDFUNDS).with_columns(name=pl.lit("fedfunds"), source=pl.lit("csv:FEDFUNDS.csv"))


def _assert_same_split(mine, study):
    assert mine.when.events["month"].to_list() == study.when.events["month"].to_list()
    for group in ("when", "otherwise"):
        for frame in ("summary", "stats"):
            assert_frame_equal(
                getattr(getattr(mine, group), frame), getattr(getattr(study, group), frame), rel_tol=1e-12
            )
    assert_frame_equal(mine.baseline_when, study.baseline_when, rel_tol=1e-12)
    assert_frame_equal(mine.diff, study.diff, rel_tol=1e-12)


@pytest.mark.parametrize("text", ["SPY.prior_drawdown <= -0.10", "fedfunds_chg_3m < 0 and move >= 0.10"])
def test_a_user_condition_is_study_when_with_the_same_outside_fields(loaded, iwm_study, prices_dir, text):
    """`report --when` with another ticker's field (from its stored months) or a context
    series' (from the stored series) splits as `study --when` does on the CSVs."""
    stored = dataclasses.replace(loaded, context=_fedfunds())
    condition = report_condition(text, stored)
    mine = ticker_context(stored, "IWM", condition).split

    def spy(_: str) -> pl.DataFrame:
        return read_price_csv(prices_dir / "SPY.csv", "SPY")

    names = [c.field for c in condition.comparisons]
    study = with_outside(iwm_study, names, spy, stored.context)
    _assert_same_split(mine, conditional_study(study, "IWM", condition, study.params.resamples, study.params.seed))
    assert 0 < mine.when.events.height < loaded.events.filter(pl.col("ticker") == "IWM").height


def test_a_tickers_field_by_hand(loaded):
    """SPY.prior_drawdown <= -0.10: exactly IWM's events in months SPY's stored row puts
    10% or more under its prior high; a month SPY lacks would count as not met."""
    mine = ticker_context(loaded, "IWM", report_condition("spy.prior_drawdown <= -0.10", loaded)).split
    spy = loaded.month_end.filter((pl.col("ticker") == "SPY") & (pl.col("prior_drawdown") <= -0.10))["month"]
    iwm = loaded.events.filter(pl.col("ticker") == "IWM")["month"]
    assert mine.when.events["month"].to_list() == [m for m in iwm if m in set(spy)]
    assert sorted(mine.otherwise.events["month"].to_list()) == [m for m in iwm if m not in set(spy)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "XYZ.prior_drawdown <= -0.1",
            "--when: XYZ.prior_drawdown: XYZ is not in the warehouse (it holds IWM, SPY, QQQ)",
        ),
        ("SPY.fwd_3m > 0", "SPY.fwd_3m looks ahead"),
        ("fedfunds < 1", "unknown field 'fedfunds'"),
    ],
)
def test_a_bad_report_condition_is_one_line(warehouse_home, tmp_path, monkeypatch, capsys, text, message):
    monkeypatch.setenv("SURGEWATCH_HOME", str(warehouse_home))
    out = tmp_path / "r.html"
    assert main(["report", "--out", str(out), "--when", text]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not out.exists()


def test_the_page_names_a_user_condition(loaded):
    html = build_report(loaded, when=report_condition("SPY.prior_drawdown <= -0.10", loaded))
    section = html[html.index('<section id="context">') :]
    section = section[: section.index("</section>")]
    assert (
        "Context: when SPY.prior_drawdown &lt;= -0.10, and" in section
        and "<code>SPY.prior_drawdown &lt;= -0.10</code>" in section
    )
    assert "When it holds · " in section and "When it holds − otherwise" in section
    assert "correction" not in section.replace("prior_drawdown", "")

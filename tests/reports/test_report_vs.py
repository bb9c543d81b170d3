"""The report against a benchmark and session by session (SPEC §2d): its figures are the
`study --vs` and `path` commands' on the same data."""

import datetime as dt

import pytest
from polars.testing import assert_frame_equal

from surgewatch.core.params import StudyParams
from surgewatch.reports import build_report, load_report_data
from surgewatch.reports.event_study import ticker_path, vs_rows
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.study.paths import event_path
from surgewatch.study.relative import relative_study
from surgewatch.study.run import run_study
from tests.factories import open_read_only
from tests.reports.conftest import REAL_AS_OF


@pytest.fixture(scope="module")
def loaded(warehouse_home):
    with open_read_only(warehouse_home) as wh:
        return load_report_data(wh)


def prices(prices_dir, ticker):
    return read_price_csv(prices_dir / f"{ticker}.csv", ticker)


def test_the_vs_section_is_study_vs_on_the_same_data(loaded, prices_dir):
    resamples, seed = loaded.draws("IWM")
    params = StudyParams(resamples=resamples, seed=seed)
    study = relative_study(
        prices(prices_dir, "IWM"), prices(prices_dir, "SPY"), "SPY", params, dt.date.fromisoformat(REAL_AS_OF)
    )
    [iwm, qqq] = vs_rows(loaded, "SPY")
    assert (iwm["ticker"], qqq["ticker"]) == ("IWM", "QQQ")
    summary = {r["horizon"]: r for r in study.summary.iter_rows(named=True)}
    stats = {r["horizon"]: r for r in study.stats.iter_rows(named=True)}
    for row in iwm["rows"]:
        h = int(row["horizon"].rstrip("M"))
        assert row["n"] == summary[h]["n"] and row["mean"] == f"{summary[h]['average'] * 100:+.2f}%"
        assert (row["verdict"], row["p"]) == (stats[h]["verdict"], f"{stats[h]['placebo_p']:.3f}")
        assert row["band"] == f"{stats[h]['chance_low'] * 100:+.2f}% to {stats[h]['chance_high'] * 100:+.2f}%"


def test_the_path_chart_is_the_path_command_on_the_same_data(loaded, prices_dir):
    study = run_study(prices(prices_dir, "IWM"), StudyParams(horizons=(1,)), dt.date.fromisoformat(REAL_AS_OF))
    command = event_path(study.prices, study.monthly, study.events, 20, "close")
    report = ticker_path(loaded, "IWM", sessions=20)
    assert report.events == command.events and report.months == command.months
    assert_frame_equal(report.table, command.table, rel_tol=1e-12)


def test_the_page_has_the_event_study_always_and_the_vs_section_when_asked(loaded):
    plain = build_report(loaded)
    assert 'id="chart-event-study"' in plain and 'id="vs"' not in plain
    against = build_report(loaded, vs="SPY")
    assert 'id="vs"' in against and 'id="chart-vs"' in against and "IWM − SPY" in against and "QQQ − SPY" in against


def test_the_movers_section_is_scans_list_of_the_latest_month(loaded):
    """The warehouse as of 2026-04-20: IWM and QQQ past +10% in April, best verdict first."""
    html = build_report(loaded)
    section = html[html.index('<section id="movers">') : html.index('<section id="events">')]
    assert "This month's movers: 2026-04" in section and "2 of 3 tickers moved +10% or more in 2026-04" in section
    assert section.index('href="#table-IWM"') < section.index('href="#table-QQQ"') and "#table-SPY" not in section

"""load_report_data and load_published_audit against a warehouse made by a real refresh."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.reports import load_published_audit, load_report_data
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.study.published import audit_published
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from tests.reports.conftest import REAL_AS_OF
from tests.factories import open_read_only

AS_OF = dt.date.fromisoformat(REAL_AS_OF)


@pytest.fixture(scope="module")
def loaded(warehouse_home):
    with open_read_only(warehouse_home) as wh:
        return load_report_data(wh)


def test_universe_lineage_and_run(loaded):
    assert loaded.tickers == ("IWM", "SPY", "QQQ")
    run = loaded.last_published
    assert run is not None and run == loaded.latest_run
    assert (run.status, run.source, run.as_of, run.tickers) == ("published", "csv", AS_OF, ("IWM", "SPY", "QQQ"))
    assert run.snapshot_id is not None and run.failed == {}
    lineage = loaded.lineage.sort("ticker")
    assert lineage["last_session"].to_list() == [AS_OF] * 3
    assert set(lineage["source"]) == {"csv"}
    assert set(lineage["prices_run"]) == {run.run_id}
    assert {r["run"] for runs in lineage["results_runs"] for r in runs} == {run.run_id}
    assert loaded.last_session == AS_OF and loaded.horizons == (1, 3, 6, 12)


def test_events_are_the_studys_and_april_2026_is_provisional(loaded, prices_dir):
    study = run_study(read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=AS_OF)
    iwm = loaded.events.filter(pl.col("ticker") == "IWM")
    assert iwm["month"].to_list() == study.events["month"].to_list()
    april = iwm.filter(pl.col("month") == dt.date(2026, 4, 1)).row(0, named=True)
    assert (april["complete"], april["as_of"], april["first_crossed_on"]) == (False, AS_OF, dt.date(2026, 4, 17))
    assert april["move"] == pytest.approx(study.events["move"][-1])


def test_frames_have_the_shape_the_report_is_tested_with(loaded, synthetic):
    for name in ("studies", "events", "summary", "month_end", "closes", "lineage"):
        assert getattr(loaded, name).columns == getattr(synthetic, name).columns, name


def test_closes_are_on_each_tickers_basis(loaded, prices_dir):
    spy = loaded.closes.filter(pl.col("ticker") == "SPY")
    csv = read_price_csv(prices_dir / "SPY.csv", "SPY").filter(pl.col("date") <= AS_OF)
    assert spy["date"].to_list() == csv["date"].to_list()
    assert spy["price"].to_list() == pytest.approx(csv["close"].to_list())


def test_published_audit_is_computed_from_the_warehouse(warehouse_home, prices_dir, reference_dir):
    table = reference_dir / "published_table.csv"
    with open_read_only(warehouse_home) as wh:
        published = load_published_audit(wh, "iwm", table)
    assert (published.ticker, published.table) == ("IWM", "published_table.csv")
    prices = read_price_csv(prices_dir / "IWM.csv", "IWM").filter(pl.col("date") <= AS_OF)
    expected = audit_published(prices, table, reference_dir / "published_summary.csv")
    assert published.audit.rows == expected.rows
    assert any(row[0].startswith("summary") for row in published.audit.rows), "the summary beside the table is used"

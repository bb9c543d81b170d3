"""The report in a real browser: headless Chromium opens the file with no network, every
chart must render with no console error and no request leaving the file, and a
screenshot is kept in test-artifacts/ for a person to look at.

Skips when Chromium is absent, except under CI (CI set), where that is a failure:
.ci/install-system-deps.sh installs it.
"""

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from surgewatch.reports import build_report, load_published_audit, load_report_data
from surgewatch.reports.html import CHART_IDS
from tests.conftest import REPO
from tests.reports.chromium import LOCAL_SCHEMES, Chromium, chromium_binary
from tests.reports.conftest import four_tickers
from tests.reports.test_report_warehouse import open_read_only

ARTIFACTS = REPO / "test-artifacts"

# Per chart: plotted by Plotly, an SVG of real size, drawn marks, a legend and axis titles.
CHARTS_STATE = (
    "("
    + json.dumps(list(CHART_IDS))
    + """).map(id => {
  const el = document.getElementById(id);
  const svg = el && el.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const drawn = el ? [...el.querySelectorAll('g.trace path')].filter(p => (p.getAttribute('d') || '').length > 2) : [];
  return {id, plotted: !!(el && el._fullLayout), width: box.width, height: box.height, marks: drawn.length,
          legend: el ? el.querySelectorAll('g.legend g.traces').length : 0,
          axis_titles: el ? [...el.querySelectorAll('.g-xtitle text, .g-ytitle text')].map(t => t.textContent) : []};
})"""
)
ALL_DRAWN = f"{CHARTS_STATE}.every(c => c.plotted && c.marks > 0)"
OVERFLOWING = "[...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.id)"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; skip without it, fail under CI."""
    binary = chromium_binary()
    if binary is None:
        message = "chromium is not installed (bash .ci/install-system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(params=["warehouse", "synthetic"])
def report(request, chromium) -> tuple[Path, list[str]]:
    """(report file, tickers): the real warehouse's report with the published audit,
    or the synthetic one (which needs no shared data, so the test runs on a bare clone)."""
    ARTIFACTS.mkdir(exist_ok=True)
    if request.param == "warehouse":
        home = request.getfixturevalue("warehouse_home")
        table = request.getfixturevalue("reference_dir") / "published_table.csv"
        with open_read_only(home) as wh:
            data = load_report_data(wh)
            audit = load_published_audit(wh, "IWM", table)
        html = build_report(data, since=dt.date(2026, 1, 1), published=audit)
        path = ARTIFACTS / "report.html"
    else:
        data = request.getfixturevalue("synthetic")
        html = build_report(data)
        path = ARTIFACTS / "report-synthetic.html"
    path.write_text(html, encoding="utf-8")
    return path, list(data.tickers)


def test_every_chart_renders_offline_without_errors(report, chromium, tmp_path):
    path, tickers = report
    with Chromium(chromium, tmp_path / "profile") as browser:
        browser.open(path)
        drawn = browser.wait_until(ALL_DRAWN)
        states = browser.evaluate(CHARTS_STATE)
        browser.screenshot(path.with_suffix(".png"))
        overflowing = browser.evaluate(OVERFLOWING)
        headline = browser.evaluate(
            "document.querySelector('h1').textContent + ' | ' + document.getElementById('lineage-line').textContent"
        )
        errors, urls = browser.errors(), browser.requested_urls()

    assert drawn, f"not every chart rendered: {states}"
    for state in states:
        assert state["width"] > 300 and state["height"] > 200, state
        assert state["legend"] >= 2, f"{state['id']} has no legend: {state}"
        assert state["axis_titles"], f"{state['id']} has no axis titles: {state}"
    assert errors == []
    assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == [], "the report asked the network for something"
    assert urls == [path.resolve().as_uri()], "the report loads no other file"
    assert overflowing == [], f"tables cut off at 1400 px: {overflowing}"
    assert "What followed a month of +10% or more" in headline and "from source csv" in headline
    assert path.with_suffix(".png").stat().st_size > 50_000


# The event cards' boxes, page order: (left, top, right, bottom).
CARD_BOXES = "[...document.querySelectorAll('#events .card')].map(c => c.getBoundingClientRect()).map(b => [b.left, b.top, b.right, b.bottom])"
CARD_SPACING = 16


def test_four_event_tables_leave_no_blank_under_or_beside_a_card(synthetic, chromium, tmp_path):
    """Cards of 26, 4, 26 and 18 events: in rows of three the short one left a row's height
    blank under it and the fourth sat alone in a row of its own, two cells blank beside it."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report-four-tickers.html"
    path.write_text(build_report(four_tickers(synthetic)), encoding="utf-8")
    with Chromium(chromium, tmp_path / "profile") as browser:
        browser.open(path)
        browser.wait_until(ALL_DRAWN)
        boxes = browser.evaluate(CARD_BOXES)
        overflowing = browser.evaluate(OVERFLOWING)
        browser.screenshot(path.with_suffix(".png"))
    *others, last = boxes
    assert last[1] < max(bottom for *_, bottom in others), "the last card sits alone in a row"
    for upper in boxes:
        below = [box[1] for box in boxes if box[0] < upper[2] and upper[0] < box[2] and box[1] >= upper[3]]
        if below:
            assert min(below) - upper[3] <= CARD_SPACING + 1, f"blank under the card at {upper}"
    assert overflowing == []

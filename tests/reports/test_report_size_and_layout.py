"""The report's size and layout: it inlines the small cartesian bundle of the pinned
plotly's plotly.js, so four tickers stay well under 2 MB; four panels fill two rows."""

import re

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs_version

from surgewatch.reports import build_report, charts
from surgewatch.reports.html import _chart, plotly_js
from tests.reports.conftest import four_tickers


def test_the_bundle_is_the_cartesian_one_of_the_pinned_plotly():
    header = re.search(r"plotly\.js \((\w+) - minified\) v([\d.]+)", plotly_js()[:300])
    assert header is not None
    assert header.groups() == ("cartesian", get_plotlyjs_version())


def test_a_four_ticker_report_is_well_under_two_megabytes(synthetic):
    # Building it also checks every chart's trace types against the bundle (_chart).
    html = build_report(four_tickers(synthetic))
    assert html.count(plotly_js()) == 1
    assert len(html.encode()) < 2_000_000


def test_a_trace_the_bundle_lacks_is_refused_not_drawn_blank():
    with pytest.raises(ValueError, match="scattergeo not in the bundle"):
        _chart(go.Figure(go.Scattergeo(lat=[0], lon=[0])), "chart-map")


@pytest.mark.parametrize("figure", [charts.paths_figure, charts.distribution_figure])
def test_four_panels_fill_two_rows_of_two(synthetic, figure):
    layout = figure(four_tickers(synthetic)).layout
    domains = [layout[name].domain for name in layout if name.startswith("xaxis")]
    assert len(domains) == 4 and len({tuple(d) for d in domains}) == 2

"""The report's "Signal or noise" section (SPEC §2b): the events' mean and its interval
against the placebo test's own random-month means, the independent episodes beside the
raw mean; on synthetic data, on the real warehouse, and in Chromium."""

import base64
import datetime as dt
from dataclasses import replace

import plotly.graph_objects as go
import polars as pl
import pytest

from surgewatch.reports import build_report, load_report_data
from surgewatch.reports.data import ReportData
from surgewatch.reports.signal_charts import chart_id, random_month_means, signal_figure, signal_rows, verdict
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from tests.factories import open_read_only, sequential_figures
from tests.reports.chromium import Chromium
from tests.reports.conftest import REAL_AS_OF, synthetic_prices
from tests.reports.test_report_browser import ARTIFACTS, chromium  # noqa: F401  (the fixture)
from surgewatch.core.vocabulary import forward_column

B, SEED = 2_000, 5  # not the refresh's defaults: the chart must draw with what is stored


@pytest.fixture(scope="module")
def with_stats(synthetic) -> ReportData:
    """The synthetic ReportData with the §2b rows a refresh would store beside it."""
    study = run_study(synthetic_prices(), StudyParams(resamples=B, seed=SEED))
    stats = study.stats.with_columns(resamples=pl.lit(B), seed=pl.lit(SEED))
    return replace(synthetic, stats=stats)


@pytest.fixture(scope="module")
def loaded(warehouse_home) -> ReportData:
    with open_read_only(warehouse_home) as wh:
        return load_report_data(wh)


def shown_p(value: float) -> str:
    return "< 0.001" if value < 0.0005 else f"{value:.3f}"


def placebo_figures(data: ReportData, s: dict) -> tuple[float, float]:
    """placebo_p and placebo_percentile recomputed from the means the chart draws."""
    h, n = s["horizon"], s["n"]
    means = random_month_means(data, s["ticker"], h, n, s["resamples"], s["seed"])
    months = data.month_end.filter(pl.col("ticker") == s["ticker"])[forward_column(h)].drop_nulls().to_numpy()
    observed = data.events.filter(pl.col("ticker") == s["ticker"])[forward_column(h)].drop_nulls().mean()
    return sequential_figures(means, months, observed)[:2]


def assert_chart_draws_the_tests_means(data: ReportData) -> int:
    checked = 0
    for s in data.stats.filter(pl.col("placebo_p").is_not_null()).iter_rows(named=True):
        assert placebo_figures(data, s) == pytest.approx((s["placebo_p"], s["placebo_percentile"])), s
        checked += 1
    return checked


def test_the_random_means_drawn_are_those_the_p_value_counts(with_stats):
    assert assert_chart_draws_the_tests_means(with_stats) == 8


def panel_traces(fig: go.Figure, panel: int) -> dict[str, go.Scatter | go.Bar]:
    axis = "x" if panel == 1 else f"x{panel}"
    traces = {}
    for trace in fig.data:
        if trace.xaxis == axis:
            kind = (
                "bars" if isinstance(trace, go.Bar) else trace.legendgroup + ("-line" if trace.mode == "lines" else "")
            )
            traces[kind] = trace
    return traces


def test_each_horizon_shows_the_mean_the_chance_band_and_the_independent_mean(with_stats):
    fig = signal_figure(with_stats, "AAA")
    stats = with_stats.stats.filter(pl.col("ticker") == "AAA").sort("horizon")
    events = with_stats.summary.filter((pl.col("ticker") == "AAA") & (pl.col("kind") == "events")).sort("horizon")
    every = with_stats.summary.filter((pl.col("ticker") == "AAA") & (pl.col("kind") == "baseline")).sort("horizon")
    titles = [a.text for a in fig.layout.annotations]
    for panel, (s, mean, baseline) in enumerate(
        zip(stats.iter_rows(named=True), events["average"], every["average"]), 1
    ):
        p = shown_p(s["placebo_p"]).replace(" ", "")
        assert titles[panel - 1].startswith(f"{s['horizon']}M · n={s['n']} · p={p}")
        traces = panel_traces(fig, panel)
        assert sum(traces["bars"].y) == pytest.approx(1.0)  # shares of the B draws
        assert list(traces["events-line"].x) == [mean, mean]  # the observed mean, marked
        assert traces["events"].x[0] == pytest.approx(mean)
        # The chance band around every month's mean: what the verdict compares the events with.
        band = traces["band"]
        assert band.x[0] == pytest.approx(baseline)
        assert band.error_x.array[0] == pytest.approx(s["chance_high"] - baseline)
        assert band.error_x.arrayminus[0] == pytest.approx(baseline - s["chance_low"])
        assert traces["independent"].x[0] == pytest.approx(s["average_independent"])
        assert "independent episodes" in traces["independent"].hovertemplate
        assert list(traces["every-line"].x) == [baseline, baseline]
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == [
        f"means of n random months ({B:,} draws each)",
        "every month's mean",
        "events' mean",
        "random sets of n months: 90% band",
        "independent episodes' mean",
    ]


def test_the_table_prints_every_figure_with_the_independent_mean_beside_the_raw_one(with_stats):
    rows = signal_rows(with_stats, "AAA")
    s = with_stats.stats.filter((pl.col("ticker") == "AAA") & (pl.col("horizon") == 12)).row(0, named=True)
    twelve = rows[-1]
    assert twelve["horizon"] == "12M" and twelve["n"] == s["n"]
    assert twelve["ci"] == f"{s['ci_low'] * 100:+.2f}% to {s['ci_high'] * 100:+.2f}%"
    assert twelve["chance"] == f"{s['chance_low'] * 100:+.2f}% to {s['chance_high'] * 100:+.2f}%"
    assert twelve["independent"] == f"{s['average_independent'] * 100:+.2f}%"
    assert twelve["placebo_p"] == shown_p(s["placebo_p"]) and twelve["q_value"] == shown_p(s["q_value"])
    assert twelve["t_hac"] == f"{s['t_hac']:.2f}" and twelve["excess"] == f"{s['excess'] * 100:+.2f} pp"
    assert twelve["verdict"] == s["verdict"]
    words = verdict(with_stats, "AAA")
    assert words[0].startswith("AAA: ") and words[-1].startswith(f"12M: {s['verdict']}: events' mean ")
    side = "better" if s["excess"] > 0 else "worse"
    assert f"{s['excess'] * 100:+.2f} pp, {side} than random months" in words[-1]


def test_the_page_has_the_section_per_ticker(with_stats):
    html = build_report(with_stats)
    assert '<section id="signal">' in html and '<a href="#signal">Signal or noise</a>' in html
    for ticker in ("AAA", "BBB"):
        assert f'id="signal-{ticker}"' in html
        assert f'Plotly.newPlot(                        "{chart_id(ticker)}"' in html
    assert f"{B:,} random draws at most per horizon, seed {SEED}." in html
    # Between the forward-return distribution and the relative performance.
    assert html.index('id="distribution"') < html.index('id="signal"') < html.index('id="performance"')


def test_a_warehouse_without_figures_says_so(synthetic):
    html = build_report(synthetic)  # no stats stored (e.g. before the first refresh after upgrading)
    assert "No signal-or-noise figures are stored for AAA yet" in html
    assert "chart-signal-AAA" not in html


def test_small_samples_are_marked(with_stats):
    small = with_stats.stats.with_columns(n=pl.lit(4, dtype=pl.UInt32), n_independent=pl.lit(3, dtype=pl.UInt32))
    data = replace(with_stats, stats=small)
    assert all(r["small"] for r in signal_rows(data, "AAA"))
    assert "SMALL SAMPLE" in build_report(data)
    assert verdict(data, "AAA")[-1].endswith("(small sample: n = 4).")


def test_chart_ids_are_safe_for_any_ticker():
    assert chart_id("BRK.B") == "chart-signal-BRK-B" and chart_id("^GSPC") == "chart-signal--GSPC"


def test_real_warehouse_stores_the_figures_the_report_draws(loaded, prices_dir):
    assert loaded.stats.height == 12 and set(loaded.stats["ticker"]) == {"IWM", "SPY", "QQQ"}
    assert set(loaded.stats["resamples"]) == {10_000} and set(loaded.stats["seed"]) == {0}
    study = run_study(
        read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=dt.date.fromisoformat(REAL_AS_OF)
    )
    iwm = loaded.stats.filter(pl.col("ticker") == "IWM").sort("horizon")
    for column in ("n", "n_independent", "average_independent", "excess", "ci_low", "ci_high", "placebo_p", "q_value"):
        assert iwm[column].to_list() == pytest.approx(study.stats.sort("horizon")[column].to_list()), column
    assert assert_chart_draws_the_tests_means(loaded) == 12


def test_the_section_renders_in_chromium(loaded, chromium, tmp_path):  # noqa: F811  (the imported fixture)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report-signal-or-noise.html"
    path.write_text(build_report(loaded, since=dt.date(2026, 1, 1)), encoding="utf-8")
    ids = [chart_id(t) for t in loaded.tickers]
    state = f"""{ids}.map(id => {{
      const el = document.getElementById(id);
      const drawn = el ? [...el.querySelectorAll('g.trace path, g.points path')].filter(p => (p.getAttribute('d') || '').length > 2) : [];
      const svg = el && el.querySelector('svg.main-svg');
      const box = svg ? svg.getBoundingClientRect() : {{width: 0, height: 0}};
      return {{id, plotted: !!(el && el._fullLayout), marks: drawn.length, width: box.width, height: box.height,
               legend: el ? el.querySelectorAll('g.legend g.traces').length : 0,
               axis_titles: el ? [...el.querySelectorAll('.g-xtitle text, .g-ytitle text')].map(t => t.textContent) : []}};
    }})"""
    with Chromium(chromium, tmp_path / "profile", timeout=60) as browser:
        browser.open(path)
        drawn = browser.wait_until(f"{state}.every(c => c.plotted && c.marks > 0)")
        states = browser.evaluate(state)
        top, height = browser.evaluate(
            "(() => { const r = document.getElementById('signal').getBoundingClientRect(); return [r.top + window.scrollY, r.height]; })()"
        )
        shot = browser.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": top, "width": 1400, "height": height, "scale": 1},
        )["data"]
        overflowing = browser.evaluate(
            "[...document.querySelectorAll('#signal .card')].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.id)"
        )
        errors = browser.errors()
    png = path.with_suffix(".png")
    png.write_bytes(base64.b64decode(shot))
    assert drawn, states
    for s in states:
        assert s["width"] > 1000 and s["height"] > 300, s
        assert s["legend"] == 5, s
        assert s["axis_titles"] == ["mean 1M forward return", "share of random draws"], s
    assert errors == [] and overflowing == []
    assert png.stat().st_size > 50_000


def test_a_stored_horizon_the_report_has_no_returns_for_draws_no_distribution(with_stats):
    odd = with_stats.stats.filter(pl.col("horizon") == 12).with_columns(horizon=pl.lit(24, dtype=pl.Int64))
    data = replace(with_stats, stats=pl.concat([with_stats.stats, odd]))
    assert random_month_means(data, "AAA", 24, 5, 100, 0).size == 0
    fig = signal_figure(data, "AAA")
    assert fig is not None and not any(isinstance(t, go.Bar) and t.xaxis == "x5" for t in fig.data)
    assert "24M" in build_report(data)

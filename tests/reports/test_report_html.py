"""build_report and its charts on synthetic data: content, formatting, escaping, and a
page that needs no other file or host."""

import datetime as dt
import re
from dataclasses import replace
from html.parser import HTMLParser

import polars as pl
import pytest

from surgewatch.reports import PublishedAudit, build_report
from surgewatch.reports import charts
from surgewatch.reports.html import CHART_IDS, fmt, plotly_js, tone
from surgewatch.study.published import Audit
from tests.reports.conftest import RUN_ID, SYNTHETIC_AS_OF, synthetic_report_data
from surgewatch.core.vocabulary import forward_column


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text of every table cell by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, list[tuple[str, list[str]]]] = {}
        self._table: str | None = None
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "div" and (attributes.get("id") or "").startswith("table-"):
            self._table = attributes["id"].removeprefix("table-")
        elif tag == "tr" and self._table:
            self._row = (attributes.get("class") or "", [])
            self.rows.setdefault(self._table, []).append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data + " ")


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def html(synthetic) -> str:
    return build_report(synthetic, since=dt.date(2024, 1, 1))


def test_the_page_needs_no_other_host_or_file(html):
    bundle = plotly_js()
    assert html.count(bundle) == 1, "plotly.js is inlined exactly once"
    page = _parse(html)
    for tag, attributes in page.tags:
        for name in ("src", "href", "data", "srcset", "poster", "action"):
            target = attributes.get(name)
            assert target is None or target.startswith(("#", "data:")), f"<{tag} {name}={target!r}> leaves the file"
        assert tag not in ("link", "iframe", "object", "embed", "base"), f"<{tag}> may load something"
    # plotly.js itself names hosts it would use for maps; the page around it names none.
    rest = html.replace(bundle, "")
    assert not re.search(r"https?://|//cdn|cdn\.|@import|url\(", rest, flags=re.IGNORECASE)


def test_every_chart_is_a_plotly_call_on_inlined_data(html):
    for chart_id in CHART_IDS:
        assert f'id="{chart_id}"' in html
        assert f'Plotly.newPlot(                        "{chart_id}"' in html
    assert "<svg" not in html.replace(plotly_js(), ""), "no hand-drawn SVG"


def test_event_table_in_the_articles_shape(synthetic, html):
    rows = _parse(html).rows["AAA"]
    header = next(cells for _, cells in rows if cells and cells[0] == "Month")
    assert header == ["Month", "Move", "1M", "3M", "6M", "12M"]
    events = synthetic.events.filter(pl.col("ticker") == "AAA").sort("month")
    shown = [(cls, cells) for cls, cells in rows if cells and re.fullmatch(r"\d{4}-\d{2}( MTD)?", cells[0])]
    assert [cells[0].split()[0] for _, cells in shown] == [m.strftime("%Y-%m") for m in events["month"]]
    first = events.row(0, named=True)
    assert shown[0][1][1:] == [fmt(first["move"]), *(fmt(first[forward_column(h)]) for h in (1, 3, 6, 12))]
    # The provisional June 2024 month: marked MTD, highlighted as the latest, no forward returns yet.
    cls, cells = shown[-1]
    assert cells[0] == "2024-06 MTD" and "partial" in cls and "latest" in cls
    assert cells[2:] == ["—"] * 4


def test_summary_rows_show_events_with_the_baseline(synthetic, html):
    rows = {cells[0]: cells for _, cells in _parse(html).rows["BBB"] if cells}
    summary = synthetic.summary.filter(pl.col("ticker") == "BBB")
    for kind_index, kind in enumerate(("events", "baseline")):
        stats = summary.filter(pl.col("kind") == kind).sort("horizon")
        for i, row in enumerate(stats.iter_rows(named=True)):
            assert rows["Average"][1 + i].split()[kind_index] == fmt(row["average"])
            assert rows["Win rate"][1 + i].split()[kind_index] == fmt(row["win_rate"], "share")
            assert rows["Sharpe"][1 + i].split()[kind_index] == fmt(row["sharpe"], "ratio")
            assert rows["Count (n)"][1 + i].split()[kind_index] == str(row["n"])


def test_header_names_as_of_run_and_source(html):
    assert "data through <strong>2024-06-14</strong>" in html
    assert f'<code title="{RUN_ID}">{RUN_ID[:8]}</code>' in html
    assert "2024-06-14 22:15 UTC" in html and "from source <strong>csv</strong>" in html
    assert "What followed a month of +10% or more" in html


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.1028, "pct", "+10.28%"),
        (-0.0865, "pct", "-8.65%"),
        (-0.00001, "pct", "+0.00%"),
        (0.6667, "share", "66.67%"),
        (0.4449, "ratio", "0.44"),
        (0.16, "delta", "+0.16"),
        (314, "count", "314"),
        (10.28, "pp_pct", "+10.28%"),
        (-0.6, "pp", "-0.60 pp"),
        (None, "pct", "—"),
        (float("nan"), "pct", "—"),
    ],
)
def test_figures_print_as_percent_with_sign_and_two_decimals(value, kind, text):
    assert fmt(value, kind) == text


def test_tone_follows_the_printed_sign():
    assert (tone(0.01), tone(-0.01), tone(-0.00001), tone(0.5, "share"), tone(None)) == ("pos", "neg", "", "", "")


def test_text_from_the_warehouse_is_escaped():
    data = synthetic_report_data(run_id="later-run", status="failed", message="<script>alert(1)</script>")
    html = build_report(data)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "was <strong>failed</strong>" in html, "a failed run after the published one is announced"


def test_partial_publish_names_the_failed_tickers():
    data = synthetic_report_data(status="partial", failed={"BBB": "BBB: unknown symbol"})
    data = replace(data, last_published=data.latest_run)
    html = build_report(data)
    assert "published without 1 ticker(s)" in html and "<strong>BBB</strong> (BBB: unknown symbol)" in html


def test_audit_section_flags_differences(synthetic):
    audit = Audit(
        [
            ["event", "2020-04", "move", 13.85, 13.85, 0.0, ""],
            ["event", "2020-04", "fwd_1m", 6.59, 6.10, -0.49, "differs by -0.49"],
            ["summary ≤ 2024-11", "sharpe", "fwd_1m", 0.28, 0.44, 0.16, "differs by +0.16"],
            ["missing", "2026-04", "move", None, 12.08, None, "qualifying month not in the table"],
        ]
    )
    html = build_report(synthetic, published=PublishedAudit("AAA", "published_table.csv", audit))
    section = html[html.index('<section id="audit"') : html.index('<section id="lineage"')]
    assert "<strong>3</strong> cells compared" in section
    assert '<strong class="neg">3</strong> flagged' in section
    assert "-0.49 pp" in section and "+6.59%" in section and "+0.16<" in section
    assert "0.28" in section and "+0.28%" not in section, "a Sharpe ratio is no percent"
    assert "differs by -0.49" in section
    assert 'id="audit"' not in build_report(synthetic), "no audit without a published table"


def test_event_paths_start_at_zero_and_follow_month_end_closes(synthetic):
    paths = charts.event_paths(synthetic)
    assert paths.filter(pl.col("k") == 0)["value"].abs().max() == 0
    closes = {(r["ticker"], r["month"]): r["close"] for r in synthetic.month_end.iter_rows(named=True)}
    row = paths.filter((pl.col("ticker") == "BBB") & (pl.col("k") == 5)).row(0, named=True)
    later = pl.Series([row["event"]]).dt.offset_by("5mo")[0]
    assert row["value"] == pytest.approx(closes[("BBB", later)] / closes[("BBB", row["event"])] - 1)
    assert paths["k"].max() == charts.PATH_MONTHS


def test_the_latest_event_is_highlighted_and_a_provisional_one_says_so(synthetic):
    figure = charts.paths_figure(synthetic)
    named = [t.name for t in figure.data if t.showlegend is not False]
    assert "AAA latest: 2024-06 (MTD to 06-14)" in named
    assert any(n.startswith("BBB latest: 2024-05") for n in named)
    provisional = next(t for t in figure.data if t.name == "AAA latest: 2024-06 (MTD to 06-14)" and t.showlegend)
    assert list(provisional.x) == [0, None] and provisional.line.dash == "dot"


def test_relative_performance_is_measured_from_the_last_session_on_or_before_since(synthetic):
    saturday = dt.date(2024, 3, 2)
    performance = charts.relative_performance(synthetic, saturday)
    first = performance.filter(pl.col("ticker") == "AAA").row(0, named=True)
    assert (first["date"], first["value"]) == (dt.date(2024, 3, 1), 0.0)
    early = charts.relative_performance(synthetic, dt.date(1990, 1, 1))
    assert early["date"].min() == synthetic.closes["date"].min()


def test_default_since_is_a_year_before_the_last_session():
    assert charts.default_since(SYNTHETIC_AS_OF) == dt.date(2023, 6, 14)
    assert charts.default_since(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


def test_distribution_has_events_and_baseline_per_ticker(synthetic):
    figure = charts.distribution_figure(synthetic)
    boxes = [(t.name, t.xaxis) for t in figure.data]
    assert boxes == [
        ("events", "x"),
        ("baseline (every month)", "x"),
        ("events", "x2"),
        ("baseline (every month)", "x2"),
    ]
    baseline_bbb = figure.data[3]
    expected = synthetic.month_end.filter(pl.col("ticker") == "BBB")["fwd_12m"].drop_nulls().to_list()
    assert [y for x, y in zip(baseline_bbb.x, baseline_bbb.y) if x == "12M"] == expected


def test_a_ticker_without_events_still_gets_its_table_and_panels(synthetic):
    quiet = replace(synthetic, events=synthetic.events.filter(pl.col("ticker") == "AAA"))
    html = build_report(quiet)
    bbb = _parse(html).rows["BBB"]
    assert any(cells == ["No qualifying month in the data."] for _, cells in bbb)
    assert "BBB · 0 events" in html


def test_mixed_study_parameters_get_no_common_headline(synthetic):
    studies = synthetic.studies.with_columns(threshold=pl.Series([0.10, 0.15]))
    html = build_report(replace(synthetic, studies=studies))
    assert "What followed a qualifying month" in html
    assert "Months +10% or more" in html and "Months +15% or more" in html

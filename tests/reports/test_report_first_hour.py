"""What a careful reader of the report noticed: counts that agree, unsigned win rates,
lines that stay distinct."""

from surgewatch.study.published import Audit
from surgewatch.reports import PublishedAudit, build_report, charts


def test_audit_counts_agree_and_win_rates_are_unsigned(synthetic):
    audit = Audit(
        [
            ["event", "2020-04", "move", 13.85, 13.85, 0.0, ""],
            ["summary ≤ 2024-11", "win_rate", "fwd_1m", 53.85, 64.29, 10.44, "differs by +10.44"],
            ["missing", "2026-04", "move", None, 12.08, None, "qualifying month not in the table"],
        ]
    )
    html = build_report(synthetic, published=PublishedAudit("AAA", "published_table.csv", audit))
    section = html[html.index('<section id="audit"') : html.index('<section id="lineage"')]
    assert "<strong>2</strong> cells compared" in section
    assert "All 2 comparisons, and 1 row(s) with one side missing" in section
    assert "53.85%" in section and "+53.85%" not in section and "+64.29%" not in section
    assert "+10.44 pp" in section  # a difference keeps its sign


def test_each_ticker_has_its_own_colour_and_line_style(synthetic):
    figure = charts.performance_figure(synthetic, since=synthetic.last_session.replace(month=1, day=1))
    lines = [(t.line.color, t.line.dash) for t in figure.data if t.mode == "lines"]
    assert len(lines) == len(synthetic.tickers) == len(set(lines))
    assert len({dash for _, dash in lines}) == len(lines)


def test_small_samples_are_marked_on_both_event_charts(synthetic):
    import dataclasses

    import polars as pl

    # AAA keeps 4 of its events: a small sample; BBB keeps all of them.
    aaa = synthetic.events.filter(pl.col("ticker") == "AAA").head(4)
    data = dataclasses.replace(synthetic, events=pl.concat([aaa, synthetic.events.filter(pl.col("ticker") == "BBB")]))
    n_bbb = data.events.filter(pl.col("ticker") == "BBB").height
    assert n_bbb >= 10
    for figure in (charts.paths_figure(data), charts.distribution_figure(data)):
        titles = [a.text for a in figure.layout.annotations]
        assert "AAA · 4 events (small sample, n < 10)" in titles
        assert f"BBB · {n_bbb} events" in titles

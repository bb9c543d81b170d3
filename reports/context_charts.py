"""The context section's chart: each ticker's latest event beside its nearest past events
(SPEC §2c analogs), their month-end closes rebased to 1 at their month.

The latest event has little or no future yet, so it is drawn from 12 months before it to it: the
run-up its features (prior drawdown, prior 12 months) describe. Its analogs are drawn over
the same 12 months before theirs and the 12 after: how alike the run-ups were, and what
followed.
"""

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from surgewatch.reports import charts
from surgewatch.reports.context import TickerContext, episode_paths
from surgewatch.reports.data import ReportData

BEFORE = 12
"""Months drawn before each month (the run-up)."""
ANALOG = "rgba(31, 95, 191, 0.55)"  # charts.EVENTS, see-through where the lines cross


def analogs_figure(data: ReportData, contexts: Sequence[TickerContext]) -> go.Figure:
    """One panel per ticker: the latest event's run-up (orange, thick), its analogs' paths
    from BEFORE months before their month to charts.PATH_MONTHS after (each named at its
    last point, its distance on hover) and their median."""
    anchors = pl.concat(
        [
            pl.DataFrame({"ticker": c.ticker, "month": [c.target["month"], *c.analogs.nearest["month"]]})
            for c in contexts
        ]
    )
    paths = episode_paths(data.month_end, anchors, BEFORE, charts.PATH_MONTHS)
    titles = [
        f"{c.ticker} · {charts.event_label(c.target)} and its {c.analogs.nearest.height} analogs" for c in contexts
    ]
    fig, cells = charts.grid(tuple(c.ticker for c in contexts), titles, shared_yaxes=True)
    hover = "%{customdata}: %{y:.3f} at %{x:+d} months<extra></extra>"
    legend_shown = False
    for i, (context, (row, col)) in enumerate(zip(contexts, cells)):
        mine = paths.filter(pl.col("ticker") == context.ticker)
        analogs = mine.filter(pl.col("anchor").is_in(context.analogs.nearest["month"].implode()))
        for analog in context.analogs.nearest.iter_rows(named=True):
            path = analogs.filter(pl.col("anchor") == analog["month"])
            label = f"{analog['month']:%Y-%m}"
            fig.add_trace(
                go.Scatter(
                    x=path["k"],
                    y=path["value"],
                    customdata=[f"{label} (distance {analog['distance']:.2f})"] * path.height,
                    text=[None] * (path.height - 1) + [label],  # named at its end, where the lines part
                    mode="lines+text",
                    textposition="middle right",
                    textfont={"size": 10, "color": charts.EVENTS},
                    name="its nearest earlier events",
                    legendgroup="analogs",
                    showlegend=not legend_shown,  # once, on the first ticker that has analogs
                    line={"color": ANALOG, "width": 1.5},
                    hovertemplate=hover,
                ),
                row=row,
                col=col,
            )
            legend_shown = True
        median = analogs.group_by("k").agg(pl.col("value").median(), pl.len().alias("n")).sort("k")
        fig.add_trace(
            charts.median_path(
                median, "their median", i == 0, "median of %{customdata}: %{y:.3f} at %{x:+d} months<extra></extra>"
            ),
            row=row,
            col=col,
        )
        current = mine.filter(pl.col("anchor") == context.target["month"])
        label = charts.event_label(context.target)
        fig.add_trace(
            go.Scatter(
                x=current["k"],
                y=current["value"],
                customdata=[label] * current.height,
                mode="lines+markers",
                name="the latest event and its run-up",
                legendgroup="current",
                showlegend=i == 0,
                line={"color": charts.HIGHLIGHT, "width": 3.5},
                marker={"size": 6},
                hovertemplate=hover,
            ),
            row=row,
            col=col,
        )
        fig.add_vline(x=0, line={"color": "#bdc1c6", "width": 1, "dash": "dot"}, row=row, col=col)
        fig.update_xaxes(
            title_text="months from the month (its close = 1)",
            dtick=3,
            range=[-BEFORE - 0.5, charts.PATH_MONTHS + 3],  # room for the labels at the right
            row=row,
            col=col,
        )
    fig.update_yaxes(tickformat=".2f", zeroline=False)
    fig.update_yaxes(title_text="month-end close ÷ close at the month", row=1, col=1)
    return charts.finish(fig, 400, rows=max(r for r, _ in cells))

"""The report's "Signal or noise" section (SPEC §2b): per ticker and horizon, the events'
mean with its 90% interval drawn against the means of random months, and the mean of the
independent episodes beside the raw one (pure: ReportData in, figures and rows out).

The random-month means are the placebo test's own draws (transforms.resampling
`placebo_means`, with the resamples and seed stored beside the figures), so the share of
them at least as far out as the events' mean is the p-value the table prints.
"""

import math
import re
from collections.abc import Callable
from typing import TypeGuard

import numpy as np
import plotly.graph_objects as go
import polars as pl
from markupsafe import Markup
from plotly.subplots import make_subplots

from surgewatch.present.formats import percent
from surgewatch.present.sentences import headline, horizon_sentence, pp
from surgewatch.reports.charts import BASELINE, EVENTS, FONT, MEDIAN
from surgewatch.reports.data import ReportData
from surgewatch.transforms.resampling import placebo_means
from surgewatch.core.vocabulary import SMALL_SAMPLE, forward_column

INDEPENDENT = "#8e44ad"
BINS = 40
_DASH = "—"


def chart_id(ticker: str) -> str:
    """The id of a ticker's chart element ('chart-signal-IWM'; other characters as '-')."""
    return "chart-signal-" + re.sub(r"[^A-Za-z0-9_-]", "-", ticker)


def _stats(data: ReportData, ticker: str) -> pl.DataFrame:
    """The ticker's stored §2b rows by horizon (none when the warehouse has no figures)."""
    if "ticker" not in data.stats.columns:
        return pl.DataFrame()
    return data.stats.filter(pl.col("ticker") == ticker).sort("horizon")


def random_month_means(data: ReportData, ticker: str, horizon: int, n: int, resamples: int, seed: int) -> np.ndarray:
    """The B means of n months drawn at random from the ticker's months with a forward
    return at `horizon` (in month order, as the study drew them); empty when n = 0 or
    every month is an event, or when the report holds no such forward return."""
    column = forward_column(horizon)
    if column not in data.month_end.columns:
        return np.empty(0)
    months = data.month_end.filter(pl.col("ticker") == ticker).sort("month")[column].drop_nulls()
    return placebo_means(months.to_numpy(), n, resamples, seed)


def _averages(data: ReportData, ticker: str) -> dict[tuple[str, int], float | None]:
    mine = data.summary.filter(pl.col("ticker") == ticker)
    return {(r["kind"], r["horizon"]): r["average"] for r in mine.iter_rows(named=True)}


def _vertical(x: float, top: float, name: str, group: str, legend: bool, line: dict, hover: str) -> go.Scatter:
    """A vertical line at x from 0 to top (a mean drawn over the histogram)."""
    return go.Scatter(
        x=[x, x],
        y=[0, top],
        mode="lines",
        name=name,
        legendgroup=group,
        showlegend=legend,
        line=line,
        hovertemplate=hover,
    )


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _pct(value: float | None, decimals: int = 2) -> str:
    return percent(value, decimals=decimals) if _finite(value) else _DASH


def _tone(value: float | None) -> str:
    if _finite(value) and round(value * 100, 2) != 0:
        return "pos" if value > 0 else "neg"
    return ""


def _p(value: float | None) -> str:
    if _finite(value):
        return "< 0.001" if value < 0.0005 else f"{value:.3f}"
    return _DASH


def _two(value: float | None) -> str:
    return f"{value + 0.0:.2f}" if _finite(value) else _DASH


def _share(value: float | None) -> str:
    return percent(value, signed=False, decimals=1) if _finite(value) else _DASH


def signal_rows(data: ReportData, ticker: str) -> list[dict]:
    """One row per horizon for the section's table: every §2b figure, printed, with the
    events' and every month's mean (signal_summary) beside them."""
    averages = _averages(data, ticker)
    rows = []
    for s in _stats(data, ticker).iter_rows(named=True):
        h, n = s["horizon"], s["n"]
        mean = averages.get(("events", h))
        rows.append(
            {
                "horizon": f"{h}M",
                "n": n,
                "small": n < SMALL_SAMPLE,
                "mean": _pct(mean),
                "mean_tone": _tone(mean),
                "chance": f"{_pct(s['chance_low'])} to {_pct(s['chance_high'])}" if _finite(s["chance_low"]) else _DASH,
                "ci": f"{_pct(s['ci_low'])} to {_pct(s['ci_high'])}" if _finite(s["ci_low"]) else _DASH,
                "baseline": _pct(averages.get(("baseline", h))),
                "excess": pp(s["excess"]) if _finite(s["excess"]) else _DASH,
                "verdict": s["verdict"] or _DASH,
                "excess_tone": _tone(s["excess"]),
                "placebo_p": _p(s["placebo_p"]),
                "percentile": _share(s["placebo_percentile"]),
                "n_independent": s["n_independent"],
                "independent": _pct(s["average_independent"]),
                "independent_tone": _tone(s["average_independent"]),
                "t_hac": _two(s["t_hac"]),
                "win_p": _p(s["win_p"]),
                "q_value": _p(s["q_value"]),
            }
        )
    return rows


def verdict(data: ReportData, ticker: str) -> list[str]:
    """The stored verdicts in words: the headline (the strongest horizon's verdict, its
    p, q and independent episodes), then one sentence per horizon (sentences module, as
    the terminal and the alerts word them); empty without stored figures."""
    stats = list(_stats(data, ticker).iter_rows(named=True))
    if not stats:
        return []
    averages = _averages(data, ticker)
    return [headline(ticker, stats)] + [
        f"{s['horizon']}M: {horizon_sentence(s, averages.get(('events', s['horizon'])))}." for s in stats
    ]


def _panel_title(s: dict) -> str:
    title = f"{s['horizon']}M · n={s['n']} · p={_p(s['placebo_p']).replace(' ', '')}"
    return title + (" · small sample" if s["n"] < SMALL_SAMPLE else "")


def signal_figure(data: ReportData, ticker: str) -> go.Figure | None:
    """One panel per horizon: grey bars, the share of the B random-month means in each
    bin; blue, the events' mean (line) and its 90% bootstrap interval (bar at the top);
    purple diamond, the mean of the independent episodes; dashed, every month's mean.
    None when the ticker has no stored figures."""
    stats = _stats(data, ticker)
    if stats.is_empty():
        return None
    averages = _averages(data, ticker)
    rows = list(stats.iter_rows(named=True))
    fig = make_subplots(
        rows=1, cols=len(rows), subplot_titles=[_panel_title(s) for s in rows], horizontal_spacing=0.045
    )
    for col, s in enumerate(rows, start=1):
        h, n = s["horizon"], s["n"]
        resamples, seed = data.draws(ticker)
        means = random_month_means(data, ticker, h, n, resamples, seed)
        observed, everyone = averages.get(("events", h)), averages.get(("baseline", h))
        first = col == 1
        top = 0.0
        xs: list[float] = []
        if len(means):
            counts, edges = np.histogram(means, bins=BINS)
            shares = counts / len(means)
            top = float(shares.max())
            centers = (edges[:-1] + edges[1:]) / 2
            xs += [float(edges[0]), float(edges[-1])]
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=shares,
                    width=float(edges[1] - edges[0]),
                    name=f"means of n random months ({len(means):,} draws each)",
                    legendgroup="random",
                    showlegend=first,
                    marker={"color": BASELINE, "line": {"width": 0}},
                    opacity=0.75,
                    customdata=np.column_stack([edges[:-1], edges[1:]]),
                    hovertemplate="%{y:.1%} of random draws: mean %{customdata[0]:+.2%} to %{customdata[1]:+.2%}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        top = top or 1.0
        level, lower = top * 1.2, top * 1.07
        if _finite(everyone):
            xs.append(everyone)
            fig.add_trace(
                _vertical(
                    everyone,
                    level,
                    "every month's mean",
                    "every",
                    first,
                    {"color": MEDIAN, "width": 1.2, "dash": "dash"},
                    f"every month's mean: {_pct(everyone)}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        if _finite(observed):
            has_band = _finite(s["chance_low"])
            xs += [observed, *((s["chance_low"], s["chance_high"]) if has_band else ())]
            band = f"random sets of {n} months: {_pct(s['chance_low'])} to {_pct(s['chance_high'])}"
            hover = f"events' mean {_pct(observed)} (n={n})<extra></extra>"
            fig.add_trace(
                _vertical(observed, level, "events' mean", "events", False, {"color": EVENTS, "width": 2.5}, hover),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=[observed],
                    y=[level],
                    mode="markers",
                    name="events' mean",
                    legendgroup="events",
                    showlegend=first,
                    marker={"color": EVENTS, "size": 10},
                    hovertemplate=hover,
                ),
                row=1,
                col=col,
            )
            if has_band and _finite(everyone):
                # Where n random months' mean falls 90% of the time: what the verdict compares.
                fig.add_trace(
                    go.Scatter(
                        x=[everyone],
                        y=[(level + lower) / 2],
                        mode="markers",
                        name="random sets of n months: 90% band",
                        legendgroup="band",
                        showlegend=first,
                        marker={"color": MEDIAN, "size": 7, "symbol": "line-ns-open"},
                        error_x={
                            "type": "data",
                            "symmetric": False,
                            "array": [s["chance_high"] - everyone],
                            "arrayminus": [everyone - s["chance_low"]],
                            "color": MEDIAN,
                            "thickness": 2.5,
                            "width": 6,
                        },
                        hovertemplate=f"{band}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
        if _finite(s["average_independent"]):
            xs.append(s["average_independent"])
            fig.add_trace(
                go.Scatter(
                    x=[s["average_independent"]],
                    y=[lower],
                    mode="markers",
                    name="independent episodes' mean",
                    legendgroup="independent",
                    showlegend=first,
                    marker={
                        "color": INDEPENDENT,
                        "size": 11,
                        "symbol": "diamond",
                        "line": {"color": "white", "width": 1},
                    },
                    hovertemplate=(
                        f"{s['n_independent']} independent episodes: mean {_pct(s['average_independent'])}<extra></extra>"
                    ),
                ),
                row=1,
                col=col,
            )
        low, high = (min(xs), max(xs)) if xs else (-0.01, 0.01)
        pad = (high - low) * 0.06 or 0.01
        span = high - low + 2 * pad
        fig.update_xaxes(
            range=[low - pad, high + pad],
            tickformat="+.1%" if span < 0.06 else "+.0%",
            nticks=6,
            title_text=f"mean {h}M forward return",
            zeroline=True,
            zerolinecolor="#bdc1c6",
            row=1,
            col=col,
        )
        fig.update_yaxes(range=[0, top * 1.32], tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title_text="share of random draws", row=1, col=1)
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#3c4043"},
        height=360,
        margin={"l": 60, "r": 20, "t": 70, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.14, "xanchor": "left", "x": 0},
        hoverlabel={"font": {"family": FONT}},
        bargap=0,
    )
    return fig


def signal_section(data: ReportData, render: Callable[[go.Figure, str], Markup]) -> list[dict]:
    """Per ticker (in the report's order): its chart rendered by `render(figure, id)`
    (None without stored figures), the table rows, the plain-words line, B and seed."""
    section = []
    for ticker in data.tickers:
        stats = _stats(data, ticker)
        figure = signal_figure(data, ticker)
        resamples, seed = data.draws(ticker) if stats.height else (None, None)
        section.append(
            {
                "ticker": ticker,
                "chart_id": chart_id(ticker),
                "chart": render(figure, chart_id(ticker)) if figure is not None else None,
                "rows": signal_rows(data, ticker),
                "verdict": verdict(data, ticker),
                "resamples": resamples,
                "seed": seed,
            }
        )
    return section

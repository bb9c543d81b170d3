"""The report's charts as Plotly figures (pure: frames in, figures out).

Plotly because one inlined copy of plotly.js renders every chart with no other file or
host, charts stay interactive (hover shows each event's month and value), and the
figures are declared as data, not drawn by hand.
"""

import math
from datetime import date

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from surgewatch.reports.data import ReportData
from surgewatch.core.vocabulary import forward_column

PATH_MONTHS = 12
"""How far the month-end paths after an event reach."""

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', 'DejaVu Sans', sans-serif"
TICKER_COLORS = ("#1f5fbf", "#2e8b57", "#8e44ad", "#c0392b", "#b8860b", "#16a085", "#7f8c8d")
# Six styles against seven colours: no two of the first 42 tickers look alike.
TICKER_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
HIGHLIGHT = "#e8710a"
PAST = "rgba(90, 100, 115, 0.35)"
MEDIAN = "#202124"
EVENTS = "#1f5fbf"
BASELINE = "#9aa0a6"
_PERCENT_AXIS = {"tickformat": "+.0%", "zeroline": True, "zerolinecolor": "#bdc1c6", "zerolinewidth": 1.5}
_COLUMNS = 3


def ticker_color(data: ReportData, ticker: str) -> str:
    """The colour a ticker has in every chart of the report."""
    return TICKER_COLORS[data.tickers.index(ticker) % len(TICKER_COLORS)]


def ticker_dash(data: ReportData, ticker: str) -> str:
    """The line style of a ticker's line: an index and its ETF (RUT, IWM) move almost as
    one, and a dash lets the line drawn first show through the one drawn over it."""
    return TICKER_DASHES[data.tickers.index(ticker) % len(TICKER_DASHES)]


# Under ten events a median or a box says little: the panel's title says so.
SMALL_SAMPLE = 10


def panel_title(data: ReportData, ticker: str) -> str:
    """'SPY · 4 events (small sample, n < 10)': the ticker and how many events its panel rests on."""
    n = data.events.filter(pl.col("ticker") == ticker).height
    return f"{ticker} · {n} events" + (f" (small sample, n < {SMALL_SAMPLE})" if n < SMALL_SAMPLE else "")


def grid(tickers: tuple[str, ...], titles: list[str], **options) -> tuple[go.Figure, list[tuple[int, int]]]:
    """Small multiples, one per ticker, at most three to a row, rows filled evenly (four: 2 × 2)."""
    rows = math.ceil(len(tickers) / _COLUMNS)
    cols = math.ceil(len(tickers) / rows)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.05,
        vertical_spacing=0.16 if rows > 1 else 0.1,
        **options,
    )
    return fig, [(i // cols + 1, i % cols + 1) for i in range(len(tickers))]


def finish(fig: go.Figure, height_per_row: int, rows: int = 1) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#3c4043"},
        height=80 + height_per_row * rows,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "xanchor": "left", "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def event_paths(data: ReportData, months: int = PATH_MONTHS) -> pl.DataFrame:
    """One row per (ticker, event month, k): `value`, the return from the event month's
    close to the month-end close k months later (k = 0..months, entry = 0), `complete`
    whether month m+k is complete (a partial one is the month to date), and its `as_of`."""
    steps = pl.DataFrame({"k": list(range(months + 1))}, schema={"k": pl.Int32})
    closes = data.month_end.select("ticker", "month", "close", "complete", "as_of")
    entries = data.events.select("ticker", pl.col("month").alias("event"))
    return (
        entries.join(steps, how="cross")
        .with_columns(month=pl.col("event").dt.offset_by(pl.format("{}mo", pl.col("k"))))
        .join(closes, on=["ticker", "month"], how="inner")
        .join(
            closes.select("ticker", pl.col("month").alias("event"), pl.col("close").alias("entry")),
            on=["ticker", "event"],
            how="inner",
        )
        .with_columns(value=pl.col("close") / pl.col("entry") - 1)
        .select("ticker", "event", "k", "value", "complete", "as_of")
        .sort("ticker", "event", "k")
    )


def latest_events(data: ReportData) -> dict[str, dict]:
    """Each ticker's latest event (the episode the report highlights), as a row dict."""
    latest = data.events.sort("month").group_by("ticker", maintain_order=True).last()
    return {row["ticker"]: row for row in latest.iter_rows(named=True)}


def event_label(event: dict) -> str:
    """'2026-04', or '2026-07 (MTD to 07-20)' for a provisional (partial-month) event."""
    month = event["month"].strftime("%Y-%m")
    return month if event["complete"] else f"{month} (MTD to {event['as_of']:%m-%d})"


def _polyline(paths: pl.DataFrame) -> dict[str, list]:
    """Several paths as one trace: segments separated by gaps, each point labelled."""
    x: list = []
    y: list = []
    labels: list = []
    for (event,), path in paths.group_by("event", maintain_order=True):
        x += [*path["k"].to_list(), None]
        y += [*path["value"].to_list(), None]
        labels += [event.strftime("%Y-%m")] * path.height + [None]
    return {"x": x, "y": y, "customdata": labels}


def median_path(median: pl.DataFrame, name: str, showlegend: bool, hover: str) -> go.Scatter:
    """The dashed median line of an event-path chart (median: k, value, n of the paths)."""
    return go.Scatter(
        x=median["k"],
        y=median["value"],
        customdata=median["n"],
        mode="lines",
        name=name,
        legendgroup="median",
        showlegend=showlegend,
        line={"color": MEDIAN, "width": 2, "dash": "dash"},
        hovertemplate=hover,
    )


def _mtd_segments(paths: pl.DataFrame) -> pl.DataFrame:
    """The last complete point and the month-to-date point of every path that ends in a
    partial month, so that stretch can be drawn dotted."""
    partial = paths.filter(~pl.col("complete")).select("ticker", "event", pl.col("k").alias("mtd_k"))
    return (
        paths.join(partial, on=["ticker", "event"])
        .filter((pl.col("k") == pl.col("mtd_k")) | (pl.col("k") == pl.col("mtd_k") - 1))
        .drop("mtd_k")
    )


def paths_figure(data: ReportData) -> go.Figure:
    """Month-end paths after every event, one panel per ticker: past events in grey, their
    median, and the latest (or provisional) event highlighted; month-to-date dotted."""
    paths = event_paths(data)
    latest = latest_events(data)
    fig, cells = grid(data.tickers, [panel_title(data, t) for t in data.tickers], shared_yaxes=True)
    hover = "%{customdata}: %{y:+.2%} after %{x} months<extra>%{fullData.name}</extra>"
    for i, (ticker, (row, col)) in enumerate(zip(data.tickers, cells)):
        mine = paths.filter(pl.col("ticker") == ticker)
        newest = latest.get(ticker)
        latest_month = newest["month"] if newest else None
        past = mine.filter(pl.col("event").ne_missing(latest_month))
        highlighted = mine.filter(pl.col("event").eq_missing(latest_month))
        median = (
            mine.filter(pl.col("complete")).group_by("k").agg(pl.col("value").median(), pl.len().alias("n")).sort("k")
        )
        first = i == 0
        traces = [
            go.Scatter(
                **_polyline(past.filter(pl.col("complete"))),
                mode="lines",
                name="past events",
                legendgroup="past",
                showlegend=first,
                line={"color": PAST, "width": 1.2},
                hovertemplate=hover,
            ),
            go.Scatter(
                **_polyline(_mtd_segments(past)),
                mode="lines",
                name="past events, month to date",
                legendgroup="past",
                showlegend=False,
                line={"color": PAST, "width": 1.2, "dash": "dot"},
                hovertemplate=hover,
            ),
            median_path(
                median,
                "median of events",
                first,
                "median of %{customdata} events: %{y:+.2%} after %{x} months<extra></extra>",
            ),
        ]
        if newest is not None:
            # The legend is shared by the panels, so the entry names the ticker.
            name = f"{ticker} latest: {event_label(newest)}"
            settled = highlighted.filter(pl.col("complete"))
            # A provisional event has no complete point yet: its month-to-date mark carries the legend entry.
            traces += [
                go.Scatter(
                    **_polyline(settled),
                    mode="lines+markers",
                    name=name,
                    legendgroup=f"latest-{ticker}",
                    showlegend=not settled.is_empty(),
                    line={"color": HIGHLIGHT, "width": 3},
                    marker={"size": 7},
                    hovertemplate=hover,
                ),
                go.Scatter(
                    **_polyline(_mtd_segments(highlighted)),
                    mode="lines+markers",
                    name=name if settled.is_empty() else f"{ticker} month to date",
                    legendgroup=f"latest-{ticker}",
                    showlegend=settled.is_empty(),
                    line={"color": HIGHLIGHT, "width": 3, "dash": "dot"},
                    marker={"size": 10, "symbol": "circle-open", "line": {"width": 2.5}},
                    hovertemplate=hover,
                ),
            ]
        for trace in traces:
            fig.add_trace(trace, row=row, col=col)
        fig.update_xaxes(
            title_text="months after the event month", dtick=1, range=[-0.3, PATH_MONTHS + 0.3], row=row, col=col
        )
    fig.update_yaxes(**_PERCENT_AXIS)
    fig.update_yaxes(title_text="return since the event month's close", row=1, col=1)
    return finish(fig, 380, rows=max(r for r, _ in cells))


def default_since(last_session: date) -> date:
    """The same date a year before the last session (28 Feb for a 29 Feb)."""
    try:
        return last_session.replace(year=last_session.year - 1)
    except ValueError:
        return last_session.replace(year=last_session.year - 1, day=28)


def relative_performance(data: ReportData, since: date) -> pl.DataFrame:
    """Per ticker, `value` = price / base - 1 from the base session on, where the base is
    the last session on or before `since` (the first session when the data starts later)."""
    closes = data.closes.sort("ticker", "date")
    base = closes.group_by("ticker").agg(
        base_date=pl.col("date").filter(pl.col("date") <= since).max().fill_null(pl.col("date").min())
    )
    return (
        closes.join(base, on="ticker")
        .filter(pl.col("date") >= pl.col("base_date"))
        .with_columns(value=pl.col("price") / pl.col("price").first().over("ticker") - 1)
        .select("ticker", "date", "value", "base_date")
    )


def performance_figure(data: ReportData, since: date) -> go.Figure:
    """The universe's return since `since`, one line per ticker, its event months marked."""
    performance = relative_performance(data, since)
    fig = go.Figure()
    for ticker in data.tickers:
        line = performance.filter(pl.col("ticker") == ticker)
        if line.is_empty():
            continue
        color = ticker_color(data, ticker)
        base = line["base_date"][0]
        fig.add_trace(
            go.Scatter(
                x=line["date"],
                y=line["value"],
                mode="lines",
                name=ticker,
                legendgroup=ticker,
                line={"color": color, "width": 2, "dash": ticker_dash(data, ticker)},
                hovertemplate=f"{ticker}: %{{y:+.2%}} since {base:%Y-%m-%d}<extra></extra>",
            )
        )
        marks = data.events.filter(pl.col("ticker") == ticker).join(
            line, left_on=["ticker", "as_of"], right_on=["ticker", "date"], how="inner"
        )
        if marks.height:
            fig.add_trace(
                go.Scatter(
                    x=marks["as_of"],
                    y=marks["value"],
                    mode="markers",
                    name=f"{ticker} event month",
                    legendgroup=ticker,
                    showlegend=False,
                    customdata=[[m.strftime("%Y-%m"), move] for m, move in zip(marks["month"], marks["move"])],
                    marker={"color": color, "size": 11, "symbol": "diamond", "line": {"color": "white", "width": 1.5}},
                    hovertemplate=f"{ticker} event %{{customdata[0]}}: month %{{customdata[1]:+.2%}}<extra></extra>",
                )
            )
    fig.update_yaxes(title_text=f"return since {since:%Y-%m-%d}", **_PERCENT_AXIS)
    fig.update_xaxes(title_text="session", showspikes=True, spikemode="across", spikethickness=1)
    fig.update_layout(hovermode="x unified")
    return finish(fig, 380)


def distribution_figure(data: ReportData) -> go.Figure:
    """Forward returns per horizon, the events' beside every month's (the baseline), one
    panel per ticker; boxes show the quartiles, the dashed line the mean."""
    horizons = data.horizons
    labels = {h: f"{h}M" for h in horizons}
    fig, cells = grid(data.tickers, [panel_title(data, t) for t in data.tickers], shared_yaxes=True)
    for i, (ticker, (row, col)) in enumerate(zip(data.tickers, cells)):
        groups = (
            (
                "events",
                data.events,
                EVENTS,
                {"boxpoints": "all", "jitter": 0.35, "pointpos": 0, "marker": {"size": 5, "opacity": 0.8}},
            ),
            ("baseline (every month)", data.month_end, BASELINE, {"boxpoints": False}),
        )
        for name, frame, color, points in groups:
            mine = frame.filter(pl.col("ticker") == ticker)
            x: list[str] = []
            y: list[float] = []
            for h in horizons:
                values = mine[forward_column(h)].drop_nulls().to_list()
                x += [labels[h]] * len(values)
                y += values
            fig.add_trace(
                go.Box(
                    # Without offsetgroup Plotly makes room for every panel's boxes in each panel.
                    x=x,
                    y=y,
                    name=name,
                    legendgroup=name,
                    offsetgroup=name,
                    showlegend=i == 0,
                    boxmean=True,
                    marker_color=color,
                    line={"width": 1.5},
                    hoverinfo="y",
                    **points,
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(
            title_text="horizon", categoryorder="array", categoryarray=list(labels.values()), row=row, col=col
        )
    fig.update_yaxes(**_PERCENT_AXIS)
    fig.update_yaxes(title_text="forward return", row=1, col=1)
    fig.update_layout(boxmode="group", boxgap=0.25, boxgroupgap=0.15)
    return finish(fig, 380, rows=max(r for r, _ in cells))

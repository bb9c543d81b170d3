"""The text of an alert: the move, its as-of date, and the odds history gives it."""

import datetime as dt

import polars as pl

from surgewatch.formats import percent, threshold_percent

_HEADLINES = {
    "provisional": "{ticker} is {move} month to date as of {as_of}: past the {threshold} threshold (provisional, {month} is not over)",
    "confirmed": "{ticker} closed {month} {move}: a {threshold} month, confirmed on {as_of}",
    "did_not_hold": "{ticker} closed {month} {move}, short of the {threshold} it reached earlier: the signal did not hold",
}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else percent(value)


def _month_label(month: dt.date | str) -> str:
    return f"{month:%Y-%m}" if isinstance(month, dt.date) else str(month)


def alert_title(alert: dict) -> str:
    """One line naming the ticker, month, kind and move."""
    return f"surgewatch: {alert['ticker']} {_month_label(alert['month'])} {alert['kind'].replace('_', ' ')} {_pct(alert['move'])}"


def alert_message(
    alert: dict, events: pl.DataFrame, summary: pl.DataFrame, threshold: float, direction: str = "up"
) -> str:
    """The body for one alert row (ticker, month, kind, move, as_of).

    events / summary: the study's frames (any tickers); only the alert's ticker and the
    events before its month are counted as history.
    """
    ticker, month = alert["ticker"], alert["month"]
    label = _month_label(month)
    move = alert["move"]
    signed_threshold = f"{'+' if direction == 'up' else '-'}{threshold_percent(threshold)}"
    headline = _HEADLINES[alert["kind"]].format(
        ticker=ticker, month=label, as_of=alert["as_of"], move=_pct(move), threshold=signed_threshold
    )
    earlier = events.filter((pl.col("ticker") == ticker) & (pl.col("month") < month))
    lines = [headline, ""]
    if earlier.is_empty():
        lines.append(f"No earlier {signed_threshold} month in {ticker}'s history.")
    else:
        first, last = earlier["month"].min(), earlier["month"].max()
        assert isinstance(first, dt.date) and isinstance(last, dt.date)  # a Date column of a non-empty frame
        lines.append(
            f"History: {earlier.height} earlier {signed_threshold} month(s) ({first:%Y-%m} to {last:%Y-%m}). What followed them:"
        )
        rows = summary.filter(pl.col("ticker") == ticker).sort("horizon")
        for row in rows.iter_rows(named=True):
            win = "n/a" if row["win_rate"] is None else f"{percent(row['win_rate'], signed=False, decimals=0)} up"
            lines.append(f"  {row['horizon']:>2}M: average {_pct(row['average'])}, {win}, n={row['n']}")
    return "\n".join(lines)

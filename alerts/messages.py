"""The text of an alert: the move, its as-of date, the odds history gives it, and how
sure that history is (SPEC §2b)."""

import datetime as dt

import polars as pl

from surgewatch.present.formats import percent, threshold_percent
from surgewatch.present.sentences import p_value, pp, side, strongest
from surgewatch.core.vocabulary import SMALL_SAMPLE
from surgewatch.core.vocabulary import Direction

# The kinds whose message ends with the signal-or-noise line (a month that did not hold
# is not news about the signal's history).
_WITH_HISTORY_LINE = ("provisional", "confirmed")

_HEADLINES = {
    "provisional": "{ticker} is {move} month to date as of {as_of}: past the {threshold} threshold (provisional, {month} is not over)",
    "confirmed": "{ticker} closed {month} {move}: a {threshold} month, confirmed on {as_of}",
    "did_not_hold": "{ticker} closed {month} {move}, short of the {threshold} it reached earlier: the signal did not hold",
}
# Said when the month's as_of is before the run's (no run was published meanwhile), so a
# subscriber knows the news is old.
_LATE = {
    "confirmed": ", reported {reported}",
    "did_not_hold": " (closed on {as_of}, reported {reported})",
}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else percent(value)


def _month_label(month: dt.date | str) -> str:
    return f"{month:%Y-%m}" if isinstance(month, dt.date) else str(month)


def late_note(alert: dict) -> str:
    """' (late: as of 2026-05-29, reported 2026-08-21)' for an alert whose month settled
    while no run was published; '' otherwise (and for a retry, which says it in its message)."""
    reported = alert.get("reported")
    if reported is None or alert["kind"] not in _LATE or reported <= alert["as_of"]:
        return ""
    return f" (late: as of {alert['as_of']}, reported {reported})"


def alert_title(alert: dict) -> str:
    """One line naming the ticker, month, kind and move."""
    return f"surgewatch: {alert['ticker']} {_month_label(alert['month'])} {alert['kind'].replace('_', ' ')} {_pct(alert['move'])}"


def history_line(ticker: str, summary: pl.DataFrame, stats: pl.DataFrame) -> str | None:
    """'History: suggestive, not proven (better) at 3M: +7.5% avg after 15 such months;
    random sets of 15 months: -1.9% to +6.4%; an ordinary IWM month returned +2.2% (+5.2 pp,
    better); p=0.037, q=0.146, 14 independent episodes' from the study's summary and §2b
    stats of `ticker`, at its headline horizon (SPEC §2b: the lowest q, as the study and
    the report lead with); None when no horizon has an event."""
    s = strongest(stats.filter(pl.col("ticker") == ticker).to_dicts())
    if s is None:
        return None
    horizon, n = s["horizon"], s["n"]
    average = summary.filter((pl.col("ticker") == ticker) & (pl.col("horizon") == horizon))["average"]
    if average.is_empty() or average[0] is None:
        return None
    mean = average[0]
    word = side(s["excess"], s["verdict"], 1)
    ordinary = f"an ordinary {ticker} month returned {percent(mean - s['excess'], decimals=1)} ({pp(s['excess'], 1)}"
    ordinary += f", {word})" if word else ")"
    if s["placebo_p"] is None:
        band, odds = "", "every month is such a month, so no random month to compare with"
    else:
        low, high = (percent(s[k], decimals=1) for k in ("chance_low", "chance_high"))
        band = f"; random sets of {n} months: {low} to {high}"
        odds = f"{p_value(s['placebo_p'])}, q={s['q_value']:.3f}, {s['n_independent']} independent episodes"
    small = f"; small sample (n < {SMALL_SAMPLE})" if n < SMALL_SAMPLE else ""
    return (
        f"History: {s['verdict']} at {horizon}M: {percent(mean, decimals=1)} avg after {n} such "
        f"month{'s' if n != 1 else ''}{band}; {ordinary}; {odds}{small}"
    )


def alert_message(
    alert: dict,
    events: pl.DataFrame,
    summary: pl.DataFrame,
    threshold: float,
    direction: Direction = "up",
    stats: pl.DataFrame | None = None,
) -> str:
    """The body for one alert row (ticker, month, kind, move, as_of[, reported]).

    events / summary / stats: the study's frames (any tickers); only the alert's ticker
    and the events before its month are counted as history. With stats (SPEC §2b), a
    provisional or confirmed message ends with the history line (see history_line).
    """
    ticker, month = alert["ticker"], alert["month"]
    label = _month_label(month)
    move = alert["move"]
    signed_threshold = f"{'+' if direction == 'up' else '-'}{threshold_percent(threshold)}"
    reported = alert.get("reported")
    late = _LATE.get(alert["kind"], "") if reported is not None and reported > alert["as_of"] else ""
    headline = (_HEADLINES[alert["kind"]] + late).format(
        ticker=ticker, month=label, as_of=alert["as_of"], move=_pct(move), threshold=signed_threshold, reported=reported
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
        line = history_line(ticker, summary, stats) if stats is not None else None
        if line is not None and alert["kind"] in _WITH_HISTORY_LINE:
            lines.append(line)
    return "\n".join(lines)

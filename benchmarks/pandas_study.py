"""The study written the straightforward pandas way, as a notebook would: the reference
the engine is checked against and timed next to.

Independent of the engine's code on purpose: it imports nothing from transforms/,
schemas/ or surgewatch/ (the NYSE calendar comes straight from exchange_calendars), and
it follows SPEC §2 literally rather than the engine's formulation:

- month-ends: groupby(ticker) + resample("ME") on the calendar-month grid;
- complete: the ticker's last row is on or after the month's last NYSE session;
- move / forward returns: shifts along that calendar-month grid (so C[m-1], C[m+h] are
  those calendar months; a month with no session leaves them undefined = NaN);
- forward max drawdown: for each window C[m..m+h] (rolling(h+1).apply), the path's
  lowest close / running max - 1, entry close as the first peak;
- context: up = close > previous row's close (a ticker's first row is not up);
  up_share = up sessions / sessions; prior_12m = C[m-1] / C[m-13] - 1 on the grid;
  prior_drawdown = the 63-session rolling min of close / 252-session rolling max - 1
  (min_periods=1), read on the last session before the month;
- first_crossed_on: first session of the month with close / C[m-1] - 1 past threshold;
- summary / baseline: groupby(ticker) over rows with a known forward return, ddof=0
  Sharpe, null when n < 2 or the deviation is 0.

Dates come back as datetime64 (month = first day of the month), like the engine's frames
once converted; `to_polars` turns the results into frames shaped like the engine's.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from surgewatch.core.vocabulary import forward_column, drawdown_column

BASIS_COLUMN = {"price": "close", "total": "adj_close"}
PEAK_WINDOW, LOOKBACK_WINDOW = 252, 63


def nyse_last_sessions(start: dt.date, end: dt.date) -> pd.Series:
    """Last NYSE session of every month from start's month to end's month, indexed by
    month (Period[M]); read straight from exchange_calendars' XNYS."""
    import exchange_calendars as xc

    first = pd.Timestamp(start).to_period("M").start_time
    last = pd.Timestamp(end).to_period("M").end_time.normalize()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exchange_calendars on pandas 3: Series.values
        sessions = xc.get_calendar("XNYS", start=first, end=last).sessions
    sessions = pd.Series(sessions.tz_localize(None) if sessions.tz else sessions)
    return sessions.groupby(sessions.dt.to_period("M")).max()


def _path_drawdown(window: np.ndarray) -> float:
    """Largest peak-to-trough fall of a month-end path; the first close is the first peak."""
    return (window / np.maximum.accumulate(window) - 1).min()


def pandas_study(
    prices: pd.DataFrame,
    last_sessions: pd.Series,
    threshold: float = 0.10,
    direction: str = "up",
    horizons: Sequence[int] = (1, 3, 6, 12),
    basis: str = "price",
) -> dict[str, pd.DataFrame]:
    """monthly, events, summary and baseline for every ticker in prices.

    prices: ticker, date (datetime64), close / adj_close. last_sessions: from
    nyse_last_sessions over the data's span (built once, outside any timing).
    """
    daily = (
        prices[["ticker", "date", BASIS_COLUMN[basis]]]
        .rename(columns={BASIS_COLUMN[basis]: "price"})
        .sort_values(["ticker", "date"], ignore_index=True)
    )

    # --- daily context ------------------------------------------------------------
    by_ticker = daily.groupby("ticker")["price"]
    daily["up"] = daily["price"] > by_ticker.shift(1)  # NaN on the first row compares False
    peak = by_ticker.transform(lambda p: p.rolling(PEAK_WINDOW, min_periods=1).max())
    daily["underwater"] = daily["price"] / peak - 1
    daily["low_63"] = daily.groupby("ticker")["underwater"].transform(
        lambda u: u.rolling(LOOKBACK_WINDOW, min_periods=1).min()
    )
    daily["session"] = daily["date"]

    # --- month-ends on the calendar-month grid ----------------------------------------
    monthly = (
        daily.set_index("date")
        .groupby("ticker")
        .resample("ME")
        .agg(
            as_of=("session", "last"),
            close=("price", "last"),
            sessions=("price", "count"),
            up_sessions=("up", "sum"),
            low_63=("low_63", "last"),
        )
        .reset_index()
    )
    period = monthly["date"].dt.to_period("M")
    monthly["month"] = period.dt.start_time
    last_row = daily.groupby("ticker")["date"].max()
    monthly["complete"] = monthly["ticker"].map(last_row) >= period.map(last_sessions)

    g = monthly.groupby("ticker")
    # The last session before month m: the last row of the latest earlier month with rows.
    monthly["prior_drawdown"] = g["low_63"].transform(lambda low: low.ffill().shift(1))
    monthly["previous_close"] = g["close"].shift(1)
    monthly["move"] = monthly["close"] / monthly["previous_close"] - 1
    monthly["prior_12m"] = monthly["previous_close"] / g["close"].shift(13) - 1
    monthly["up_share"] = monthly["up_sessions"] / monthly["sessions"]
    for h in horizons:
        done = g["complete"].shift(-h).eq(True)
        monthly[forward_column(h)] = (g["close"].shift(-h) / monthly["close"] - 1).where(done)
        path_dd = g["close"].transform(lambda c, h=h: c.rolling(h + 1).apply(_path_drawdown, raw=True).shift(-h))
        monthly[drawdown_column(h)] = path_dd.where(done)
    monthly = monthly[monthly["sessions"] > 0].reset_index(drop=True)

    # --- events and the day each first crossed ---------------------------------------
    crossed = (lambda x: x >= threshold) if direction == "up" else (lambda x: x <= -threshold)
    events = monthly[crossed(monthly["move"])].copy()
    daily["month"] = daily["date"].dt.to_period("M").dt.start_time
    in_event_months = daily.merge(events[["ticker", "month", "previous_close"]], on=["ticker", "month"])
    hits = in_event_months[crossed(in_event_months["price"] / in_event_months["previous_close"] - 1)]
    first_crossed = hits.groupby(["ticker", "month"])["date"].min().rename("first_crossed_on")
    events = events.merge(first_crossed, on=["ticker", "month"], how="left")

    keep = [
        "ticker",
        "month",
        "as_of",
        "close",
        "complete",
        "sessions",
        "up_sessions",
        "prior_drawdown",
        "prior_12m",
        "up_share",
        "move",
        *(forward_column(h) for h in horizons),
        *(drawdown_column(h) for h in horizons),
    ]
    return {
        "monthly": monthly[keep],
        "events": events[[*keep, "first_crossed_on"]],
        "summary": summarize(events, horizons),
        "baseline": summarize(monthly, horizons),
    }


def summarize(frame: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
    """Per (ticker, horizon) over the rows with a known forward return."""
    tickers = frame["ticker"].unique()
    parts = []
    for h in horizons:
        fwd, mdd = forward_column(h), drawdown_column(h)
        stats = (
            frame.dropna(subset=[fwd])
            .groupby("ticker")
            .agg(
                n=(fwd, "size"),
                average=(fwd, "mean"),
                median=(fwd, "median"),
                win_rate=(fwd, lambda r: (r > 0).mean()),
                std=(fwd, lambda r: r.std(ddof=0)),
                max_drawdown=(mdd, "min"),
            )
            .reindex(tickers)
        )
        stats["n"] = stats["n"].fillna(0).astype("int64")
        stats["sharpe"] = (stats["average"] / stats["std"]).where((stats["n"] >= 2) & (stats["std"] > 0))
        stats["horizon"] = h
        parts.append(stats.rename_axis("ticker").reset_index())
    columns = ["ticker", "horizon", "n", "average", "median", "win_rate", "sharpe", "max_drawdown"]
    return pd.concat(parts)[columns].sort_values(["ticker", "horizon"], ignore_index=True)


def to_polars(result: dict[str, pd.DataFrame]):
    """The pandas results as polars frames with the engine's column types (for comparing)."""
    import polars as pl

    out = {}
    for name, frame in result.items():
        pf = pl.from_pandas(frame)
        casts = {c: pl.Date for c in ("month", "as_of", "first_crossed_on") if c in pf.columns}
        casts |= {c: pl.UInt32 for c in ("sessions", "up_sessions", "n") if c in pf.columns}
        casts |= {c: pl.Int64 for c in ("horizon",) if c in pf.columns}
        out[name] = pf.with_columns(pl.col(c).cast(t) for c, t in casts.items())
    return out

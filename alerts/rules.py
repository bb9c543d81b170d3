"""Which alerts a run owes: one per (ticker, month, kind), ever (SPEC §1).

- provisional: the month is partial and its month-to-date move is past the threshold;
- confirmed: the month completed past the threshold (provisional or not before);
- did_not_hold: the month was provisional and completed short of it.

A month is news when its state may have changed since the warehouse's last published
version: for a ticker stored before, every month from the one holding its last stored
session on, whatever the gap (a machine down for weeks still owes the month that
qualified meanwhile); for a ticker loaded for the first time, only its last two months,
so loading years of history sends no stale news.
"""

import datetime as dt

import polars as pl

from surgewatch.core.vocabulary import Direction, crossed
from surgewatch.core.params import StudyParams

KINDS = ("provisional", "confirmed", "did_not_hold")
# A failed delivery is retried by the next run, once: two attempts in all.
MAX_ATTEMPTS = 2
LEDGER_KEY = ["ticker", "month", "kind"]
_FIRST_LOAD_MONTHS = 2


def alerts_due(
    monthly: pl.DataFrame,
    ledger: pl.DataFrame,
    params: StudyParams,
    since: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """(ticker, month, kind, move, as_of, reported) of the alerts not yet in the ledger.

    monthly: the study's monthly returns (ticker, month, as_of, complete, move);
    ledger: the stored alerts (ticker, month, kind, …);
    params: the study's (its threshold and direction say which months qualify);
    since: (ticker, last_session) each stored ticker's last session before this run.
    A month is looked at when month >= month_start(last_session), or, for a ticker with
    no last session, when it is one of the ticker's last two months. `reported` is the
    ticker's latest as_of in this run: an alert whose as_of is earlier is late (its month
    completed while no run was published).
    """
    previous = (
        since if since is not None else pl.DataFrame(schema={"ticker": pl.String, "last_session": pl.Date})
    ).lazy()
    recent = (
        monthly.lazy()
        .filter(pl.col("move").is_not_null())
        .with_columns(
            newest=pl.col("month").rank("ordinal", descending=True).over("ticker"),
            reported=pl.col("as_of").max().over("ticker"),
        )
        .join(previous.select("ticker", "last_session"), on="ticker", how="left")
        .filter(
            pl.when(pl.col("last_session").is_null())
            .then(pl.col("newest") <= _FIRST_LOAD_MONTHS)
            .otherwise(pl.col("month") >= pl.col("last_session").dt.month_start())
        )
        .with_columns(past=crossed(pl.col("move"), params.threshold, params.direction))
    )
    sent = ledger.lazy().select(LEDGER_KEY)
    had_provisional = sent.filter(pl.col("kind") == "provisional").select(
        "ticker", "month", was_provisional=pl.lit(True)
    )
    candidates = (
        recent.join(had_provisional, on=["ticker", "month"], how="left")
        .with_columns(
            kind=pl.when(~pl.col("complete") & pl.col("past"))
            .then(pl.lit("provisional"))
            .when(pl.col("complete") & pl.col("past"))
            .then(pl.lit("confirmed"))
            .when(pl.col("complete") & pl.col("was_provisional").fill_null(False))
            .then(pl.lit("did_not_hold"))
        )
        .filter(pl.col("kind").is_not_null())
    )
    confirmed = sent.filter(pl.col("kind") == "confirmed").select("ticker", "month")
    return (
        candidates.join(sent, on=LEDGER_KEY, how="anti")
        # A month already confirmed needs no provisional (a replay of an earlier night).
        .join(confirmed, on=["ticker", "month"], how="anti")
        .select(*LEDGER_KEY, "move", "as_of", "reported")
        .sort(LEDGER_KEY)
        .collect()
    )


def idempotency_key(ticker: str, month: dt.date, kind: str, threshold: float, direction: Direction) -> str:
    """'QQQ:2026-05:confirmed:0.1:up': what makes an alert the same alert. A receiver that
    has seen a key may drop the message (a crash between delivery and the ledger's commit
    sends it again)."""
    return f"{ticker}:{month:%Y-%m}:{kind}:{threshold:g}:{direction}"


def retries_due(ledger: pl.DataFrame) -> pl.DataFrame:
    """Stored alerts whose delivery failed and may be tried once more."""
    return ledger.filter((pl.col("status") == "pending") & (pl.col("attempts") < MAX_ATTEMPTS))

"""Which alerts a run owes: one per (ticker, month, kind), ever (SPEC §1).

- provisional: the month is partial and its month-to-date move is past the threshold;
- confirmed: the month completed past the threshold (provisional or not before);
- did_not_hold: the month was provisional and completed short of it.

Only each ticker's last two months are looked at (the current one, and the one that may
have completed since the last run), so loading years of history sends no stale news.
"""

import polars as pl

from surgewatch.vocabulary import crossed

KINDS = ("provisional", "confirmed", "did_not_hold")
# A failed delivery is retried by the next run, once: two attempts in all.
MAX_ATTEMPTS = 2
LEDGER_KEY = ["ticker", "month", "kind"]
_RECENT_MONTHS = 2


def alerts_due(monthly: pl.DataFrame, ledger: pl.DataFrame, threshold: float, direction: str = "up") -> pl.DataFrame:
    """(ticker, month, kind, move, as_of) of the alerts not yet in the ledger.

    monthly: the study's monthly returns (ticker, month, as_of, complete, move);
    ledger: the stored alerts (ticker, month, kind, …).
    """
    recent = (
        monthly.lazy()
        .filter(pl.col("move").is_not_null())
        .filter(pl.col("month").rank("ordinal", descending=True).over("ticker") <= _RECENT_MONTHS)
        .with_columns(past=crossed(pl.col("move"), threshold, direction))
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
        .select(*LEDGER_KEY, "move", "as_of")
        .sort(LEDGER_KEY)
        .collect()
    )


def retries_due(ledger: pl.DataFrame) -> pl.DataFrame:
    """Stored alerts whose delivery failed and may be tried once more."""
    return ledger.filter((pl.col("status") == "pending") & (pl.col("attempts") < MAX_ATTEMPTS))

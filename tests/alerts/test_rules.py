"""Which alert a month owes, by hand (pure rules, no delivery)."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.alerts import alert_message, alerts_due, retries_due

APR, MAR, MAY = dt.date(2026, 4, 1), dt.date(2026, 3, 1), dt.date(2026, 5, 1)


def months(*rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["ticker", "month", "as_of", "complete", "move"], orient="row")


def ledger(*rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"ticker": pl.Utf8, "month": pl.Date, "kind": pl.Utf8, "status": pl.Utf8, "attempts": pl.Int32},
        orient="row",
    )


def kinds(frame: pl.DataFrame) -> list[tuple]:
    return [(t, m, k) for t, m, k in frame.select("ticker", "month", "kind").iter_rows()]


def test_partial_month_past_threshold_is_provisional():
    due = alerts_due(
        months(("IWM", MAR, dt.date(2026, 3, 31), True, -0.05), ("IWM", APR, dt.date(2026, 4, 17), False, 0.112)),
        ledger(),
        0.10,
    )
    assert kinds(due) == [("IWM", APR, "provisional")]
    assert due["as_of"].item() == dt.date(2026, 4, 17)


def test_partial_month_below_threshold_owes_nothing():
    assert alerts_due(months(("IWM", APR, dt.date(2026, 4, 16), False, 0.0999)), ledger(), 0.10).is_empty()


def test_provisional_is_sent_once():
    sent = ledger(("IWM", APR, "provisional", "sent", 1))
    assert alerts_due(months(("IWM", APR, dt.date(2026, 4, 20), False, 0.118)), sent, 0.10).is_empty()


def test_completed_month_is_confirmed_with_or_without_a_provisional_first():
    april = months(("IWM", APR, dt.date(2026, 4, 30), True, 0.1208))
    assert kinds(alerts_due(april, ledger(("IWM", APR, "provisional", "sent", 1)), 0.10)) == [("IWM", APR, "confirmed")]
    assert kinds(alerts_due(april, ledger(), 0.10)) == [("IWM", APR, "confirmed")]


def test_provisional_month_that_ends_short_did_not_hold():
    april = months(("IWM", APR, dt.date(2026, 4, 30), True, 0.08))
    assert kinds(alerts_due(april, ledger(("IWM", APR, "provisional", "sent", 1)), 0.10)) == [
        ("IWM", APR, "did_not_hold")
    ]
    assert alerts_due(april, ledger(), 0.10).is_empty()  # never provisional: nothing to take back


def test_only_the_last_two_months_are_news():
    history = months(
        ("IWM", dt.date(2020, 11, 1), dt.date(2020, 11, 30), True, 0.18),
        ("IWM", APR, dt.date(2026, 4, 30), True, 0.12),
        ("IWM", MAY, dt.date(2026, 5, 1), False, 0.01),
    )
    assert kinds(alerts_due(history, ledger(), 0.10)) == [("IWM", APR, "confirmed")]


def test_down_direction():
    due = alerts_due(months(("IWM", APR, dt.date(2026, 4, 10), False, -0.12)), ledger(), 0.10, "down")
    assert kinds(due) == [("IWM", APR, "provisional")]


def test_only_pending_alerts_with_a_try_left_are_retried():
    stored = ledger(
        ("A", APR, "provisional", "pending", 1),
        ("B", APR, "provisional", "failed", 2),
        ("C", APR, "confirmed", "sent", 1),
    )
    assert retries_due(stored)["ticker"].to_list() == ["A"]


def test_message_carries_move_as_of_history_and_odds():
    events = pl.DataFrame({"ticker": ["IWM"] * 3, "month": [dt.date(2020, 11, 1), dt.date(2024, 11, 1), APR]})
    summary = pl.DataFrame(
        {"ticker": ["IWM"] * 2, "horizon": [1, 3], "n": [2, 2], "average": [0.02, -0.01], "win_rate": [0.5, 1.0]}
    )
    body = alert_message(
        {"ticker": "IWM", "month": APR, "kind": "provisional", "move": 0.1183, "as_of": dt.date(2026, 4, 20)},
        events,
        summary,
        0.10,
    )
    assert "IWM is +11.83% month to date as of 2026-04-20" in body
    assert "2 earlier +10% month(s) (2020-11 to 2024-11)" in body
    assert " 1M: average +2.00%, 50% up, n=2" in body and " 3M: average -1.00%, 100% up, n=2" in body


@pytest.mark.parametrize("kind", ["confirmed", "did_not_hold"])
def test_every_kind_has_a_headline(kind):
    body = alert_message(
        {"ticker": "X", "month": APR, "kind": kind, "move": 0.05, "as_of": dt.date(2026, 4, 30)},
        pl.DataFrame(schema={"ticker": pl.Utf8, "month": pl.Date}),
        pl.DataFrame(schema={"ticker": pl.Utf8, "horizon": pl.Int64}),
        0.10,
    )
    assert body.startswith("X closed 2026-04 +5.00%")

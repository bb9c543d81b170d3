"""Which alert a month owes, by hand (pure rules, no delivery)."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.alerts import alert_message, alerts_due, retries_due
from surgewatch.core.params import StudyParams

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
        StudyParams(0.10),
    )
    assert kinds(due) == [("IWM", APR, "provisional")]
    assert due["as_of"].item() == dt.date(2026, 4, 17)


def test_partial_month_below_threshold_owes_nothing():
    assert alerts_due(months(("IWM", APR, dt.date(2026, 4, 16), False, 0.0999)), ledger(), StudyParams(0.10)).is_empty()


def test_provisional_is_sent_once():
    sent = ledger(("IWM", APR, "provisional", "sent", 1))
    assert alerts_due(months(("IWM", APR, dt.date(2026, 4, 20), False, 0.118)), sent, StudyParams(0.10)).is_empty()


def test_completed_month_is_confirmed_with_or_without_a_provisional_first():
    april = months(("IWM", APR, dt.date(2026, 4, 30), True, 0.1208))
    assert kinds(alerts_due(april, ledger(("IWM", APR, "provisional", "sent", 1)), StudyParams(0.10))) == [
        ("IWM", APR, "confirmed")
    ]
    assert kinds(alerts_due(april, ledger(), StudyParams(0.10))) == [("IWM", APR, "confirmed")]


def test_provisional_month_that_ends_short_did_not_hold():
    april = months(("IWM", APR, dt.date(2026, 4, 30), True, 0.08))
    assert kinds(alerts_due(april, ledger(("IWM", APR, "provisional", "sent", 1)), StudyParams(0.10))) == [
        ("IWM", APR, "did_not_hold")
    ]
    assert alerts_due(april, ledger(), StudyParams(0.10)).is_empty()  # never provisional: nothing to take back


def test_a_first_load_sends_only_the_last_two_months():
    history = months(
        ("IWM", dt.date(2020, 11, 1), dt.date(2020, 11, 30), True, 0.18),
        ("IWM", APR, dt.date(2026, 4, 30), True, 0.12),
        ("IWM", MAY, dt.date(2026, 5, 1), False, 0.01),
    )
    assert kinds(alerts_due(history, ledger(), StudyParams(0.10))) == [("IWM", APR, "confirmed")]


def since(**last_sessions: dt.date) -> pl.DataFrame:
    return pl.DataFrame(
        {"ticker": list(last_sessions), "last_session": list(last_sessions.values())},
        schema={"ticker": pl.Utf8, "last_session": pl.Date},
    )


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def month_rows(ticker: str, *rows: tuple[str, str, bool, float]) -> list[tuple]:
    """(month 'YYYY-MM', as_of, complete, move) → monthly rows of one ticker."""
    return [(ticker, d(f"{m}-01"), d(a), c, mv) for m, a, c, mv in rows]


def late(frame: pl.DataFrame) -> list[tuple]:
    return [
        (t, m, k, a, r) for t, m, k, a, r in frame.select("ticker", "month", "kind", "as_of", "reported").iter_rows()
    ]


@pytest.mark.parametrize("provisional_before", [True, False])
def test_a_gap_of_one_night_still_confirms_the_month_it_missed(provisional_before):
    # The run of 2026-04-30 never happened: the last stored session is 04-29, then 05-01.
    monthly = months(
        *month_rows(
            "IWM",
            ("2026-03", "2026-03-31", True, -0.05),
            ("2026-04", "2026-04-30", True, 0.12),
            ("2026-05", "2026-05-01", False, 0.01),
        )
    )
    stored = ledger(("IWM", APR, "provisional", "sent", 1)) if provisional_before else ledger()
    due = alerts_due(monthly, stored, StudyParams(0.10), since=since(IWM=d("2026-04-29")))
    assert late(due) == [("IWM", APR, "confirmed", d("2026-04-30"), d("2026-05-01"))]


@pytest.mark.parametrize("provisional_before", [True, False])
def test_a_gap_of_one_month_confirms_the_month_that_qualified_meanwhile(provisional_before):
    monthly = months(
        *month_rows(
            "QQQ",
            ("2026-04", "2026-04-30", True, 0.02),
            ("2026-05", "2026-05-29", True, 0.1057),
            ("2026-06", "2026-06-30", True, -0.003),
            ("2026-07", "2026-07-01", False, 0.004),
        )
    )
    stored = ledger(("QQQ", MAY, "provisional", "sent", 1)) if provisional_before else ledger()
    due = alerts_due(monthly, stored, StudyParams(0.10), since=since(QQQ=d("2026-05-20")))
    assert late(due) == [("QQQ", MAY, "confirmed", d("2026-05-29"), d("2026-07-01"))]


def test_a_gap_of_six_months_owes_every_month_that_qualified_or_did_not_hold():
    monthly = months(
        *month_rows(
            "IWM",
            ("2025-10", "2025-10-31", True, 0.01),
            ("2025-11", "2025-11-28", True, 0.06),  # provisional on 11-14, closed short
            ("2025-12", "2025-12-31", True, 0.13),  # crossed and closed inside the gap
            ("2026-01", "2026-01-30", True, -0.02),
            ("2026-02", "2026-02-27", True, 0.11),
            ("2026-03", "2026-03-31", True, 0.03),
            ("2026-04", "2026-04-30", True, 0.12),
            ("2026-05", "2026-05-14", False, 0.105),
        )
    )
    due = alerts_due(
        monthly,
        ledger(("IWM", d("2025-11-01"), "provisional", "sent", 1)),
        StudyParams(0.10),
        since=since(IWM=d("2025-11-14")),
    )
    assert kinds(due) == [
        ("IWM", d("2025-11-01"), "did_not_hold"),
        ("IWM", d("2025-12-01"), "confirmed"),
        ("IWM", d("2026-02-01"), "confirmed"),
        ("IWM", APR, "confirmed"),
        ("IWM", MAY, "provisional"),
    ]
    assert set(due["reported"]) == {d("2026-05-14")}


def test_tickers_with_different_gaps_each_get_their_own_months():
    monthly = months(
        *month_rows(
            "IWM",
            ("2026-03", "2026-03-31", True, 0.11),
            ("2026-04", "2026-04-30", True, 0.12),
            ("2026-05", "2026-05-04", False, 0.0),
        ),
        *month_rows(
            "SPY",
            ("2026-01", "2026-01-30", True, 0.104),
            ("2026-02", "2026-02-27", True, 0.0),
            ("2026-03", "2026-03-31", True, 0.0),
            ("2026-04", "2026-04-30", True, 0.105),
            ("2026-05", "2026-05-04", False, 0.0),
        ),
        # Never stored before: years of history, and only its last two months are news.
        *month_rows(
            "QQQ",
            ("2020-04", "2020-04-30", True, 0.15),
            ("2026-04", "2026-04-30", True, 0.157),
            ("2026-05", "2026-05-04", False, 0.0),
        ),
    )
    stored = ledger(("IWM", MAR, "confirmed", "sent", 1))
    due = alerts_due(monthly, stored, StudyParams(0.10), since=since(IWM=d("2026-04-28"), SPY=d("2026-01-15")))
    assert kinds(due) == [
        ("IWM", APR, "confirmed"),
        ("QQQ", APR, "confirmed"),
        ("SPY", d("2026-01-01"), "confirmed"),
        ("SPY", APR, "confirmed"),
    ]


def test_a_night_with_no_gap_owes_nothing_already_told():
    monthly = months(*month_rows("IWM", ("2026-04", "2026-04-30", True, 0.12), ("2026-05", "2026-05-01", False, 0.01)))
    stored = ledger(("IWM", APR, "provisional", "sent", 1), ("IWM", APR, "confirmed", "sent", 1))
    assert alerts_due(monthly, stored, StudyParams(0.10), since=since(IWM=d("2026-04-30"))).is_empty()


def test_a_late_alert_says_when_it_was_confirmed_and_when_reported():
    empty_events = pl.DataFrame(schema={"ticker": pl.Utf8, "month": pl.Date})
    empty_summary = pl.DataFrame(schema={"ticker": pl.Utf8, "horizon": pl.Int64})
    alert = {"ticker": "QQQ", "month": MAY, "kind": "confirmed", "move": 0.1057, "as_of": d("2026-05-29")}
    body = alert_message({**alert, "reported": d("2026-08-21")}, empty_events, empty_summary, 0.10)
    assert body.startswith("QQQ closed 2026-05 +10.57%: a +10% month, confirmed on 2026-05-29, reported 2026-08-21\n")
    on_time = alert_message({**alert, "reported": d("2026-05-29")}, empty_events, empty_summary, 0.10)
    assert "reported" not in on_time.splitlines()[0]
    did_not_hold = {**alert, "kind": "did_not_hold", "move": 0.06, "reported": d("2026-08-21")}
    assert "did not hold (closed on 2026-05-29, reported 2026-08-21)" in alert_message(
        did_not_hold, empty_events, empty_summary, 0.10
    )


def test_down_direction():
    due = alerts_due(months(("IWM", APR, dt.date(2026, 4, 10), False, -0.12)), ledger(), StudyParams(0.10, "down"))
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

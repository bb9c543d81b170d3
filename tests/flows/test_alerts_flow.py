"""Exactly-once alerts, replaying IWM's April 2026 night by night through the real flow."""

import datetime as dt

from surgewatch.flows.refresh import refresh
from tests.flows.conftest import night, query

APRIL_NIGHTS = [
    "2026-04-14",
    "2026-04-15",
    "2026-04-16",
    "2026-04-17",
    "2026-04-20",
    "2026-04-29",
    "2026-04-30",
    "2026-05-01",
]


def titles(receiver) -> list[str]:
    return [m["title"] for m in receiver.messages]


def test_april_2026_provisional_then_confirmed_once_each(env, prices_dir, receiver, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    sent_by_night, confirmed = {}, {}
    for day in APRIL_NIGHTS:
        report = refresh(tickers=["IWM"], as_of=night(day))
        assert report.status == "published"
        confirmed[day] = report.confirmed
        sent_by_night[day] = titles(receiver)[len(sum(sent_by_night.values(), [])) :]
    assert sent_by_night["2026-04-14"] == sent_by_night["2026-04-15"] == sent_by_night["2026-04-16"] == []
    assert sent_by_night["2026-04-17"] == ["surgewatch: IWM 2026-04 provisional +11.20%"]
    assert sent_by_night["2026-04-20"] == sent_by_night["2026-04-29"] == []
    assert sent_by_night["2026-04-30"] == ["surgewatch: IWM 2026-04 confirmed +12.08%"]
    assert sent_by_night["2026-05-01"] == []
    assert {day: c for day, c in confirmed.items() if c} == {"2026-04-30": ["IWM 2026-04"]}
    body = receiver.messages[0]["message"]
    assert "IWM is +11.20% month to date as of 2026-04-17" in body
    assert "14 earlier +10% month(s) (2003-04 to 2024-11)" in body and "12M: average" in body
    # Re-running any of those nights sends nothing new.
    for day in ("2026-04-17", "2026-04-30"):
        refresh(tickers=["IWM"], as_of=night(day))
    assert len(receiver.messages) == 2
    ledger = query("SELECT kind, status, attempts FROM alerts ORDER BY kind")
    assert ledger.rows() == [("confirmed", "sent", 1), ("provisional", "sent", 1)]


def test_receiver_down_on_the_crossing_night_delivers_next_night_once(env, prices_dir, receiver, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=["IWM"], as_of=night("2026-04-16"))
    receiver.down = True
    crossing = refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    assert crossing.status == "published" and crossing.snapshot_id is not None
    assert query("SELECT status, attempts FROM alerts").rows() == [("pending", 1)]
    # Published in the same version as the data that triggered it.
    assert query("SELECT count(*) AS n FROM alerts", snapshot=crossing.snapshot_id)["n"].item() == 1
    receiver.down = False
    refresh(tickers=["IWM"], as_of=night("2026-04-20"))
    assert titles(receiver) == ["surgewatch: IWM 2026-04 provisional +11.20%"]
    assert query("SELECT status, attempts FROM alerts").rows() == [("sent", 2)]
    refresh(tickers=["IWM"], as_of=night("2026-04-21"))
    assert len(receiver.messages) == 1


def test_without_targets_the_ledger_still_records(env, prices_dir):
    refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    assert query("SELECT kind, status FROM alerts").rows() == [("provisional", "recorded")]
    assert isinstance(query("SELECT message FROM alerts")["message"].item(), str)


def test_a_month_that_qualified_while_no_run_was_published_is_sent_late_once(env, prices_dir, receiver, monkeypatch):
    # The scenario: published through 2026-05-01, then nothing until 2026-08-21.
    # QQQ closed May +10.57% meanwhile; no run was there to see it.
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    tickers = ["IWM", "SPY", "QQQ"]
    refresh(tickers=tickers, as_of=night("2026-05-01"))
    before = len(receiver.messages)
    later = refresh(tickers=tickers, as_of=night("2026-08-21"))
    assert later.status == "published" and later.new_events == ["QQQ 2026-05"]
    assert later.alerts == ["QQQ 2026-05 confirmed: sent"]
    assert titles(receiver)[before:] == ["surgewatch: QQQ 2026-05 confirmed +10.57%"]
    body = receiver.messages[before]["message"]
    assert body.startswith("QQQ closed 2026-05 +10.57%: a +10% month, confirmed on 2026-05-29, reported 2026-08-21\n")
    stored = query("SELECT ticker, kind, as_of, status, created_run FROM alerts WHERE month = DATE '2026-05-01'")
    assert stored.rows() == [("QQQ", "confirmed", dt.date(2026, 5, 29), "sent", later.run_id)]
    refresh(tickers=tickers, as_of=night("2026-08-21"))
    assert len(receiver.messages) == before + 1


def test_every_alert_carries_its_idempotency_key_as_a_field_and_a_header(env, prices_dir, receiver, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    assert receiver.messages[0]["idempotency_key"] == "IWM:2026-04:provisional:0.1:up"
    assert receiver.headers[0]["Idempotency-Key"] == "IWM:2026-04:provisional:0.1:up"
    # The fields Apprise always sends are untouched.
    assert receiver.messages[0]["title"] == "surgewatch: IWM 2026-04 provisional +11.20%"

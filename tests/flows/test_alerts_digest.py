"""A busy night's alerts as one digest (issue 31, SURGEWATCH_ALERT_DIGEST), through the real
flow against a local receiver: more than the limit due → one message with a line and a
key per item; a digest that failed goes again next night with only the unsent items;
no item is ever sent twice."""

import re

from surgewatch.cli import main
from surgewatch.flows.refresh import refresh
from tests.fake_providers import bars_from_closes, sessions
from tests.flows.conftest import night, query

TICKERS = [f"T{i:02d}" for i in range(1, 13)]


def add_surgers(fake, symbols) -> None:
    """Flat at 100 through March 2026, then +12.5% on April's first session: a +10% April."""
    days = sessions(night("2025-01-02"), night("2026-04-30"))
    for symbol in symbols:
        closes = [100.0 if d < night("2026-04-01") else 112.5 for d in days]
        fake.add_prices(symbol, bars_from_closes(days, closes))


def keys_in(message: dict) -> list[str]:
    return re.findall(r"key (\S+:\d{4}-\d\d:\w+:[\d.]+:\w+)", message["message"])


def test_a_busy_night_goes_as_one_digest_and_a_failed_one_resends_only_the_unsent(env, receiver, monkeypatch, capsys):
    add_surgers(env, TICKERS)
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    # Night A: five first loads, each April +12.5%: five provisional alerts, one digest.
    refresh(tickers=TICKERS[:5], as_of=night("2026-04-08"))
    assert len(receiver.messages) == 1
    digest = receiver.messages[0]
    assert digest["title"] == "surgewatch: 5 alerts tonight"
    assert sorted(keys_in(digest)) == sorted(f"{t}:2026-04:provisional:0.1:up" for t in TICKERS[:5])
    assert digest["idempotency_key"].startswith("digest:")

    # Night B: seven more, the receiver down: all seven pending, nothing sent twice.
    receiver.down = True
    refresh(tickers=TICKERS, as_of=night("2026-04-09"))
    pending = query("SELECT ticker FROM alerts WHERE status = 'pending' ORDER BY ticker")["ticker"].to_list()
    assert pending == TICKERS[5:]

    # `alerts preview` shows the digest the next night would send.
    receiver.down = False
    assert main(["alerts", "preview", "--as-of", "2026-04-10"]) == 0
    preview = capsys.readouterr().out
    assert "7 alert(s) in one digest (more than 3)" in preview and "surgewatch: 7 alerts tonight" in preview

    # Night C: the receiver is back: one digest of exactly the seven unsent items.
    refresh(tickers=TICKERS, as_of=night("2026-04-10"))
    assert len(receiver.messages) == 2
    again = receiver.messages[1]
    assert sorted(keys_in(again)) == sorted(f"{t}:2026-04:provisional:0.1:up" for t in TICKERS[5:])
    every = [k for m in receiver.messages for k in keys_in(m)]
    assert len(every) == len(set(every)) == 12  # each item once, ever
    ledger = query("SELECT status, attempts, count(*) AS n FROM alerts GROUP BY ALL ORDER BY attempts")
    assert ledger.rows() == [("sent", 1, 5), ("sent", 2, 7)]


def test_at_most_the_limit_each_alert_goes_alone(env, receiver, monkeypatch):
    add_surgers(env, TICKERS[:3])
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=TICKERS[:3], as_of=night("2026-04-08"))
    assert sorted(m["title"] for m in receiver.messages) == [
        f"surgewatch: {t} 2026-04 provisional +12.50%" for t in TICKERS[:3]
    ]
    monkeypatch.setenv("SURGEWATCH_ALERT_DIGEST", "2")
    add_surgers(env, ["T04", "T05", "T06"])
    refresh(tickers=[*TICKERS[:3], "T04", "T05", "T06"], as_of=night("2026-04-09"))
    assert receiver.messages[-1]["title"] == "surgewatch: 3 alerts tonight" and len(receiver.messages) == 4


def test_twelve_due_go_as_one_digest_of_twelve_and_a_failed_one_is_sent_once_later(env, receiver, monkeypatch):
    add_surgers(env, TICKERS)
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=TICKERS, as_of=night("2026-04-08"))
    [digest] = receiver.messages
    assert digest["title"] == "surgewatch: 12 alerts tonight" and len(keys_in(digest)) == 12
    # The month completes while the receiver is down: twelve confirmations wait, then go once.
    receiver.down = True
    refresh(tickers=TICKERS, as_of=night("2026-04-30"))
    receiver.down = False
    refresh(tickers=TICKERS, as_of=night("2026-05-01"))
    assert len(receiver.messages) == 2
    assert sorted(keys_in(receiver.messages[1])) == sorted(f"{t}:2026-04:confirmed:0.1:up" for t in TICKERS)
    every = [k for m in receiver.messages for k in keys_in(m)]
    assert len(every) == len(set(every)) == 24

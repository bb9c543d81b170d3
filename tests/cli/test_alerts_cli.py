"""`surgewatch alerts list` (the ledger) and `alerts test` (a message to every target)."""

import json
from datetime import date

import polars as pl
import pytest

from surgewatch.alerts.rules import idempotency_key
from surgewatch.cli import main
from surgewatch.warehouse import Warehouse
from tests.factories import make_run, publish, settings_for


@pytest.fixture
def home_with_ledger(tmp_path, monkeypatch):
    """A warehouse whose ledger holds two alerts, one sent and one pending."""
    home = tmp_path / "home"
    monkeypatch.setenv("SURGEWATCH_HOME", str(home))
    monkeypatch.delenv("SURGEWATCH_ALERT_URLS", raising=False)
    ledger = pl.DataFrame(
        {
            "ticker": ["AAA", "BBB"],
            "month": [date(2026, 1, 1), date(2025, 11, 1)],
            "kind": ["provisional", "confirmed"],
            "move": [0.1125, 0.104],
            "as_of": [date(2026, 1, 7), date(2025, 11, 28)],
            "status": ["pending", "sent"],
        }
    )
    with Warehouse.open(settings_for(home)) as wh:
        publish(wh, make_run("run-1"), alerts=ledger)
    return home


def test_list_shows_the_ledger_with_each_key(home_with_ledger, capsys):
    assert main(["alerts", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["ticker"], r["month"], r["kind"], r["status"]) for r in rows] == [
        ("BBB", "2025-11", "confirmed", "sent"),
        ("AAA", "2026-01", "provisional", "pending"),
    ]
    assert rows[1]["key"] == idempotency_key("AAA", date(2026, 1, 1), "provisional", 0.10, "up")
    assert main(["alerts", "list", "--since", "2026-01-01"]) == 0
    table = capsys.readouterr().out
    assert "AAA" in table and "+11.25%" in table and "BBB" not in table
    assert main(["alerts", "list", "--since", "2027-01-01"]) == 0
    assert capsys.readouterr().out.strip() == "no alerts in the ledger as of 2027-01-01 or later"


def test_list_refuses_a_bad_date_in_one_line(home_with_ledger, capsys):
    assert main(["alerts", "list", "--since", "yesterday"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--since" in err[0] and "yesterday" in err[0]


def test_test_reaches_each_target_and_names_the_one_that_failed(receiver, monkeypatch, capsys):
    dead = "json://127.0.0.1:9/hook"  # nothing listens on port 9
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", f"{receiver.url} {dead}")
    assert main(["alerts", "test"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["alert target #1 json: arrived", "alert target #2 json: failed: not accepted"]
    assert [m["title"] for m in receiver.messages] == ["surgewatch: test message"]
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    assert main(["alerts", "test"]) == 0


def test_test_without_targets_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("SURGEWATCH_ALERT_URLS", raising=False)
    assert main(["alerts", "test"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SURGEWATCH_ALERT_URLS" in err[0]

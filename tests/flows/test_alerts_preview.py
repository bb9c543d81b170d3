"""`surgewatch alerts preview` (SPEC §4): what tonight's run would send, sending and
writing nothing, checked against what the real flow then sends to a local receiver."""

import json

from surgewatch.cli import main
from surgewatch.flows.refresh import refresh
from tests.flows.conftest import night


def versions(capsys) -> list[int]:
    assert main(["versions", "--format", "json"]) == 0
    return [v["version"] for v in json.loads(capsys.readouterr().out)]


def block(message: dict, retry: str = "") -> str:
    """A sent message as preview prints it."""
    return f"── {message['title']}{retry} · key {message['idempotency_key']}\n{message['message']}"


def test_preview_is_what_the_next_night_sends(env, receiver, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=["IWM", "SPY"], as_of=night("2026-04-16"))
    before = versions(capsys)
    assert main(["alerts", "preview", "--as-of", "2026-04-16"]) == 0
    assert (
        capsys.readouterr().out.strip()
        == "as of 2026-04-16: no alert due; tonight's run would send nothing (nothing sent)"
    )

    assert main(["alerts", "preview", "--as-of", "2026-04-17"]) == 0
    preview = capsys.readouterr().out
    assert preview.startswith("as of 2026-04-17: 1 alert(s) for 1 target; nothing sent")
    assert receiver.messages == [] and versions(capsys) == before  # nothing sent, nothing written

    refresh(tickers=["IWM", "SPY"], as_of=night("2026-04-17"))
    [sent] = receiver.messages
    assert block(sent) in preview


def test_a_delivery_waiting_for_its_retry_is_previewed_as_one(env, receiver, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", receiver.url)
    refresh(tickers=["IWM"], as_of=night("2026-04-16"))
    receiver.down = True
    refresh(tickers=["IWM"], as_of=night("2026-04-17"))
    receiver.down = False
    assert main(["alerts", "preview", "--as-of", "2026-04-20"]) == 0
    preview = capsys.readouterr().out
    assert receiver.messages == []
    refresh(tickers=["IWM"], as_of=night("2026-04-20"))
    [sent] = receiver.messages
    assert block(sent, " (retry 2)") in preview


def test_preview_refuses_a_future_night_and_an_empty_warehouse(env, capsys):
    assert main(["alerts", "preview", "--as-of", "2099-01-01"]) == 2
    assert "is in the future" in capsys.readouterr().err
    assert main(["alerts", "preview"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run `surgewatch refresh` first" in err[0]


def test_a_ticker_the_source_fails_for_is_previewed_on_its_stored_prices(env, monkeypatch, capsys):
    refresh(tickers=["IWM", "SPY"], as_of=night("2026-04-16"))
    capsys.readouterr()
    monkeypatch.setenv("SURGEWATCH_YAHOO_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("SURGEWATCH_HTTP_RETRIES", "0")
    assert main(["alerts", "preview", "--as-of", "2026-04-17"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "as of 2026-04-17: no alert due; tonight's run would send nothing (nothing sent)"
    for ticker in ("IWM", "SPY"):
        assert f"{ticker}: not fetched (" in err and "previewed on its stored prices" in err

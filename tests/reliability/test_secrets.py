"""Secrets: the Tiingo token and the credentials inside alert URLs appear nowhere.

Real refreshes through the CLI entry point (in this process, against a real Prefect server)
with canary secrets, on the paths where a secret is most likely to slip out: a token the
provider refuses (HTTP 401), an alert target that is down, one whose credentials ride in
a header and the query string, and an alert URL Apprise cannot parse. Then every place a
secret could land is captured and searched:

- stdout and stderr (file-descriptor level) and every Python log record (DEBUG, all
  loggers: surgewatch, Prefect, Apprise, urllib3);
- Prefect's own records: flow runs (parameters, states), task runs (names, inputs,
  states), run logs and artifacts, read back through its API;
- the warehouse: every table at every version, the versions' commit messages, and the
  catalog and data files as raw bytes;
- the error messages themselves (reports, failures, the settings error).
"""

import json
import logging
import socket
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.logging.handlers import APILogWorker

from surgewatch.cli import main
from surgewatch.core.errors import SettingsError
from surgewatch.core.settings import load_settings
from tests.reliability.figures import FIGURES
from tests.factories import open_read_only
from tests.reliability.helpers import AFTER, BEFORE, CROSSING, RESULT_TABLES, StampedReceiver, surge_bars

TOKEN = "tok-CANARY-7f3e9a1c5b"
WRONG_TOKEN = "tok-CANARY-WRONG-55d2b8"
PASSWORDS = ["pw-CANARY-alice-a1", "pw-CANARY-bob-b2", "pw-CANARY-carol-e5"]
HEADER_SECRET, QUERY_SECRET = "hdr-CANARY-c3c3", "qs-CANARY-d4d4"
SECRETS = [TOKEN, WRONG_TOKEN, *PASSWORDS, HEADER_SECRET, QUERY_SECRET]


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: nothing listens there


def _prefect_records() -> dict[str, str]:
    """Everything Prefect stored about the runs, as text."""
    APILogWorker.drain_all(timeout=30)  # the run logs still on their way to the API
    places = {}
    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs()
        places["prefect flow runs"] = "\n".join(r.model_dump_json() for r in flow_runs)
        places["prefect task runs"] = "\n".join(r.model_dump_json() for r in client.read_task_runs())
        places["prefect logs"] = "\n".join(f"{log.name} {log.message}" for log in client.read_logs())
        places["prefect artifacts"] = "\n".join(a.model_dump_json() for a in client.read_artifacts())
    places["prefect flow run count"] = str(len(flow_runs))
    return places


def _warehouse_records(home: Path) -> dict[str, str]:
    places = {}
    with open_read_only(home) as wh:
        versions = wh.versions()
        places["versions"] = versions.write_csv()
        for version in versions["version"]:
            for table in (*RESULT_TABLES, "runs", "alerts"):
                try:
                    frame = wh.sql(f"SELECT * FROM {table} AT (VERSION => {int(version)})")
                except Exception:  # noqa: BLE001  (a version from before the table existed)
                    continue
                places[f"{table} @ version {version}"] = json.dumps(frame.to_dicts(), default=str)
    for path in sorted(home.rglob("*")):
        if path.is_file():
            places[f"file {path.relative_to(home)}"] = path.read_bytes().decode("latin-1")
    return places


@pytest.mark.slow
def test_no_secret_reaches_a_log_an_artifact_an_error_or_a_table(env, tmp_path, monkeypatch, caplog, capfd):
    fake = env
    fake.tiingo_token = TOKEN
    for ticker in ("AAA", "BBB"):
        fake.add_prices(ticker, surge_bars())
    receiver = StampedReceiver()
    targets = [
        receiver.url.replace("json://", f"json://alice:{PASSWORDS[0]}@"),
        f"json://bob:{PASSWORDS[1]}@127.0.0.1:{_dead_port()}/hook",
        receiver.url + f"?+X-Api-Key={HEADER_SECRET}&-apikey={QUERY_SECRET}",
    ]
    monkeypatch.setenv("SURGEWATCH_SOURCE", "tiingo")
    monkeypatch.setenv("SURGEWATCH_TIINGO_URL", fake.url)
    monkeypatch.setenv("SURGEWATCH_TIINGO_TOKEN", TOKEN)
    monkeypatch.setenv("SURGEWATCH_ALERT_URLS", " ".join(targets))
    caplog.set_level(logging.DEBUG)
    home = Path(load_settings().home)
    captured: dict[str, str] = {}
    try:
        # Healthy nights: alerts go out to two targets, the third is down.
        assert main(["refresh", "--tickers", "AAA,BBB", "--as-of", str(BEFORE)]) == 0
        assert main(["refresh", "--tickers", "AAA,BBB", "--as-of", str(CROSSING), "--json"]) == 0
        # A night the receiver refuses everything and the token is wrong: 401 for every
        # ticker, nothing published.
        receiver.down = True
        monkeypatch.setenv("SURGEWATCH_TIINGO_TOKEN", WRONG_TOKEN)
        assert main(["refresh", "--tickers", "AAA,BBB", "--as-of", str(AFTER), "--verbose"]) == 1
        # An alert URL Apprise cannot parse, with a password in it.
        monkeypatch.setenv("SURGEWATCH_ALERT_URLS", f"json://carol:{PASSWORDS[2]}@")  # Apprise logs this one whole
        with pytest.raises(SettingsError) as refused:
            load_settings()
        captured["settings error"] = str(refused.value)
        assert main(["versions"]) != 0
    finally:
        receiver.close()
        monkeypatch.delenv("SURGEWATCH_ALERT_URLS")
    out, err = capfd.readouterr()
    captured["stdout"], captured["stderr"] = out, err
    captured["python log records"] = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )
    captured.update(_prefect_records())
    captured.update(_warehouse_records(home))

    # The paths were really taken (else the search proves nothing).
    assert len(receiver.messages) >= 2, "no alert reached the receiver"
    assert "not authorised (tiingo HTTP 401" in err
    assert (
        "delivery failed"
        in captured[
            "runs @ version %d" % max(int(k.rsplit(" ", 1)[1]) for k in captured if k.startswith("runs @ version"))
        ]
    )
    assert "SURGEWATCH_ALERT_URLS" in captured["settings error"]
    assert int(captured["prefect flow run count"]) >= 3 and captured["prefect artifacts"]
    assert any(r.name.startswith("apprise") for r in caplog.records), "Apprise's own logging was not captured"

    leaks = {place: [s for s in SECRETS if s in text] for place, text in captured.items()}
    leaks = {place: found for place, found in leaks.items() if found}
    FIGURES.secrets.append(
        {
            "places": len(captured),
            "hits": sum(len(f) for f in leaks.values()),
            "leaks": {p: f for p, f in leaks.items()},
            "secrets": len(SECRETS),
        }
    )
    assert leaks == {}, json.dumps(leaks, indent=1)

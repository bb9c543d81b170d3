"""A newcomer's first hour, scripted: help, a missing option, bad inputs, SQL, a rewind.

Every command runs as the installed `surgewatch` in its own process, as a person types
it; none may print a traceback, and each usage error is one line with a hint.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from surgewatch.cli import main
from surgewatch.flows.refresh import RefreshReport
from surgewatch.warehouse import MIGRATIONS

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")


@pytest.fixture
def newcomer(prefect_server, prices_dir, tmp_path):  # noqa: F811
    """Run `surgewatch ARGS` offline on the csv source; returns (exit code, stdout, stderr)."""
    _, env = prefect_server
    env = {
        **env,
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(prices_dir),
        "COLUMNS": "200",
    }
    transcript: list[str] = []

    def run(*argv: str, **extra: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [SURGEWATCH, *argv], check=False, env={**env, **extra}, capture_output=True, text=True, timeout=600
        )
        transcript.append(f"$ surgewatch {' '.join(argv)}\n{done.stdout}{done.stderr}")
        return done.returncode, done.stdout, done.stderr

    yield run
    assert "Traceback" not in "\n".join(transcript)


def one_line_usage_error(result: tuple[int, str, str], *needles: str) -> None:
    code, out, err = result
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "--help" in err, err
    assert all(n in err for n in needles), err


def test_first_hour(newcomer, prices_dir):
    # Help, short and long.
    code, out, _ = newcomer("-h")
    assert code == 0 and "Usage: surgewatch" in out and "refresh" in out
    code, out, _ = newcomer("study", "-h")
    assert code == 0 and "--ticker" in out
    # A missing option, an unknown one, an unknown command.
    one_line_usage_error(newcomer("study"), "--ticker", "surgewatch study --help")
    one_line_usage_error(newcomer("study", "--ticker", "IWM", "--nope"), "--nope")
    one_line_usage_error(newcomer("stduy"), "stduy")
    # A threshold in percent, on the command line and in the environment.
    code, _, err = newcomer("study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--threshold", "10")
    assert code == 2 and "did you mean 0.10?" in err
    code, _, err = newcomer("refresh", "--tickers", "IWM", SURGEWATCH_THRESHOLD="10")
    assert code == 1 and "SURGEWATCH_THRESHOLD" in err and "did you mean 0.10?" in err

    # The first refresh: a summary, nothing of Prefect's on the terminal.
    code, out, err = newcomer("refresh", "--tickers", "IWM,SPY", "--as-of", "2026-08-05")
    assert code == 0, out + err
    assert out.splitlines()[0] == "15022 row(s) ingested for 2 ticker(s)"
    # Versions: the catalog's creation, one per migration, then this run.
    head = len(MIGRATIONS)
    assert out.splitlines()[1].startswith(f"versions 1–{head} created the tables; published version {head + 1} ")
    assert len(out.splitlines()) == 2 and err == ""

    # SQL: a DECIMAL to json, an INTERVAL, an empty query, booleans and unknown doubles.
    code, out, _ = newcomer(
        "sql", "SELECT ticker, sum(up_sessions) AS up FROM month_end GROUP BY 1 ORDER BY 1", "--format", "json"
    )
    assert code == 0 and [r["ticker"] for r in json.loads(out)] == ["IWM", "SPY"]
    code, out, _ = newcomer("sql", "SELECT INTERVAL 3 MONTH AS i, max(as_of) - min(as_of) AS days FROM month_end")
    assert code == 0 and "3 months" in out
    code, _, err = newcomer("sql", "")
    assert code == 2 and "empty" in err and len(err.splitlines()) == 1
    code, out, _ = newcomer("sql", "SELECT complete, 1.0 / 3 AS third FROM signal_events ORDER BY month LIMIT 1")
    assert code == 0 and "true" in out and "0.3333333333333333" in out
    code, _, err = newcomer("sql", "INSTALL httpfs")
    assert code == 2 and "INSTALL statements are refused" in err

    # A replay of an earlier night is refused and writes nothing; --rewind rewinds all.
    code, _, err = newcomer("refresh", "--tickers", "IWM", "--as-of", "2026-07-15")
    assert code == 1 and "--rewind" in err and "2026-08-05" in err
    code, out, _ = newcomer("sql", "SELECT count(*) AS runs, max(snapshot_id) AS version FROM runs", "--format", "json")
    assert json.loads(out) == [{"runs": 1, "version": len(MIGRATIONS) + 1}]
    code, out, err = newcomer("refresh", "--tickers", "IWM", "--as-of", "2026-07-15", "--rewind")
    assert code == 0 and "rewound IWM, SPY to 2026-07-15" in out and err == "", out + err
    code, out, _ = newcomer(
        "sql", "SELECT DISTINCT max(date) OVER (PARTITION BY ticker) AS last FROM prices_daily", "--format", "csv"
    )
    assert out.split() == ["last", "2026-07-15"]


def test_refresh_turns_prefect_analytics_off_unless_set(monkeypatch, tmp_path, prices_dir):
    import surgewatch.flows.refresh as flow
    from surgewatch.flows import server

    seen = {}

    def fake_flow(**kwargs):
        seen.update(
            analytics=os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED"),
            console=os.environ.get("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"),
        )
        return RefreshReport(run_id="r", status="published", snapshot_id=7, rows_ingested={"IWM": 3})

    monkeypatch.setattr(flow, "refresh", fake_flow)
    # As if a server answered: the fake flow needs none started.
    monkeypatch.setattr(server, "running_server", lambda: "http://127.0.0.1:9/api")
    monkeypatch.setattr(server, "local_server", lambda: "http://127.0.0.1:9/api")
    for name in ("PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path))
    assert main(["refresh", "--tickers", "IWM"]) == 0
    assert seen == {"analytics": "false", "console": "CRITICAL"}
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    monkeypatch.delenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL")
    assert main(["refresh", "--tickers", "IWM", "--verbose"]) == 0
    assert seen == {"analytics": "true", "console": None}


def test_refresh_lists_tickers_only_when_verbose(monkeypatch, capsys):
    from surgewatch.cli.nightly import _print_refresh

    report = RefreshReport(
        run_id="r",
        status="partial",
        snapshot_id=7,
        rows_ingested={f"T{i}": 2 for i in range(1000)},
        failed={"BAD": "BAD: unknown symbol"},
    )
    _print_refresh(report, quiet=False, as_json=False, verbose=False)
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "2000 row(s) ingested for 1000 ticker(s), 1 failed (BAD)"
    assert len(out.splitlines()) == 2 and err == "failed: BAD: unknown symbol\n"
    _print_refresh(report, quiet=False, as_json=False, verbose=True)
    assert "T999: 2 row(s) ingested" in capsys.readouterr().out


def test_refresh_says_which_versions_built_or_upgraded_the_tables(capsys):
    from surgewatch.cli.nightly import _print_refresh

    def published(migrations: dict[int, int]) -> str:
        report = RefreshReport(run_id="r", status="published", snapshot_id=9, migrations=migrations)
        _print_refresh(report, quiet=False, as_json=False, verbose=False)
        return capsys.readouterr().out.splitlines()[1]

    assert (
        published({1: 1, 2: 2, 3: 3, 4: 4})
        == "versions 1–4 created the tables; published version 9 (run r); new events: none"
    )
    assert published({5: 8}).startswith("version 8 upgraded the tables to schema version 5; published version 9 ")
    assert published({}).startswith("published version 9 ")

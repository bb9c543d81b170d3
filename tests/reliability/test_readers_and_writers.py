"""Concurrency: readers in several processes read in a loop while refreshes publish
version after version, and each night a second refresh starts while the first writes.

- readers (three Python processes opening the warehouse read-only per read, as every CLI
  command does, plus `surgewatch sql` itself in a loop) must see 0 errors, and every
  picture they read must be one complete version: the prices, results and runs of a
  published night together, never a mix;
- of the two refreshes of a night, exactly one writes; the other skips without a trace.
"""

import csv
import io
import json
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.fake_providers import Fault, FakeProviders
from tests.reliability.figures import FIGURES
from tests.reliability.launcher import Launcher
from tests.reliability.helpers import BEFORE, DAYS, read, surge_bars, version_problems
from tests.reliability.reader import PICTURE
from tests.factories import open_read_only

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")
REPO = Path(__file__).resolve().parents[2]
TICKERS = ["AAA", "BBB"]
NIGHTS = DAYS[DAYS.index(BEFORE) + 1 : DAYS.index(BEFORE) + 4]
READERS = 3
READ_LIMIT_SECONDS = 240


def _refresh(launcher: Launcher, env: dict, day, out: Path) -> int:
    return launcher.start(["refresh", "--tickers", ",".join(TICKERS), "--as-of", str(day)], env, out)


def _end_stalls(fake: FakeProviders) -> None:
    """Let a stalled answer end now (the fake's stalls wait on this event; it is set for
    good only by stop()). The stalled client sees the connection close and retries."""
    fake._stopping.set()
    time.sleep(0.2)
    fake._stopping.clear()


def _cli_reader(env: dict, stop: threading.Event, seen: list[dict]) -> None:
    deadline = time.monotonic() + READ_LIMIT_SECONDS
    while not stop.is_set() and time.monotonic() < deadline:
        done = subprocess.run(
            [SURGEWATCH, "sql", PICTURE, "--format", "csv"], env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode == 0:
            row = next(csv.DictReader(io.StringIO(done.stdout)))
            seen.append(
                {"ok": True, **{k: (int(v) if k in ("prices", "runs", "summary_rows") else v) for k, v in row.items()}}
            )
        else:
            seen.append({"ok": False, "error": done.stderr.strip()})


@pytest.mark.slow
def test_readers_see_only_whole_versions_and_one_writer_at_a_time(prefect_server, tmp_path):
    _, server_env = prefect_server
    home = tmp_path / "home"
    bars = surge_bars()
    with ExitStack() as stack:
        fake = stack.enter_context(FakeProviders(None))
        for ticker in TICKERS:
            fake.add_prices(ticker, bars)
        env = {
            **server_env,
            "SURGEWATCH_HOME": str(home),
            "SURGEWATCH_SOURCE": "yahoo",
            "SURGEWATCH_YAHOO_URL": fake.url,
            "SURGEWATCH_HTTP_TIMEOUT": "30",
            "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        launcher = stack.enter_context(Launcher(env))
        code, output = launcher.run(
            ["refresh", "--tickers", ",".join(TICKERS), "--as-of", str(BEFORE)], env, tmp_path / "base.txt"
        )
        assert code == 0, output

        # What a complete version looks like: every ticker's prices through a published
        # night, and results computed from exactly those prices.
        complete = {
            (sum(d <= night for d in DAYS) * len(TICKERS), str(night), str(night)) for night in [BEFORE, *NIGHTS]
        }

        stop = tmp_path / "stop"
        outputs = [tmp_path / f"reader-{i}.jsonl" for i in range(READERS)]
        readers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability.reader",
                    str(home),
                    str(o),
                    str(stop),
                    str(READ_LIMIT_SECONDS),
                ],
                cwd=REPO,
                stderr=stack.enter_context(o.with_suffix(".err").open("w")),
            )
            for o in outputs
        ]
        cli_seen: list[dict] = []
        cli_stop = threading.Event()
        cli = threading.Thread(target=_cli_reader, args=(env, cli_stop, cli_seen), daemon=True)
        cli.start()
        outcomes = []
        try:
            for night in NIGHTS:
                # The first refresh hangs in its fetch (holding the writer lock) until the
                # second has come and gone.
                fake.script("AAA", [Fault("stall", seconds=120)])
                before = fake.count("AAA")
                first_out, second_out = tmp_path / f"{night}-first.txt", tmp_path / f"{night}-second.txt"
                first = _refresh(launcher, env, night, first_out)
                deadline = time.monotonic() + 120
                while fake.count("AAA") == before:
                    assert launcher.poll(first) is None and time.monotonic() < deadline, first_out.read_text()
                    time.sleep(0.05)
                second_code, second_text = launcher.run(
                    ["refresh", "--tickers", ",".join(TICKERS), "--as-of", str(night)], env, second_out
                )
                _end_stalls(fake)
                code = launcher.wait(first, 300)
                outcomes.append((code, first_out.read_text(), second_code, second_text))
        finally:
            stop.touch()
            cli_stop.set()
            for reader in readers:
                reader.wait(timeout=120)
            cli.join(timeout=120)

    reads = [json.loads(line) for o in outputs for line in o.read_text().splitlines()] + cli_seen
    errors = [r["error"] for r in reads if not r["ok"]]
    pictures = [(r["prices"], r["last"], r["results_through"]) for r in reads if r["ok"]]
    incomplete = [p for p in pictures if p not in complete]
    both_wrote = sum("published version" in second_out for _, _, _, second_out in outcomes)
    FIGURES.readers.append(
        {
            "processes": READERS + 1,
            "reads": len(reads),
            "errors": len(errors),
            "incomplete": len(incomplete),
            "versions_seen": len(set(pictures)),
            "max_read_seconds": max((r.get("seconds", 0) for r in reads), default=0),
        }
    )
    FIGURES.writers.append(
        {
            "refreshes": 2 * len(outcomes),
            "both_wrote": both_wrote,
            "skipped": sum("skipped: another refresh is writing" in o for *_, o in outcomes),
        }
    )

    for code, out, second_code, second_out in outcomes:
        assert code == 0 and "published version" in out, out
        assert second_code == 0 and "skipped: another refresh is writing" in second_out, second_out
    assert both_wrote == 0
    assert errors == []
    assert incomplete == []
    assert len(reads) >= 30 and len(set(pictures)) >= 3, "the readers did not read across several versions"
    assert read(home, "SELECT count(*) AS n FROM runs")["n"].item() == 1 + len(NIGHTS)
    with open_read_only(home) as wh:
        assert version_problems(wh) == []

"""Crash safety: `surgewatch refresh` killed with SIGKILL at many points, in repeated trials.

Every trial starts from the same warehouse (one clean run through BEFORE, restored at
its original path), runs the CROSSING night in a process of its own (the console
script's entry point, forked by tests/reliability/launcher.py so that each run skips
Python's 2 s of imports; against a real `prefect server`; csv source) and kills it:

- at a named step (a surgewatch.core.faults.Step, armed in the child by the launcher): during the fetch,
  after validation, after the study, after the alerts went out, at each step inside the
  publish transaction, just before and just after COMMIT, after the artifact;
- or after a random delay within a clean run's duration.

Afterwards the warehouse must open read-only, its last version must be one whole run
(exactly the clean run's rows at BEFORE or at CROSSING, every version whole, no orphan
rows), the writer lock must be free, and a re-run must exit 0 and leave exactly the
clean CROSSING run's rows. Alerts (one provisional per ticker on CROSSING) are counted at
a json:// receiver across the killed run and its re-run.

Trials: SURGEWATCH_CRASH_TRIALS (default 12: 9 named steps + 3 random delays; the
full run is SURGEWATCH_CRASH_TRIALS=200, two thirds named steps, one third random).
The very first run of a warehouse (creating the catalog, migrating, first publish) is
killed too: FIRST_RUN_TRIALS more (2 by default, a tenth of the count in a full run).
"""

import fcntl
import os
import random
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

from surgewatch.core.errors import WarehouseError
from surgewatch.core.faults import Step
from tests.reliability.figures import FIGURES
from tests.reliability.helpers import (
    BEFORE,
    CROSSING,
    CommitWatcher,
    StampedReceiver,
    content,
    expected_prices,
    orphan_files,
    restore,
    rows_lost,
    same_content,
    surge_bars,
    version_problems,
    write_csvs,
)
from tests.reliability.launcher import Launcher
from tests.factories import make_run, open_read_only, publish, settings_for
from surgewatch.warehouse import Warehouse

TICKERS = ["AAA", "BBB"]
TRIALS = int(os.environ.get("SURGEWATCH_CRASH_TRIALS", "12"))
SEED = int(os.environ.get("SURGEWATCH_CRASH_SEED", "20250612"))
RUN_TIMEOUT = 180
# The named steps a reduced run visits (the others are in every full run).
REDUCED_STEPS = (
    Step.FETCH,
    Step.TRANSFORM,
    Step.ALERTS,
    Step.PUBLISH_BEGIN,
    Step.PUBLISH_PRICES,
    Step.PUBLISH_RESULTS,
    Step.PUBLISH_LEDGER,
    Step.COMMIT,
    Step.COMMITTED,
)
FIRST_RUN_TRIALS = max(2, TRIALS // 10)


Trial = tuple[Step | None, float | None]
"""(step, None) for a kill at a named step, (None, delay fraction) for a random kill."""


def first_run_plan(trials: int, seed: int) -> list[Trial]:
    """The migration's COMMIT, the first publish, then random kills early in the run."""
    rng = random.Random(seed + 1)
    named: list[Trial] = [(Step.COMMIT, None), (Step.PUBLISH_PRICES, None)][:trials]
    return named + [(None, rng.uniform(0.05, 0.6)) for _ in range(trials - len(named))]


def plan(trials: int, seed: int) -> list[Trial]:
    rng = random.Random(seed)
    steps = list(Step)
    if trials <= 12:
        named = list(REDUCED_STEPS[: max(trials - 3, 1)])
    else:
        named = [steps[i % len(steps)] for i in range(trials * 2 // 3)]
    randoms: list[Trial] = [(None, rng.uniform(0.3, 1.05)) for _ in range(trials - len(named))]
    trials_list = [(s, None) for s in named] + randoms
    rng.shuffle(trials_list)
    return trials_list


def _name(step: Step | None) -> str:
    return "random" if step is None else step.value


@dataclass
class Lab:
    home: Path
    template: Path
    env: dict[str, str]
    receiver: StampedReceiver
    launcher: Launcher
    logs: Path
    base: dict[str, pl.DataFrame] = field(default_factory=dict)
    reference: dict[str, pl.DataFrame] = field(default_factory=dict)
    clean_seconds: float = 0.0
    first_run_seconds: float = 0.0
    window_ms: float = 0.0
    runs: int = 0

    def refresh(
        self,
        night=CROSSING,
        crash_at: Step | None = None,
        kill_after: float | None = None,
        home: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> tuple[int, str, float]:
        """`surgewatch refresh` for the night in a process of its own, `settings` added to
        its environment; (exit code, output, seconds)."""
        env = {**self.env, **({"SURGEWATCH_HOME": str(home)} if home else {}), **(settings or {})}
        self.runs += 1
        out = self.logs / f"run-{self.runs:04d}.txt"
        started = time.monotonic()
        pid = self.launcher.start(
            ["refresh", "--tickers", ",".join(TICKERS), "--as-of", str(night)], env, out, crash_at
        )
        if kill_after is not None and not self.launcher.exited_within(pid, kill_after):
            os.kill(pid, signal.SIGKILL)
        code = self.launcher.wait(pid, RUN_TIMEOUT)
        return code, out.read_text(errors="replace"), time.monotonic() - started


def _items_sent(messages) -> dict[str, int]:
    """Per ticker, how many times its 2025-06 provisional alert arrived: as a message of
    its own, or as a line of a digest."""
    counts = dict.fromkeys(TICKERS, 0)
    for m in messages:
        for t in TICKERS:
            counts[t] += m["title"].startswith(f"surgewatch: {t} 2025-06 provisional")
            counts[t] += sum(line.startswith(f"- {t} 2025-06 provisional") for line in m["message"].splitlines())
    return counts


def test_the_trials_compare_every_result_table_the_warehouse_has(tmp_path):
    """A table added to the warehouse's results (signal_stats, …) is checked for lost or
    mixed rows after every kill without touching the trials."""
    with Warehouse.open(settings_for(tmp_path / "home")) as wh:
        publish(wh, make_run("run-1"))
    with open_read_only(tmp_path / "home") as wh:
        tables = set(content(wh))
        assert {"signal_stats", "signal_summary", "signal_events", "month_end", "prices_daily"} <= tables
        assert tables == set(wh.sql("SHOW TABLES")["name"]) - {"alerts", "runs", "schema_version"}


def _lock_is_free(home: Path) -> bool:
    fd = os.open(home / "refresh.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _snapshot(home: Path) -> dict[str, pl.DataFrame]:
    with open_read_only(home) as wh:
        return content(wh)


@pytest.fixture(scope="module")
def lab(prefect_server, tmp_path_factory) -> Iterator[Lab]:
    _, server_env = prefect_server
    root = tmp_path_factory.mktemp("crash")
    home, template, logs = root / "home", root / "template", root / "logs"
    logs.mkdir()
    csv_dir = write_csvs(root / "csv", TICKERS, surge_bars())
    receiver = StampedReceiver()
    env = {
        **server_env,
        "SURGEWATCH_HOME": str(home),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(csv_dir),
        "SURGEWATCH_ALERT_URLS": receiver.url,
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    try:
        with Launcher(env) as launcher:
            lab = Lab(home, template, env, receiver, launcher, logs)
            code, output, lab.first_run_seconds = lab.refresh(BEFORE)
            assert code == 0, output
            lab.base = _snapshot(home)
            shutil.copytree(home, template)
            with CommitWatcher(home / "catalog.sqlite") as watcher:
                code, output, seconds = lab.refresh()
            assert code == 0, output
            lab.clean_seconds = seconds
            lab.reference = _snapshot(home)
            assert len(receiver.messages) == len(TICKERS)
            # How long the alerts are out before the version recording them commits: the
            # window in which a kill re-sends them (measured on the clean run).
            lab.window_ms = (watcher.committed_at - min(receiver.messages.arrivals)) * 1000
            FIGURES.notes["clean_refresh_seconds"] = round(seconds, 2)
            FIGURES.notes["delivery_to_commit_ms"] = round(lab.window_ms, 1)
            yield lab
    finally:
        receiver.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("step", "delay"), plan(TRIALS, SEED), ids=[f"{i:03d}-{_name(s)}" for i, (s, _) in enumerate(plan(TRIALS, SEED))]
)
def test_sigkill_leaves_one_whole_version_and_a_rerun_completes(lab: Lab, step: Step | None, delay: float | None):
    restore(lab.template, lab.home)
    lab.receiver.clear()
    point = _name(step)
    if step is None:
        code, output, _ = lab.refresh(kill_after=delay * lab.clean_seconds)
    else:
        code, output, _ = lab.refresh(crash_at=step)
    killed = code == -signal.SIGKILL
    trial = {
        "point": point,
        "delay_s": None if delay is None else round(delay * lab.clean_seconds, 2),
        "killed": killed,
        "exit": code,
        "state_after": None,
        "lock_released": None,
        "rerun_exit": None,
        "rows_lost": 0,
        "alerts_sent_before_kill": len(lab.receiver.messages),
        "alerts_duplicated": 0,
        "alerts_lost": 0,
        "in_delivery_window": False,
        "survived": False,
    }
    FIGURES.crash_trials.append(trial)
    if step is not None:
        assert killed, f"{point}: the run was not killed at that point (exit {code}): {output[-2000:]}"
    else:
        assert code in (0, -signal.SIGKILL), output[-2000:]

    # The lock died with the process; the warehouse opens; its last version is whole.
    trial["lock_released"] = _lock_is_free(lab.home)
    assert trial["lock_released"]
    with open_read_only(lab.home) as wh:
        assert version_problems(wh) == []
        now = content(wh)
    state = (
        "previous version"
        if not same_content(now, lab.base)
        else "new version"
        if not same_content(now, lab.reference)
        else "INCOMPLETE"
    )
    trial["state_after"] = state
    assert state != "INCOMPLETE", f"after a kill at {point}: neither the old nor the new run's rows"
    trial["in_delivery_window"] = killed and state == "previous version" and trial["alerts_sent_before_kill"] > 0
    trial["orphan_files"] = orphan_files(lab.home)

    # A re-run completes and leaves exactly the clean run's rows.
    code, output, _ = lab.refresh()
    trial["rerun_exit"] = code
    assert code == 0, output[-2000:]
    with open_read_only(lab.home) as wh:
        assert version_problems(wh) == []
        final = content(wh)
        stored = wh.prices()
    lost = sum(
        rows_lost(stored.filter(pl.col("ticker") == t), expected_prices(surge_bars(), t, CROSSING)) for t in TICKERS
    )
    trial["rows_lost"] = lost
    assert same_content(final, lab.reference) == [] and lost == 0

    counts = _items_sent(lab.receiver.messages)
    trial["alerts_duplicated"] = sum(max(n - 1, 0) for n in counts.values())
    trial["alerts_lost"] = sum(n == 0 for n in counts.values())
    trial["survived"] = True
    assert trial["alerts_lost"] == 0
    # A kill after the alerts went out and before the version holding their ledger
    # committed re-sends them on the re-run (at-least-once); nowhere else may that happen.
    if trial["in_delivery_window"]:
        assert set(counts.values()) <= {1, 2} and 2 in counts.values(), counts
    else:
        assert counts == dict.fromkeys(TICKERS, 1), counts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("step", "delay"),
    first_run_plan(FIRST_RUN_TRIALS, SEED),
    ids=[f"first-{i:03d}-{_name(s)}" for i, (s, _) in enumerate(first_run_plan(FIRST_RUN_TRIALS, SEED))],
)
def test_sigkill_during_a_warehouse_s_first_run(lab: Lab, step: Step | None, delay: float | None, tmp_path):
    """Killed while it creates the catalog, migrates or first publishes: afterwards the
    warehouse either does not exist yet, says so ("run `surgewatch refresh` first"), or
    holds the whole first run; a re-run completes either way."""
    home = tmp_path / "fresh"
    point = _name(step)
    if step is None:
        code, output, _ = lab.refresh(BEFORE, kill_after=delay * lab.first_run_seconds, home=home)
    else:
        code, output, _ = lab.refresh(BEFORE, crash_at=step, home=home)
    killed = code == -signal.SIGKILL
    trial = {
        "point": f"first run: {point}",
        "delay_s": None if delay is None else round(delay * lab.first_run_seconds, 2),
        "killed": killed,
        "exit": code,
        "state_after": None,
        "lock_released": None,
        "rerun_exit": None,
        "rows_lost": 0,
        "alerts_sent_before_kill": 0,
        "alerts_duplicated": 0,
        "alerts_lost": 0,
        "in_delivery_window": False,
        "survived": False,
    }
    FIGURES.crash_trials.append(trial)
    assert killed or (step is None and code == 0), output[-2000:]
    trial["lock_released"] = not (home / "refresh.lock").exists() or _lock_is_free(home)
    assert trial["lock_released"]
    if not (home / "catalog.sqlite").exists():
        trial["state_after"] = "no warehouse yet"
    else:
        try:
            with open_read_only(home) as wh:
                assert version_problems(wh) == []
                now = content(wh)
                runs = wh.sql("SELECT count(*) AS n FROM runs")["n"].item()
            if not same_content(now, lab.base):
                trial["state_after"] = "first run"
            elif runs == 0 and all(frame.is_empty() for frame in now.values()):
                trial["state_after"] = "migrated, no run yet"
            else:
                trial["state_after"] = "INCOMPLETE"
        except WarehouseError as exc:
            assert "run `surgewatch refresh` first" in str(exc), str(exc)
            trial["state_after"] = "no warehouse yet (says so)"
    assert trial["state_after"] != "INCOMPLETE"
    code, output, _ = lab.refresh(BEFORE, home=home)
    trial["rerun_exit"] = code
    assert code == 0, output[-2000:]
    with open_read_only(home) as wh:
        assert version_problems(wh) == [] and same_content(content(wh), lab.base) == []
    trial["survived"] = True


@pytest.mark.slow
@pytest.mark.parametrize("step", [Step.ALERTS, Step.COMMITTED], ids=lambda s: s.value)
def test_sigkill_around_a_digest_sends_each_item_once(lab: Lab, step: Step):
    """SURGEWATCH_ALERT_DIGEST=1: the night's two alerts go as one digest. Killed once it
    went out with its ledger rows uncommitted, or after the commit: the re-run leaves the
    clean run's rows and the ledger marks both items sent; each item arrives once, as a
    digest line, twice only when the kill fell between delivery and commit (the
    at-least-once window the single alerts have too)."""
    restore(lab.template, lab.home)
    lab.receiver.clear()
    digest = {"SURGEWATCH_ALERT_DIGEST": "1"}
    code, output, _ = lab.refresh(crash_at=step, settings=digest)
    assert code == -signal.SIGKILL, output[-2000:]
    sent_before = len(lab.receiver.messages)
    with open_read_only(lab.home) as wh:
        assert version_problems(wh) == []
    code, output, _ = lab.refresh(settings=digest)
    assert code == 0, output[-2000:]
    with open_read_only(lab.home) as wh:
        assert same_content(content(wh), lab.reference) == []
        ledger = wh.sql("SELECT ticker, status FROM alerts WHERE month = DATE '2025-06-01' ORDER BY ticker")
    assert ledger.rows() == [(t, "sent") for t in TICKERS]
    messages = list(lab.receiver.messages)
    assert messages and all(m["title"] == "surgewatch: 2 alerts tonight" for m in messages)
    window = step is Step.ALERTS
    assert sent_before == 1
    assert _items_sent(messages) == dict.fromkeys(TICKERS, 2 if window else 1)

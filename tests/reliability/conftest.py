"""The reliability matrix: provider faults, SIGKILL crash trials, readers during refreshes,
fuzzed input, refused input and secrets. Re-uses the flow tests' fixtures (`env`: the
real flow in this process against a real Prefect server and the fake providers; `prefect_server`: a
real `prefect server` for CLI runs in other processes) and records every outcome in
tests/reliability/figures.py, written to test-artifacts/reliability.json at the end.
"""

import pytest

from tests.flows.conftest import env, prefect_api  # noqa: F401  (shared fixtures)
from tests.reliability import figures
from tests.reliability.figures import FIGURES


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/reliability/" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        FIGURES.tests[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not FIGURES.empty():
        figures.write(FIGURES)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if FIGURES.empty():
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(figures.table(FIGURES.as_dict()))
    terminalreporter.write_line(f"(written to {figures.ARTIFACT.relative_to(figures.REPO)})")

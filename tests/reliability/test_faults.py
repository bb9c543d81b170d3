"""The crash hook fires only when the test harness armed it in the process itself."""

import os
import signal
import subprocess
import sys

import pytest

from surgewatch.core.faults import Step


def _reach_commit(arm: Step | None) -> int:
    """Exit code of a fresh process that reaches Step.COMMIT, with SURGEWATCH_CRASH_AT
    (the old ambient switch) set to that very step."""
    code = "from surgewatch.core import faults\n"
    if arm is not None:
        code += f"faults.arm(faults.Step.{arm.name})\n"
    code += "faults.reach(faults.Step.COMMIT)\n"
    env = {**os.environ, "SURGEWATCH_CRASH_AT": Step.COMMIT.value}
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=60).returncode


@pytest.mark.parametrize(("armed", "killed"), [(None, False), (Step.COMMITTED, False), (Step.COMMIT, True)])
def test_only_the_armed_step_kills_and_no_environment_variable_arms_one(armed, killed):
    assert _reach_commit(armed) == (-signal.SIGKILL if killed else 0)

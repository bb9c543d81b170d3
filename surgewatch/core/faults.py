"""The named steps of a refresh, where the crash trials kill it (tests/reliability).

Production code calls ``reach(Step.X)`` as it passes each step. Nothing happens unless
the test harness has called ``arm(Step.X)`` in this very process (the crash trials'
launcher does, in the forked child, before it runs the command): then reaching that step
SIGKILLs the process (no cleanup, no finally blocks, no flushing, exactly like the OOM
killer or a power cut). No environment variable or setting arms it, so a production host
cannot trigger it by accident. The steps, in the order a refresh reaches them:
"""

import enum
import os
import signal


class Step(enum.Enum):
    FETCH = "fetch"
    """A ticker's prices have been fetched (other fetches may still be running)."""
    VALIDATE = "validate"
    """The fetched prices have been validated."""
    TRANSFORM = "transform"
    """The study has been computed."""
    PUBLISH_BEGIN = "publish:begin"
    """The publish transaction is open, nothing written in it yet."""
    PUBLISH_PRICES = "publish:prices"
    """Prices written inside the open transaction."""
    PUBLISH_RESULTS = "publish:results"
    """month_end / signal_events / signal_summary written too."""
    ALERTS = "alerts"
    """The run's alerts delivered (inside the open transaction), their ledger rows not written yet."""
    PUBLISH_LEDGER = "publish:ledger"
    """The alerts ledger written too."""
    COMMIT = "commit"
    """Everything (incl. the run's row) written, COMMIT not yet sent (any transaction: a
    migration, a publish or a failed run's record)."""
    COMMITTED = "committed"
    """Just after COMMIT returned."""
    ARTIFACT = "artifact"
    """After the Prefect artifact, before the flow returns."""


_armed: Step | None = None


def arm(step: Step | None) -> None:
    """Make this process die by SIGKILL when it reaches `step` (None: disarm). Test harness only."""
    global _armed
    _armed = step


def reach(step: Step) -> None:
    """Mark that the refresh passed `step`; kills the process only when armed for it."""
    if step is _armed:
        os.kill(os.getpid(), signal.SIGKILL)

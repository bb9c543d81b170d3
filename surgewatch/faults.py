"""A test hook for the crash trials: die by SIGKILL at a named point of a refresh.

``SURGEWATCH_CRASH_AT=<point>`` makes the process kill itself (SIGKILL: no cleanup, no
finally blocks, no flushing, exactly like the OOM killer or a power cut) the first time
the refresh reaches that point. Unset (always, outside tests/reliability) it costs one
environment lookup per point. The points, in the order a refresh reaches them:

- ``fetch``: a ticker's prices have been fetched (other fetches may still be running);
- ``validate``: the fetched prices have been validated;
- ``transform``: the study has been computed;
- ``publish:staged``: the publish has shaped its frames, no transaction yet;
- ``publish:begin``: the publish transaction is open, nothing written in it yet;
- ``publish:prices``: prices written inside the open transaction;
- ``publish:results``: month_end / signal_events / signal_summary written too;
- ``alerts``: the run's alerts delivered (inside the open transaction, see
  Warehouse.publish), their ledger rows not written yet;
- ``publish:ledger``: the alerts ledger written too;
- ``commit``: everything (incl. the run's row) written, COMMIT not yet sent (any
  transaction: a migration, a publish or a failed run's record);
- ``committed``: just after COMMIT returned;
- ``artifact``: after the Prefect artifact, before the flow returns.
"""

import os
import signal

CRASH_ENV = "SURGEWATCH_CRASH_AT"

POINTS = (
    "fetch",
    "validate",
    "transform",
    "publish:staged",
    "publish:begin",
    "publish:prices",
    "publish:results",
    "alerts",
    "publish:ledger",
    "commit",
    "committed",
    "artifact",
)


def crash_point(name: str) -> None:
    """SIGKILL this process when SURGEWATCH_CRASH_AT names this point (test hook)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)

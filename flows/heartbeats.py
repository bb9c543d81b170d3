"""Crashed runs do not stay "Running": flow heartbeats and the automation that acts on them.

A flow run whose process dies outright (SIGKILL, a machine lost) never reports an end, so
the server would show it Running forever and the deployment's one-at-a-time limit would
hold its slot. Every flow run emits a `prefect.flow-run.heartbeat` event each
PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (Prefect 3.8's name; 180 by default, 30 at
least); the automation below marks a run Crashed once MISSED_BEATS of them have not come,
which frees the slot for the next night.
"""

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

HEARTBEAT_SETTING = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
HEARTBEAT_SECONDS = 30  # Prefect's minimum: a crash shows within a few minutes
MISSED_BEATS = 3  # one late heartbeat on a busy machine is not a crash
AUTOMATION_NAME = "surgewatch: mark silent flow runs Crashed"
_ENDS = ("Completed", "Failed", "Cancelled", "Crashed")


def crash_silent_runs(heartbeat_seconds: int = HEARTBEAT_SECONDS, missed_beats: float = MISSED_BEATS) -> Automation:
    """The automation: after a heartbeat, expect another (or the run's end) within
    `missed_beats` heartbeats, per flow run; when none comes, set the run Crashed.
    It must exceed one beat, with room for a late one; fewer beats show a crash sooner
    (the SIGKILL test uses 1.5: 45 s)."""
    window = heartbeat_seconds * missed_beats
    return Automation(
        name=AUTOMATION_NAME,
        description=f"Flow runs that stop sending heartbeats ({HEARTBEAT_SETTING}) are marked Crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{end}" for end in _ENDS)},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=window),
        ),
        actions=[
            ChangeFlowRunState(
                name=None,
                force=False,
                state=StateType.CRASHED,
                message=f"no heartbeat for {window:g} s: the process running it died",
            )
        ],
    )


def ensure_crash_automation(heartbeat_seconds: int = HEARTBEAT_SECONDS) -> bool:
    """Create the automation on the Prefect server in use unless it exists; True when it
    was created (so `surgewatch serve` on several machines creates it once)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        if client.read_automations_by_name(AUTOMATION_NAME):
            return False
    crash_silent_runs(heartbeat_seconds).create()
    return True


if __name__ == "__main__":  # the README's deploy steps: python -m surgewatch.flows.heartbeats
    print("created" if ensure_crash_automation() else "already there", AUTOMATION_NAME)

"""When the refresh runs by itself: weekday nights after the close, New York time.

prefect.yaml declares the same schedule for `prefect deploy`; `surgewatch serve` uses
this one. tests/flows/test_schedule.py keeps them in step.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prefect.schedules import Cron, Schedule
from prefect.settings import PREFECT_API_URL, temporary_settings

from surgewatch.core.calendar import NEW_YORK
from surgewatch.flows.server import LOCAL_SERVER, running_server, wait_healthy

# 22:30 leaves providers time to publish the day's bar after the 16:00 close.
NIGHTLY_CRON = "30 22 * * 1-5"
TIMEZONE = NEW_YORK.key
DEPLOYMENT_NAME = "nightly"
_SERVER_WAIT_SECONDS = 90


def nightly_schedule() -> Schedule:
    """The cron in New York time, so 22:30 stays 22:30 across the DST switches."""
    return Cron(NIGHTLY_CRON, timezone=TIMEZONE)


@contextmanager
def prefect_api(say: Callable[[str], None]) -> Iterator[str]:
    """The Prefect API to schedule against: a running server (see running_server), else a
    `prefect server` started here (and stopped on exit). Schedules need a server that
    outlives one run; the temporary one Prefect starts for single runs does not."""
    running = running_server()
    if running:
        say(f"using the Prefect server at {running}" + (" (PREFECT_API_URL)" if PREFECT_API_URL.value() else ""))
        with temporary_settings({PREFECT_API_URL: running}):
            yield running
        return
    host, port = LOCAL_SERVER
    api_url = f"http://{host}:{port}/api"
    prefect = shutil.which("prefect", path=os.path.dirname(sys.executable)) or "prefect"
    say(f"starting a Prefect server at {api_url} (UI at http://{host}:{port}); it stops with this command")
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", host, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        if wait_healthy(server, api_url, _SERVER_WAIT_SECONDS, pause=0.5):
            raise RuntimeError(f"the Prefect server did not start at {api_url}")
        with temporary_settings({PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def serve_nightly(say: Callable[[str], None]) -> None:
    """Keep the nightly schedule running on this machine until interrupted: the refresh
    flow served as a deployment, one run at a time, with heartbeats and the automation
    that marks a run Crashed when they stop (flows/heartbeats.py)."""
    from surgewatch.flows.heartbeats import (
        AUTOMATION_NAME,
        HEARTBEAT_SECONDS,
        HEARTBEAT_SETTING,
        ensure_crash_automation,
    )
    from surgewatch.flows.refresh import refresh

    # The served runs start in subprocesses that inherit this; an operator's own value wins.
    os.environ.setdefault(HEARTBEAT_SETTING, str(HEARTBEAT_SECONDS))
    with prefect_api(say):
        if ensure_crash_automation(int(os.environ[HEARTBEAT_SETTING])):
            say(f"created the automation '{AUTOMATION_NAME}'")
        say(f"serving '{refresh.name}/{DEPLOYMENT_NAME}': cron {NIGHTLY_CRON!r} in {TIMEZONE}; Ctrl-C stops")
        refresh.serve(
            name=DEPLOYMENT_NAME, schedules=[nightly_schedule()], global_limit=1, print_starting_message=False
        )

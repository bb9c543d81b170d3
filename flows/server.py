"""A temporary Prefect server for one run, started before the run's own imports.

Without a running server Prefect starts a temporary one itself, but only once the flow
is called: it first imports its server package into this process (about 2.5 s) and then
waits about 3 s for a subprocess to import it again. Started here, first thing, the
subprocess starts while this process imports the flow, and this process never imports
the server. The command and environment are those of Prefect's own temporary server
(prefect.server.api.server.SubprocessASGIServer, Prefect 3.8), so it behaves the same.

No Prefect import at module level: that alone is most of a second of the head start.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from surgewatch.core.errors import SettingsError

# Where `surgewatch serve` keeps a Prefect server.
LOCAL_SERVER = ("127.0.0.1", 4200)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(api_url: str) -> bool:
    """Whether a Prefect API answers at api_url."""
    try:
        return requests.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def running_server() -> str | None:
    """The API of a Prefect server that answers: PREFECT_API_URL's (as Prefect reads it:
    environment, profile or .env), else the local one `surgewatch serve` keeps on
    127.0.0.1:4200; None when there is none. A PREFECT_API_URL that does not answer is
    an error: the user asked for that server."""
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        if not healthy(configured):
            raise SettingsError(
                f"PREFECT_API_URL is {configured} but no Prefect server answers there (unset it to run without one)"
            )
        return configured
    return local_server()


def local_server() -> str | None:
    """The API of the server `surgewatch serve` keeps on 127.0.0.1:4200 when it answers.
    Asked without importing Prefect, so that a run that must start a temporary server
    starts it first (see the module's docstring)."""
    local = "http://{}:{}/api".format(*LOCAL_SERVER)
    return local if healthy(local) else None


def stop_process(process: subprocess.Popen, seconds: float) -> None:
    """Ask `process` to end (SIGTERM); kill it if it has not within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(process: subprocess.Popen, api_url: str, seconds: float, pause: float) -> str | None:
    """Wait until the Prefect API that `process` serves answers at api_url: None once it
    does, else why not (the process exited, or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while not healthy(api_url):
        if process.poll() is not None:
            return f"exited with code {process.returncode}"
        if time.monotonic() > deadline:
            return f"did not answer within {seconds:g} s"
        time.sleep(pause)
    return None


class TemporaryServer:
    """A Prefect server subprocess on a free port of 127.0.0.1, started at once;
    `ready()` waits until it answers and gives its API URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
            + ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env=os.environ
            | {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"},
            stdout=subprocess.DEVNULL,
        )

    def ready(self) -> str:
        """The API URL once the server answers; SettingsError when it exits or does not
        answer within PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (Prefect's setting)."""
        wait = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20"))
        failed = wait_healthy(self.process, self.api_url, wait, pause=0.05)
        if failed:
            raise SettingsError(f"the temporary Prefect server {failed}")
        return self.api_url

    def stop(self) -> None:
        """Stop the server once Prefect's log and event workers have sent what they hold
        (as Prefect's test harness does): after it they would retry a closed port at exit."""
        if "prefect.logging.handlers" in sys.modules:
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=5)
            EventsWorker.drain_all(timeout=5)
        stop_process(self.process, seconds=5)


@contextmanager
def temporary_server() -> Iterator[TemporaryServer]:
    """A TemporaryServer for the block, stopped when it ends."""
    server = TemporaryServer()
    try:
        yield server
    finally:
        server.stop()

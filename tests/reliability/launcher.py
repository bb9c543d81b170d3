"""Run `surgewatch` commands as separate processes without paying Python's start-up each time.

The crash trials and the concurrency test start dozens of `surgewatch refresh` processes;
about 2 s of each is importing Prefect, polars and DuckDB. This launcher imports them
once and forks one child per command: each child is a separate process (its own pid,
its own DuckDB, its own writer lock, killable with SIGKILL like any other) that runs the
console script's entry point, `surgewatch.cli.main(argv)`, with the environment and
output files the test gives it. The launcher holds no threads when it forks (checked),
so the children start clean.

    with Launcher(env) as launcher:
        pid = launcher.start(["refresh", "--as-of", "2025-06-12"], env, out_path, crash_at=Step.COMMIT)
        code = launcher.wait(pid, timeout=120)     # -9 when killed by SIGKILL

`crash_at` arms that step of surgewatch.core.faults in the child (only there, in-process),
so the command dies by SIGKILL when it reaches it.

Protocol (one JSON object per line): requests on stdin
``{"id": n, "argv": [...], "env": {...}, "out": path, "crash_at": step value or null}``; answers on stdout
``{"id": n, "pid": p}`` when the child started and ``{"pid": p, "exit": code}`` when it ended.
"""

import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from surgewatch.core import faults

REPO = Path(__file__).resolve().parents[2]


# -- the launcher process ----------------------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the requested command, never return."""
    code = 70
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        if request.get("crash_at"):
            faults.arm(faults.Step(request["crash_at"]))
        from surgewatch.cli import main

        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001  (report, then exit like an uncaught error would)
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    import surgewatch.cli  # noqa: F401  (the imports the children share)
    import surgewatch.flows.refresh  # noqa: F401
    import surgewatch.warehouse  # noqa: F401

    assert threading.active_count() == 1, "the launcher must not fork with threads running"
    children: set[int] = set()
    buffered = b""
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.02)
        if ready:
            chunk = os.read(stdin, 1 << 16)
            if not chunk:
                break
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children.add(pid)
                _say({"id": request["id"], "pid": pid})
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                _say({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})
    for pid in children:  # stdin closed: the test is done; nothing may outlive it
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


# -- the test side -----------------------------------------------------------------------------


class Launcher:
    """The test's handle on a launcher process (see the module docstring)."""

    def __init__(self, env: dict[str, str]):
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.launcher"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Condition()
        self._started: dict[int, int] = {}
        self._exits: dict[int, int] = {}
        self._next = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._proc.stdout:
            message = json.loads(line)
            with self._lock:
                if "exit" in message:
                    self._exits[message["pid"]] = message["exit"]
                else:
                    self._started[message["id"]] = message["pid"]
                self._lock.notify_all()

    def start(self, argv: list[str], env: dict[str, str], out: Path, crash_at: faults.Step | None = None) -> int:
        """Start the command in a child; with `crash_at`, the child dies by SIGKILL at that step."""
        request = {"argv": argv, "env": env, "out": str(out), "crash_at": crash_at.value if crash_at else None}
        with self._lock:
            self._next += 1
            ident = self._next
            self._proc.stdin.write(json.dumps({"id": ident, **request}) + "\n")
            self._proc.stdin.flush()
            if not self._lock.wait_for(lambda: ident in self._started, timeout=60):
                raise TimeoutError("the launcher did not start the command")
            return self._started.pop(ident)

    def poll(self, pid: int) -> int | None:
        with self._lock:
            return self._exits.get(pid)

    def exited_within(self, pid: int, seconds: float) -> bool:
        """Whether the command ended within `seconds` (it is left running if not)."""
        with self._lock:
            return self._lock.wait_for(lambda: pid in self._exits, timeout=seconds)

    def wait(self, pid: int, timeout: float) -> int:
        """The command's exit code (-9 when SIGKILLed); a command still running after
        `timeout` is killed and TimeoutError raised."""
        with self._lock:
            if not self._lock.wait_for(lambda: pid in self._exits, timeout=timeout):
                os.kill(pid, 9)
                self._lock.wait_for(lambda: pid in self._exits, timeout=30)
                raise TimeoutError(f"pid {pid} still running after {timeout} s (killed)")
            return self._exits.pop(pid)

    def run(self, argv: list[str], env: dict[str, str], out: Path, timeout: float = 180) -> tuple[int, str]:
        code = self.wait(self.start(argv, env, out), timeout)
        return code, out.read_text(errors="replace")

    def close(self) -> None:
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve()

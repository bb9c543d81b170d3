"""One night of the nightly benchmark, in its own process: `surgewatch refresh` as the CLI
runs it, with each stage timed.

    python -m benchmarks.nightly_child OUT.json refresh --as-of 2025-12-24 --quiet

Runs `surgewatch.cli.main(argv)` unchanged; around it, it wraps the library calls the
flow makes (open the warehouse, read the stored prices, merge the fetches, validate,
study, publish) with timers, and listens to the flow's own progress log
(`surgewatch.progress`: fetches, stage names). Wrapping, not editing: a call that a later
version no longer makes simply shows no time. It writes one JSON object to OUT.json:
{"exit_code", "seconds" (import to exit), "stages": [{"stage", "start", "end", "rss",
"peak_rss"}]} with times in seconds since the process started its imports.
"""

from __future__ import annotations

import functools
import json
import logging
import resource
import sys
import threading
import time

_T0 = time.perf_counter()
_lock = threading.Lock()
_stages: list[dict] = []


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def _record(stage: str, start: float, end: float) -> None:
    with _lock:
        _stages.append(
            {
                "stage": stage,
                "start": round(start - _T0, 3),
                "end": round(end - _T0, 3),
                "rss": _rss(),
                "peak_rss": _peak(),
            }
        )


def _timed(owner: object, name: str, stage: str) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(stage, start, time.perf_counter())

    # A plain function set on a class binds like the method it replaces (instance
    # methods get self; a classmethod read from the class arrives already bound).
    setattr(owner, name, functools.wraps(fn)(wrapper))


class _Progress(logging.Handler):
    """The flow's progress log: the first and last fetch, and each stage it names."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.fetches: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        now = time.perf_counter()
        step = getattr(record, "step", "")
        if step == "fetch":
            self.fetches.append(now)
        elif step:
            _record(f"progress: {step}", now, now)


def main(argv: list[str]) -> int:
    out, cli_args = argv[0], argv[1:]
    import surgewatch.flows.refresh as flow
    from surgewatch.cli import main as cli_main
    from surgewatch.progress import LOGGER
    from surgewatch.warehouse import Warehouse

    _record("imports", _T0, time.perf_counter())
    for owner, name, stage in (
        (Warehouse, "open", "open warehouse (migrate)"),
        (Warehouse, "prices", "read stored prices"),
        (Warehouse, "publish", "publish (one transaction)"),
        (flow, "ingested", "merge fetches into stored prices"),
        (flow, "validate_each_ticker", "validate prices (pandera)"),
        (flow, "run_study", "study (transforms + validation)"),
    ):
        _timed(owner, name, stage)
    progress = _Progress()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(progress)
    logger.setLevel(logging.INFO)
    start = time.perf_counter()
    code = cli_main(cli_args)
    _record("cli refresh (whole)", start, time.perf_counter())
    if progress.fetches:
        _record(f"fetch tasks ({len(progress.fetches)} done)", min(progress.fetches), max(progress.fetches))
    document = {
        "exit_code": code,
        "seconds": round(time.perf_counter() - _T0, 3),
        "stages": sorted(_stages, key=lambda s: (s["start"], s["end"])),
    }
    with open(out, "w", encoding="utf-8") as sink:
        json.dump(document, sink)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

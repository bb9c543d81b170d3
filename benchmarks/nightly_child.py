"""One night of the nightly benchmark, in its own process: `surgewatch refresh` as the CLI
runs it, with each stage timed.

    python -m benchmarks.nightly_child OUT.json refresh --as-of 2025-12-24 --quiet

Runs `surgewatch.cli.main(argv)` unchanged and derives its stages from the marks the flow
sets itself (`surgewatch.core.progress.report_progress(step)`, logger `surgewatch.core.progress`):
a stage runs from its mark to the next one. Nothing in the library is wrapped by name, so
whatever marks a version of the flow sets, renamed or new ones included, become the rows.
Consecutive "fetch" marks (one per ticker fetched) make one stage "fetch (N tickers)".
Before the first mark: "imports" (process start until the CLI is imported) and "start
(Prefect, settings, open warehouse)" (the CLI called until the first mark); from the
"done" mark on (or from the CLI's return when no "done" came): "exit".

Each stage has its start and end (seconds since the process started), the RSS at its
end, the process's peak RSS so far (getrusage's high-water mark: a stage whose end
value is above its start value raised it) and the highest RSS sampled during the stage
(a thread samples every SAMPLE_SECONDS). OUT.json gets one object: {"exit_code" (null
when the CLI raised), "seconds" (process start to the report), "stages": [{"stage",
"step", "marks", "start", "end", "rss", "peak_rss", "peak_rss_start", "peak_rss_during"}]}.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

SAMPLE_SECONDS = 0.02
FETCH, DONE, RETRY = "fetch", "done", "retry"
IMPORTS, START, EXIT = "imports", "start (Prefect, settings, open warehouse)", "exit"

_PROCESS = psutil.Process()
# Seconds count from the process's creation (the kernel's, to clock ticks), not from this
# module's import, so "imports" includes the interpreter's own start-up.
_ORIGIN = time.perf_counter() - max(0.0, time.time() - _PROCESS.create_time())


@dataclass(frozen=True)
class Mark:
    """A moment of the run: a progress step (or one of the child's own), when, and memory."""

    step: str
    at: float  # seconds since the process started
    rss: int
    peak: int  # the process's peak RSS so far


def _now(step: str) -> Mark:
    # Linux reports ru_maxrss in kilobytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return Mark(step, time.perf_counter() - _ORIGIN, _PROCESS.memory_info().rss, peak)


class _Sampler(threading.Thread):
    """RSS every SAMPLE_SECONDS: a stage's peak can fall between two marks and be gone by
    the next, and getrusage only says that the process peaked, not when."""

    def __init__(self) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_SECONDS):
            self.samples.append((time.perf_counter() - _ORIGIN, _PROCESS.memory_info().rss))

    def stop(self) -> list[tuple[float, int]]:
        self._halt.set()
        self.join()
        return self.samples


class _Marks(logging.Handler):
    """The flow's progress log as Marks (a retry is a wait inside a stage, not a stage)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.marks: list[Mark] = []

    def emit(self, record: logging.LogRecord) -> None:
        step = getattr(record, "step", "")
        if step and step != RETRY:
            # Handlers hold their own lock around emit, so fetches from worker threads append safely.
            self.marks.append(_now(step))


def stage_table(
    imported: Mark,
    called: Mark,
    marks: Sequence[Mark],
    returned: Mark,
    finished: Mark,
    samples: Sequence[tuple[float, int]] = (),
) -> list[dict]:
    """The stages of one run from its marks (see the module's docstring).

    imported: the CLI imported; called: the CLI about to be called; marks: the flow's
    progress marks in order; returned: the CLI returned; finished: the report is due.
    samples: (seconds, RSS) from the sampler, for each stage's peak during it.
    """
    origin = Mark(IMPORTS, 0.0, 0, 0)
    rows: list[tuple[str, str, int, Mark]] = [(IMPORTS, IMPORTS, 1, origin), (START, START, 1, called)]
    for mark in marks:
        if mark.step == FETCH and rows[-1][1] == FETCH:
            name, step, count, first = rows[-1]
            rows[-1] = (name, step, count + 1, first)
        elif mark.step == DONE:
            # The same row as when no "done" comes, so that old and new nights line up.
            rows.append((EXIT, EXIT, 1, mark))
        else:
            rows.append((mark.step, mark.step, 1, mark))
    if rows[-1][1] != EXIT:
        rows.append((EXIT, EXIT, 1, returned))
    ends = [imported, *(first for _, _, _, first in rows[2:]), finished]
    stages = []
    for (name, step, count, start), end in zip(rows, ends):
        if step == FETCH:
            name = f"fetch ({count} ticker{'s' * (count != 1)})"
        during = [rss for at, rss in samples if start.at <= at <= end.at]
        stages.append(
            {
                "stage": name,
                "step": step,
                "marks": count,
                "start": round(start.at, 3),
                "end": round(end.at, 3),
                "rss": end.rss,
                "peak_rss": end.peak,
                "peak_rss_start": start.peak,
                "peak_rss_during": max([*during, start.rss, end.rss]),
            }
        )
    return stages


def main(argv: list[str]) -> int:
    out, cli_args = argv[0], argv[1:]
    # Started before the CLI's imports so that their memory is sampled too.
    sampler = _Sampler()
    sampler.start()
    from surgewatch.cli import main as cli_main
    from surgewatch.core.progress import LOGGER

    imported = _now(IMPORTS)
    listener = _Marks()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(listener)
    logger.setLevel(logging.INFO)
    called = _now(START)
    code = None
    try:
        code = cli_main(cli_args)
    finally:
        # Also when the CLI raises: the stages up to the failure say where it was.
        returned = _now(EXIT)
        logger.removeHandler(listener)
        finished = _now(EXIT)
        stages = stage_table(imported, called, listener.marks, returned, finished, sampler.stop())
        document = {"exit_code": code, "seconds": round(finished.at, 3), "stages": stages}
        with open(out, "w", encoding="utf-8") as sink:
            json.dump(document, sink)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

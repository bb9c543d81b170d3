"""Progress of a refresh: a bar on a terminal, fed by the flow's `surgewatch.core.progress` log.

The flow only logs what it reached (a ticker fetched, a stage begun) and the sources log
each HTTP retry before its wait; whether that becomes a bar, a line on stderr, a log line
in Prefect's UI or nothing is the caller's choice.
"""

import logging
import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

LOGGER = "surgewatch.core.progress"
RETRY = "retry"


def report_progress(step: str, done: int = 0, total: int = 0, detail: str = "") -> None:
    """Say how far a run got: step 'fetch' with done/total, or a stage name."""
    logging.getLogger(LOGGER).info("%s %s", step, detail, extra={"step": step, "done": done, "total": total})


def report_retry(line: str) -> None:
    """Say that a request failed and is about to be retried (a warning: the run is slowed)."""
    logging.getLogger(LOGGER).warning("%s", line, extra={"step": RETRY})


class _OnProgressLog(logging.Handler):
    """A handler of the progress log while the block runs (a no-op when disabled)."""

    def __init__(self, enabled: bool):
        super().__init__(level=logging.INFO)
        self.enabled = enabled

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def __enter__(self) -> "_OnProgressLog":
        if self.enabled:
            logger = logging.getLogger(LOGGER)
            logger.addHandler(self)
            logger.setLevel(logging.INFO)
            self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            logging.getLogger(LOGGER).removeHandler(self)
            self.stop()


class ProgressBar(_OnProgressLog):
    """A transient rich progress bar on stderr; a retry shows as its label while it waits."""

    def __init__(self, enabled: bool):
        super().__init__(enabled)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=None)

    def emit(self, record: logging.LogRecord) -> None:
        step, done, total = getattr(record, "step", ""), getattr(record, "done", 0), getattr(record, "total", 0)
        if step == "fetch":
            self._progress.update(
                self._task, description=f"fetching {record.getMessage().split(' ', 1)[1]}", completed=done, total=total
            )
        else:  # a stage begun, or a retry waiting
            self._progress.update(self._task, description=record.getMessage().strip())

    def start(self) -> None:
        self._progress.start()

    def stop(self) -> None:
        self._progress.stop()


class RetryLines(_OnProgressLog):
    """Each retry as one line on stderr: where there is no bar to show it on."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "step", "") == RETRY:
            # Not print(): inside a flow with log_prints, Prefect would take it for a log.
            sys.stderr.write(record.getMessage() + "\n")
            sys.stderr.flush()

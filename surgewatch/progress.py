"""Progress of a refresh on a terminal: a bar fed by the flow's `surgewatch.progress` log.

The flow only logs what it reached (a ticker fetched, a stage begun); whether that becomes
a bar, a log line in Prefect's UI or nothing is the caller's choice.
"""

import logging
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

LOGGER = "surgewatch.progress"


def report_progress(step: str, done: int = 0, total: int = 0, detail: str = "") -> None:
    """Say how far a run got: step 'fetch' with done/total, or a stage name."""
    logging.getLogger(LOGGER).info("%s %s", step, detail, extra={"step": step, "done": done, "total": total})


class ProgressBar(logging.Handler):
    """A transient rich progress bar on stderr while the block runs (a no-op when disabled)."""

    def __init__(self, enabled: bool):
        super().__init__(level=logging.INFO)
        self.enabled = enabled
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
        else:
            self._progress.update(self._task, description=record.getMessage().strip())

    def __enter__(self) -> "ProgressBar":
        if self.enabled:
            logger = logging.getLogger(LOGGER)
            logger.addHandler(self)
            logger.setLevel(logging.INFO)
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.enabled:
            logging.getLogger(LOGGER).removeHandler(self)
            self._progress.stop()

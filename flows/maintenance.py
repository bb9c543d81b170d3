"""The weekly upkeep as a Prefect flow (prefect.yaml deployment `weekly-upkeep`).

Thin, like the refresh flow: the work is warehouse.upkeep. A refresh holding the
writer lock makes upkeep skip (it runs again next week), never wait.
"""

from prefect import flow, get_run_logger

from surgewatch.core.settings import load_settings
from surgewatch.warehouse import RefreshInProgress
from surgewatch.warehouse.upkeep import upkeep as run_upkeep


@flow(name="surgewatch-upkeep", timeout_seconds=60 * 60)
def upkeep(keep_days: int | None = None) -> str:
    """Expire versions older than keep_days (default SURGEWATCH_KEEP_DAYS), merge small
    files, delete files no version uses; returns the line it logs."""
    logger = get_run_logger()
    try:
        line = run_upkeep(load_settings(), keep_days=keep_days).summary()
    except RefreshInProgress as exc:
        line = f"skipped: {exc}"
    logger.info("%s", line)
    return line

"""The row a run leaves in the `runs` table."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from surgewatch.core.errors import WarehouseError
from surgewatch.core.vocabulary import RunStatus
from surgewatch.warehouse.schema import RUN_STATUSES


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One refresh: what it was asked to do and how it ended.

    status is 'published' (every ticker healthy), 'partial' (some failed, named in
    `failed`), 'failed' (nothing published) or 'skipped'. The warehouse fills finished_at
    (when not given) and snapshot_id when it writes the row.
    """

    run_id: str
    status: RunStatus
    started_at: datetime
    source: str
    tickers: tuple[str, ...] = ()
    as_of: date | None = None
    finished_at: datetime | None = None
    failed: Mapping[str, str] = field(default_factory=dict)
    rows_ingested: Mapping[str, int] = field(default_factory=dict)
    restated: tuple[str, ...] = ()
    message: str | None = None

    def __post_init__(self) -> None:
        if not self.run_id:
            raise WarehouseError("a run needs a run_id")
        if self.status not in RUN_STATUSES:
            raise WarehouseError(f"run status must be one of {sorted(RUN_STATUSES)}, not {self.status!r}")

"""A reader process for the concurrency test: opens the warehouse read-only and reads a
consistent picture of it, over and over, until told to stop.

usage: python -m tests.reliability.reader HOME OUT_JSONL STOP_FILE MAX_SECONDS

Each iteration is what a read-only CLI command does (a fresh DuckDB, attach, query,
close) and appends one JSON line: the counts it saw, or the error it got.
"""

import json
import sys
import time
from pathlib import Path

from surgewatch.core.settings import Settings
from surgewatch.warehouse import Warehouse

# Between reads, so a 2-core machine still has room for the refreshes being read.
PAUSE = 0.1
# One statement, so one snapshot: everything it reports belongs to the same version.
PICTURE = (
    "SELECT (SELECT count(*) FROM prices_daily) AS prices, (SELECT CAST(max(date) AS VARCHAR) FROM prices_daily) AS last, "
    "(SELECT CAST(max(as_of) AS VARCHAR) FROM month_end) AS results_through, (SELECT count(*) FROM runs) AS runs, "
    "(SELECT count(*) FROM signal_summary) AS summary_rows"
)


def main(argv: list[str]) -> None:
    home, out, stop, limit = Path(argv[0]), Path(argv[1]), Path(argv[2]), float(argv[3])
    deadline = time.monotonic() + limit
    with out.open("a", encoding="utf-8") as sink:
        while not stop.exists() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                # Catalog and data path from the environment: the two-machine test's reader
                # reads a PostgreSQL catalog and an S3 bucket.
                with Warehouse.open(Settings(_env_file=None, home=home), read_only=True) as wh:
                    row = wh.sql(PICTURE).row(0, named=True)
                line = {"ok": True, **row}
            except Exception as exc:  # noqa: BLE001  (every error counts, whatever its kind)
                line = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            line["seconds"] = round(time.monotonic() - started, 3)
            sink.write(json.dumps(line) + "\n")
            sink.flush()
            time.sleep(PAUSE)


if __name__ == "__main__":
    main(sys.argv[1:])

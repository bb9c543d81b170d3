"""Run by test_concurrency in a separate process: publish run-2 (every close +1) but keep
its transaction open for HOLD seconds after all of its writes, as a slow refresh would.

usage: hold_write.py HOME MARKER_DIR HOLD [CATALOG]
Touches MARKER_DIR/writing once the writes are in the open transaction and
MARKER_DIR/committed after the commit.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import polars as pl  # noqa: E402

from conftest import Builders as build  # noqa: E402
from surgewatch.warehouse import Warehouse  # noqa: E402


def main() -> None:
    home, markers, hold = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    catalog = sys.argv[4] if len(sys.argv) > 4 else None
    with Warehouse.open(build.settings(home, catalog=catalog)) as wh:
        insert_run = wh._insert_run

        def insert_run_then_hold(run, snapshot):
            insert_run(run, snapshot)
            (markers / "writing").touch()
            time.sleep(hold)

        wh._insert_run = insert_run_then_hold
        prices = build.prices().with_columns(pl.col("close") + 1)
        wh.publish(build.run("run-2"), prices=prices, **build.results(move=0.2), **build.study)
        (markers / "committed").touch()


if __name__ == "__main__":
    main()

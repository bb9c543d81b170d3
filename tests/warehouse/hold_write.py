"""Run by test_concurrency in a separate process: publish run-2 (every close +1) but keep
its transaction open for HOLD seconds after all of its writes, as a slow refresh would.

usage: hold_write.py HOME MARKER_DIR HOLD [CATALOG]
Touches MARKER_DIR/writing once the writes are in the open transaction,
MARKER_DIR/releasing when the hold ends (the commit follows) and MARKER_DIR/committed
after the commit.
"""

import sys
import time
from pathlib import Path

import polars as pl

from surgewatch.warehouse import Warehouse, writer
from tests import factories


def main() -> None:
    home, markers, hold = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    catalog = sys.argv[4] if len(sys.argv) > 4 else None
    insert_run = writer.insert_run

    def insert_run_then_hold(con, run, snapshot):
        insert_run(con, run, snapshot)
        (markers / "writing").touch()
        time.sleep(hold)
        (markers / "releasing").touch()

    writer.insert_run = insert_run_then_hold
    with Warehouse.open(factories.settings_for(home, catalog=catalog)) as wh:
        prices = factories.make_prices().with_columns(pl.col("close") + 1)
        factories.publish(wh, factories.make_run("run-2"), prices=prices, results=factories.make_results(move=0.2))
        (markers / "committed").touch()


if __name__ == "__main__":
    main()

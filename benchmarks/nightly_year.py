"""A simulated year of nights with upkeep, for the storage target of SPEC §4b.

    python -m benchmarks.nightly_year WORKDIR YEARS NIGHTS KEEP_DAYS OUT.json
    (SURGEWATCH_CSV_DIR, SURGEWATCH_TICKERS and the rest come from the environment)

In one process, so Prefect's temporary server starts once: the first load as of the
session NIGHTS sessions before the universe's last one, then one refresh per session
(the real flow, `surgewatch.flows.refresh.refresh`), and every 5th night (weekly) the
upkeep of warehouse.upkeep. The nights pass in minutes, so SURGEWATCH_KEEP_DAYS cannot
be applied by age: the versions of the last round(KEEP_DAYS × 252 / 365) nights are
kept and older ones expired (by version count), and replaced files are deleted at once
(no grace period: no reader is running). Then a fresh warehouse gets a first load of
the same data (as of the last night), and both lakes' data files are measured.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

UPKEEP_EVERY = 5
SESSIONS_PER_YEAR = 252


def _lake_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in (home / "lake").rglob("*") if p.is_file())


def _refresh(home: Path, as_of) -> None:
    from surgewatch.flows.refresh import refresh

    os.environ["SURGEWATCH_HOME"] = str(home)
    report = refresh(as_of=as_of)
    if report.exit_code:
        raise SystemExit(f"refresh as of {as_of} ended {report.status}: {report.message or report.failed}")


def _weekly_upkeep(home: Path, keep_versions: int) -> tuple[int, int]:
    """Expire all but the last keep_versions versions, merge, delete: (files, bytes) reclaimed."""
    import datetime as dt

    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse.upkeep import run_upkeep, upkeep_connection

    with upkeep_connection(load_settings(home=home)) as con:
        kept = con.execute(
            "SELECT snapshot_time FROM lake.snapshots() ORDER BY snapshot_id DESC LIMIT 1 OFFSET ?", [keep_versions - 1]
        ).fetchone()
        older_than = kept[0] if kept else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        reclaimed = run_upkeep(con, older_than=older_than, grace=dt.timedelta(0))
    return reclaimed.files, reclaimed.bytes


def main(argv: list[str]) -> None:
    from benchmarks.universe import session_grid

    workdir, years, nights, keep_days, out = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3]), Path(argv[4])
    keep_versions = max(1, round(keep_days * SESSIONS_PER_YEAR / 365))
    dates = [d.item() for d in session_grid(years)[-(nights + 1) :]]
    home, fresh = workdir / "home-year", workdir / "home-fresh"
    _refresh(home, dates[0])
    reclaimed_files = reclaimed_bytes = 0
    for night, as_of in enumerate(dates[1:], start=1):
        _refresh(home, as_of)
        if night % UPKEEP_EVERY == 0 or night == nights:
            files, size = _weekly_upkeep(home, keep_versions)
            reclaimed_files, reclaimed_bytes = reclaimed_files + files, reclaimed_bytes + size
        print(f"    night {night}/{nights} as of {as_of}: lake {_lake_bytes(home) / 1e6:.1f} MB", flush=True)
    _refresh(fresh, dates[-1])
    result = {
        "nights": nights,
        "keep_versions": keep_versions,
        "lake_after_year": _lake_bytes(home),
        "lake_fresh": _lake_bytes(fresh),
        "lake_without_upkeep": _lake_bytes(home) + reclaimed_bytes,
        "reclaimed_files": reclaimed_files,
        "reclaimed_bytes": reclaimed_bytes,
    }
    out.write_text(json.dumps(result))


def simulate_year(
    workdir: Path, csv_dir: Path, tickers: list[str], years: int, nights: int, keep_days: int, env: dict[str, str]
) -> dict:
    """Run main() in a process of its own (its env: the csv source over csv_dir)."""
    import shutil
    import subprocess

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    out = workdir / "year.json"
    env = env | {"PREFECT_LOGGING_LEVEL": "WARNING"}
    argv = [
        sys.executable,
        "-m",
        "benchmarks.nightly_year",
        str(workdir),
        str(years),
        str(nights),
        str(keep_days),
        str(out),
    ]
    with open(workdir / "year.log", "w") as log:
        subprocess.run(argv, env=env, cwd=workdir, stdout=sys.stdout, stderr=log, check=True)
    return json.loads(out.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])

"""Benchmark: the nightly job on a synthetic universe, measured against SPEC §4b.

    python -m benchmarks.bench_nightly [--tickers 3000] [--years 30] [--short-years 3]
        [--nights 5] [--seed 7] [--year-nights 252] [--year-tickers 200] [--keep-days 90]
        [--workdir DIR]

What it does, for the universe tickers × years and again for tickers × short-years:
1. writes the seeded universe (benchmarks.universe) as one TICKER.csv per ticker (not
   timed; kept in the work folder and reused while its parameters are the same);
2. runs the real flow: `surgewatch refresh --as-of D --quiet` with SURGEWATCH_SOURCE=csv
   and a SURGEWATCH_HOME of its own (PREFECT_HOME in the work folder), each night in a fresh process
   (benchmarks.nightly_child, which times the stages). The first load is as of the
   session `nights` sessions before the universe's last one; each next night adds one
   session (`--as-of` the next session), so it brings one new row per listed ticker;
3. per night: wall seconds (parent's clock, process start to exit), peak RSS (the
   kernel's high-water mark of the child and its waited-for children, from wait4), bytes
   added to the lake's data files and to the catalog, and rows written per table in the
   night's version (DuckLake's own change feed, ducklake_table_changes: inserts and
   deletes);
4. checks that the stored result tables equal a full recomputation (run_study over the
   stored prices, compared value by value with benchmarks.equivalence);
5. the storage after a simulated year (benchmarks.nightly_year): `--year-nights` nights
   on a `--year-tickers` × years universe, each through the real flow (in one process,
   so Prefect's server starts once), with `surgewatch upkeep` weekly (every 5th night);
   because the nights pass in minutes, not months, the retention SURGEWATCH_KEEP_DAYS is
   applied by version count: the versions of the last round(keep_days × 252 / 365)
   nights are kept, older ones expired, and files are deleted without a grace period.
   The lake is then compared with a fresh full load of the same data.
Then it prints the figures and PASS/FAIL against every §4b target. Exit code 1 only when
a night fails or the results differ from a full recomputation; targets are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GB, MB = 1e9, 1e6
NIGHT_SECONDS, NIGHT_RSS, NIGHT_BYTES, GROWTH_RATIO = 30.0, 1.5 * GB, 3 * MB, 2 / 3
FIRST_SECONDS, FIRST_RSS, STORAGE_RATIO = 90.0, 4 * GB, 1.3


# --------------------------------------------------------------------------------------
# the universe as files, and the nights
# --------------------------------------------------------------------------------------


def write_universe(folder: Path, tickers: int, years: int, seed: int) -> list[str]:
    """One TICKER.csv per ticker (date,open,high,low,close,adj_close,volume); reused when
    a previous run wrote the same universe there."""
    from benchmarks.universe import generate_universe, ticker_names

    names = ticker_names(tickers)
    stamp = folder / ".universe.json"
    wanted = {"tickers": tickers, "years": years, "seed": seed}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return names
    folder.mkdir(parents=True, exist_ok=True)
    universe = generate_universe(tickers, years, seed=seed)
    for (ticker,), frame in universe.partition_by("ticker", as_dict=True, maintain_order=True).items():
        frame.drop("ticker").write_csv(folder / f"{ticker}.csv")
    del universe
    stamp.write_text(json.dumps(wanted))
    return names


def night_dates(years: int, nights: int) -> list:
    """The first load's as-of date, then one per next night: the universe's last sessions."""
    from benchmarks.universe import session_grid

    return [d.item() for d in session_grid(years)[-(nights + 1) :]]


def refresh_env(home: Path, csv_dir: Path, tickers: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURGEWATCH_")}
    env |= {
        "SURGEWATCH_HOME": str(home),
        "SURGEWATCH_SOURCE": "csv",
        "SURGEWATCH_CSV_DIR": str(csv_dir),
        "SURGEWATCH_TICKERS": ",".join(tickers),
        "PREFECT_HOME": str(home.parent / "prefect"),
        # The temporary server's first start creates its database; on a busy 2-core
        # machine that can take longer than Prefect's default 20 s wait.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return env


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def catalog_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("catalog.sqlite*"))


def rows_written(home: Path) -> dict[str, str]:
    """Rows inserted / deleted per table by the latest version (DuckLake's change feed)."""
    from surgewatch.settings import Settings
    from surgewatch.warehouse.catalog import Catalog
    from surgewatch.warehouse.extensions import connect

    catalog = Catalog.from_settings(Settings(_env_file=None, home=home))
    con = connect(catalog.extensions)
    try:
        con.execute(catalog.attach_sql(read_only=True))
        snapshot = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake' ORDER BY table_name"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            counts = dict(
                con.execute(
                    "SELECT change_type, count(*) FROM ducklake_table_changes('lake', 'main', ?, ?, ?) GROUP BY ALL",
                    [table, snapshot, snapshot],
                ).fetchall()
            )
            inserted, deleted = counts.get("insert", 0), counts.get("delete", 0)
            if inserted or deleted:
                out[table] = f"+{inserted:,}/-{deleted:,}"
        return out
    finally:
        con.close()


def run_night(home: Path, csv_dir: Path, tickers: list[str], as_of, label: str) -> dict:
    """One `surgewatch refresh --as-of` in a fresh process; its figures."""
    lake = home / "lake"
    before = folder_bytes(lake), catalog_bytes(home)
    report = home / f"night-{as_of}.json"
    argv = [sys.executable, "-m", "benchmarks.nightly_child", str(report), "refresh", "--as-of", str(as_of), "--quiet"]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / f"night-{as_of}.log", "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=refresh_env(home, csv_dir, tickers), cwd=home, stdout=log, stderr=log)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stages = json.loads(report.read_text())["stages"] if report.is_file() else []
    night = {
        "label": label,
        "as_of": str(as_of),
        "exit": child.returncode,
        "wall": wall,
        "peak_rss": usage.ru_maxrss * 1024,
        "lake_added": folder_bytes(lake) - before[0],
        "catalog_added": catalog_bytes(home) - before[1],
        "stages": stages,
        "rows": rows_written(home) if child.returncode in (0, 2) else {},
    }
    print(
        f"  {label:<12} as of {as_of}  exit {child.returncode}  {wall:7.1f} s  peak RSS {_gb(night['peak_rss'])}  "
        f"lake +{_mb(night['lake_added'])}  catalog +{_mb(night['catalog_added'])}",
        flush=True,
    )
    return night


def results_equal_full(home: Path, as_of) -> list[str]:
    """The stored result tables against run_study over the stored prices (empty: equal)."""
    import polars as pl

    from benchmarks.equivalence import compare_frames
    from surgewatch.settings import Settings
    from surgewatch.study import StudyParams, run_study
    from surgewatch.warehouse import Warehouse

    with Warehouse.open(Settings(_env_file=None, home=home), read_only=True) as wh:
        study = run_study(wh.prices(), StudyParams(), as_of=as_of)
        stored = {name: wh.sql(f"SELECT * FROM {name}") for name in ("month_end", "signal_events", "signal_summary")}
    computed = {
        "month_end": study.monthly,
        "signal_events": study.events,
        "signal_summary": pl.concat(
            [study.summary.with_columns(kind=pl.lit("events")), study.baseline.with_columns(kind=pl.lit("baseline"))],
            how="diagonal_relaxed",
        ),
    }
    keys = {
        "month_end": ["ticker", "month"],
        "signal_events": ["ticker", "month"],
        "signal_summary": ["ticker", "kind", "horizon"],
    }
    problems = []
    for name, frame in computed.items():
        common = [c for c in frame.columns if c in stored[name].columns]
        problems += compare_frames(name, stored[name].select(common), frame.select(common), keys[name])
    return problems


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


def _gb(n: float) -> str:
    return f"{n / GB:.2f} GB"


def _mb(n: float) -> str:
    return f"{n / MB:.1f} MB"


def _verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def print_nights(title: str, nights: list[dict]) -> None:
    print(f"\n{title}")
    print(
        f"{'night':<12}{'as of':>12}{'exit':>5}{'wall s':>9}{'peak RSS':>11}{'lake +':>11}{'catalog +':>11}  rows written (+inserted/-deleted)"
    )
    for n in nights:
        rows = ", ".join(f"{t} {v}" for t, v in n["rows"].items())
        print(
            f"{n['label']:<12}{n['as_of']:>12}{n['exit']:>5}{n['wall']:>9.1f}{_gb(n['peak_rss']):>11}"
            f"{_mb(n['lake_added']):>11}{_mb(n['catalog_added']):>11}  {rows}"
        )


def print_stages(night: dict) -> None:
    """Where a night's time goes: each timed stage, start/end since process start, RSS."""
    print(
        f"\nstages of the {night['label']} night as of {night['as_of']} (s since the process started; RSS at the stage's end)"
    )
    for s in night["stages"]:
        print(
            f"  {s['stage']:<40}{s['start']:>8.2f} → {s['end']:>7.2f}  ({s['end'] - s['start']:6.2f} s)  "
            f"RSS {_gb(s['rss'])}  peak {_gb(s['peak_rss'])}"
        )


def run_universe(args, years: int, workdir: Path) -> dict:
    label = f"{args.tickers} × {years} y"
    print(f"\n== {label}: writing the universe's CSV files", flush=True)
    csv_dir = workdir / f"csv-{args.tickers}x{years}-s{args.seed}"
    tickers = write_universe(csv_dir, args.tickers, years, args.seed)
    home = workdir / f"home-{args.tickers}x{years}"
    if home.exists():
        import shutil

        shutil.rmtree(home)
    dates = night_dates(years, args.nights)
    print(f"== {label}: first load as of {dates[0]}, then {args.nights} next night(s)", flush=True)
    nights = [run_night(home, csv_dir, tickers, dates[0], "first load")]
    nights += [run_night(home, csv_dir, tickers, d, f"next {i}") for i, d in enumerate(dates[1:], start=1)]
    problems = results_equal_full(home, dates[-1]) if all(n["exit"] == 0 for n in nights) else ["a night failed"]
    print_nights(label, nights)
    print_stages(nights[-1])
    return {"label": label, "nights": nights, "problems": problems, "home": home}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--short-years", type=int, default=3, help="the same nights on a short history (0: skip)")
    parser.add_argument("--nights", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--year-nights", type=int, default=252, help="nights of the simulated year (0: skip)")
    parser.add_argument("--year-tickers", type=int, default=200)
    parser.add_argument("--keep-days", type=int, default=90)
    # Outside the checkout, and kept between runs: the CSV universes take minutes to write.
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "surgewatch-bench-nightly")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"bench-nightly: {args.tickers} tickers × {args.years} y (and × {args.short_years} y), {args.nights} next nights; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )

    long = run_universe(args, args.years, workdir)
    short = run_universe(args, args.short_years, workdir) if args.short_years else None
    year = None
    if args.year_nights:
        from benchmarks.nightly_year import simulate_year

        print(f"\n== simulated year: {args.year_nights} nights on {args.year_tickers} × {args.years} y", flush=True)
        csv_dir = workdir / f"csv-{args.year_tickers}x{args.years}-s{args.seed}"
        tickers = write_universe(csv_dir, args.year_tickers, args.years, args.seed)
        year = simulate_year(
            workdir / "year",
            csv_dir,
            tickers,
            args.years,
            args.year_nights,
            args.keep_days,
            env=refresh_env(workdir / "year", csv_dir, tickers),
        )

    next_long = long["nights"][1:]
    first = long["nights"][0]
    print("\n§4b targets (next nights: the worst of them; ratio: median wall, short ÷ long)")
    checks = [
        (
            f"next night wall <= {NIGHT_SECONDS:.0f} s",
            max(n["wall"] for n in next_long) <= NIGHT_SECONDS,
            f"{max(n['wall'] for n in next_long):.1f} s",
        ),
        (
            f"next night peak RSS <= {NIGHT_RSS / GB:.1f} GB",
            max(n["peak_rss"] for n in next_long) <= NIGHT_RSS,
            _gb(max(n["peak_rss"] for n in next_long)),
        ),
        (
            f"next night adds <= {NIGHT_BYTES / MB:.0f} MB",
            max(n["lake_added"] + n["catalog_added"] for n in next_long) <= NIGHT_BYTES,
            _mb(max(n["lake_added"] + n["catalog_added"] for n in next_long)) + " (data files + catalog)",
        ),
    ]
    if short:
        ratio = statistics.median(n["wall"] for n in short["nights"][1:]) / statistics.median(
            n["wall"] for n in next_long
        )
        checks.append(
            (f"cost does not grow with history (ratio >= {GROWTH_RATIO:.2f})", ratio >= GROWTH_RATIO, f"{ratio:.2f}")
        )
    checks += [
        ("results equal a full recomputation", not long["problems"], "; ".join(long["problems"][:3]) or "equal"),
        (f"first load wall <= {FIRST_SECONDS:.0f} s", first["wall"] <= FIRST_SECONDS, f"{first['wall']:.1f} s"),
        (f"first load peak RSS <= {FIRST_RSS / GB:.0f} GB", first["peak_rss"] <= FIRST_RSS, _gb(first["peak_rss"])),
    ]
    if year:
        ratio = year["lake_after_year"] / year["lake_fresh"]
        figure = (
            f"{ratio:.2f}× ({_mb(year['lake_after_year'])} vs {_mb(year['lake_fresh'])} after "
            f"{year['nights']} nights, {year['keep_versions']} versions kept; without upkeep "
            f"≈{_mb(year['lake_without_upkeep'])})"
        )
        checks.append(
            (f"a year of nights keeps the lake <= {STORAGE_RATIO}× a fresh load", ratio <= STORAGE_RATIO, figure)
        )
    for name, ok, figure in checks:
        print(f"  {_verdict(ok)}  {name:<58} {figure}")
    failed = any(n["exit"] not in (0,) for n in long["nights"] + (short["nights"] if short else []))
    return 1 if failed or long["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

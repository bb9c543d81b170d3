"""Benchmark: the nightly job on a synthetic universe, measured against SPEC §4b.

    python -m benchmarks.bench_nightly [--tickers 3000] [--years 30] [--short-years 3]
        [--nights 5] [--seed 7] [--year-nights 252] [--year-tickers 200] [--keep-days 90]
        [--bulk-years 3] [--workdir DIR] [--json FILE]

What it does, for the universe tickers × years and again for tickers × short-years:
1. writes the seeded universe (benchmarks.universe) as one TICKER.csv per ticker (not
   timed; kept in the work folder and reused while its parameters are the same);
2. runs the real flow: `surgewatch refresh --as-of D --quiet` with SURGEWATCH_SOURCE=csv
   and a SURGEWATCH_HOME of its own (PREFECT_HOME in the work folder), each night in a fresh process
   (benchmarks.nightly_child, which times the stages from the flow's progress marks).
   The nights are consecutive sessions chosen so that every kind of night is run
   (plan_nights): with the default 5 next nights, two mid-month nights, the night a
   month completes (its last session: the month-end stages run), the first night of
   the new month and one more mid-month night. The universe ends on the last of them;
   each next night adds one session, so it brings one new row per listed ticker;
3. per night: its kind, the 1-minute load average when it started (a night started at
   load >= LOADED is marked "(loaded)": its figures do not count), wall seconds
   (parent's clock, process start to exit), peak RSS (the kernel's high-water mark of
   the child and its waited-for children, from wait4), bytes added to the lake's data
   files and to the catalog, rows written per table in the night's version (DuckLake's
   own change feed, ducklake_table_changes: inserts and deletes), and then, one column
   per night, each stage's seconds and the highest RSS sampled during it;
4. checks that the stored result tables, signal_stats included, equal a full
   recomputation (run_study over the stored prices, compared value by value with
   benchmarks.equivalence);
5. the storage after a simulated year (benchmarks.nightly_year): `--year-nights` nights
   on a `--year-tickers` × years universe, each through the real flow (in one process,
   so Prefect's server starts once), with `surgewatch upkeep` weekly (every 5th night);
   because the nights pass in minutes, not months, the retention SURGEWATCH_KEEP_DAYS is
   applied by version count: the versions of the last round(keep_days × 252 / 365)
   nights are kept, older ones expired, and files are deleted without a grace period.
   The lake is then compared with a fresh full load of the same data.
6. the same nights of the `--bulk-years` universe (default: the short one) on the bulk
   source (benchmarks.bulk_nights): Polygon's format from the test suite's fake server,
   histories from the same files; it counts each night's requests (§4b: ≤ 5 whatever the
   universe's size) and compares the tables with that universe's csv nights.
Then it prints the figures and PASS/FAIL against every §4b target; `--json FILE` writes
every figure. Exit code 1 only when a night fails or the results differ from a full
recomputation; targets are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported late at run time: polars, pydantic and the study are slow to import
    import polars as pl

    from surgewatch.core.settings import Settings
    from surgewatch.core.params import StudyParams

REPO = Path(__file__).resolve().parents[1]
GB, MB = 1e9, 1e6
QUIET_LOAD = 1.2  # a night starts once the 1-minute load is below this (see settle)
NIGHT_SECONDS, NIGHT_RSS, NIGHT_BYTES, GROWTH_RATIO = 30.0, 1.5 * GB, 3 * MB, 2 / 3
FIRST_SECONDS, FIRST_RSS, STORAGE_RATIO = 90.0, 4 * GB, 1.3
SMALL_WITH_SERVER, SMALL_WITHOUT_SERVER = 5.0, 10.0  # a 3-ticker next night from the shell
# On 2 cores, a 1-minute load average from here on means another job shares them.
LOADED = 1.5
MID, COMPLETES, FIRST = "mid-month", "month completes", "first of month"


# --------------------------------------------------------------------------------------
# the universe as files, and the nights
# --------------------------------------------------------------------------------------


def write_universe(folder: Path, tickers: int, years: int, seed: int, end: dt.date | None = None) -> list[str]:
    """One TICKER.csv per ticker (date,open,high,low,close,adj_close,volume), the
    universe ending on `end` (default: the universe's DEFAULT_END); reused when a
    previous run wrote the same universe there."""
    from benchmarks.universe import DEFAULT_END, ticker_names

    end = end or DEFAULT_END
    names = ticker_names(tickers)
    stamp = folder / ".universe.json"
    wanted = {"tickers": tickers, "years": years, "seed": seed, "end": str(end)}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return names
    folder.mkdir(parents=True, exist_ok=True)
    # In a process of its own: Linux carries a process's peak RSS across fork and exec,
    # so a parent that held the universe would hand its peak to every night it starts.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(_write_files, (folder, tickers, years, seed, end))
    stamp.write_text(json.dumps(wanted))
    return names


def _write_files(folder: Path, tickers: int, years: int, seed: int, end: dt.date) -> None:
    from benchmarks.universe import generate_universe

    universe = generate_universe(tickers, years, seed=seed, end=end)
    for (ticker,), frame in universe.partition_by("ticker", as_dict=True, maintain_order=True).items():
        frame.drop("ticker").write_csv(folder / f"{ticker}.csv")


def csv_folder(workdir: Path, tickers: int, years: int, seed: int, end: dt.date) -> Path:
    # The end in the name: the nights' universe and the simulated year's may otherwise
    # share a folder and rewrite each other's files on every run.
    return workdir / f"csv-{tickers}x{years}-s{seed}-to{end:%Y%m%d}"


def session_kinds(sessions: list[dt.date]) -> list[str]:
    """Each session's kind of night, from its neighbours: a month's last session
    completes it, its first opens it. The list must hold whole months (nyse_sessions's),
    so that its own first and last sessions are a month's first and last."""
    kinds = []
    for i, day in enumerate(sessions):
        if i + 1 == len(sessions) or sessions[i + 1].month != day.month:
            kinds.append(COMPLETES)
        elif i == 0 or sessions[i - 1].month != day.month:
            kinds.append(FIRST)
        else:
            kinds.append(MID)
    return kinds


def plan_nights(nights: int, end: dt.date | None = None) -> list[tuple[dt.date, str]]:
    """(as-of date, kind): the first load, then `nights` next nights on consecutive
    sessions up to `end` (default DEFAULT_END), placed so that the night a month
    completes comes after max(1, (nights - 1) // 2) next nights (at once when nights is
    1): mid-month ones, and from 4 nights on the first night of the new month and a
    mid-month night follow it. The last month that fits before `end` is taken, so the
    universe ends a few sessions into a month (on `end` itself when nights is 1)."""
    from benchmarks.universe import DEFAULT_END
    from surgewatch.core.calendar import nyse_sessions

    if nights < 1:
        raise ValueError(f"need at least one next night, got {nights}")
    end = end or DEFAULT_END
    before = max(1, (nights - 1) // 2) if nights > 1 else 0
    after = nights - 1 - before
    # Whole months (nyse_sessions), so the last listed session's kind is known too.
    sessions = nyse_sessions(end - dt.timedelta(days=2 * nights + 62), end)["date"].to_list()
    kinds = session_kinds(sessions)
    last = max(i for i, day in enumerate(sessions) if day <= end)
    for month_end in range(last - after, before, -1):
        if kinds[month_end] == COMPLETES:
            first = month_end - before - 1
            return list(zip(sessions[first : month_end + after + 1], kinds[first : month_end + after + 1]))
    raise AssertionError("unreachable: the sessions span two month ends")


def settle(quiet: float = QUIET_LOAD, patience: float = 240.0) -> float:
    """Wait (at most `patience` s) for the 1-minute load to fall below `quiet`: the last
    night's own work keeps it high for a minute, and a figure taken above LOADED does
    not count. Returns the load the night starts at."""
    deadline = time.monotonic() + patience
    while load_average() >= quiet and time.monotonic() < deadline:
        time.sleep(5)
    return load_average()


def load_average() -> float:
    return os.getloadavg()[0]


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


def _settings(home: Path) -> Settings:
    """The warehouse's settings, from home alone: no .env file of the caller's."""
    from surgewatch.core.settings import Settings

    return Settings(_env_file=None, home=home)  # type: ignore[call-arg]  # pydantic-settings' init-only option


def rows_written(home: Path) -> dict[str, str]:
    """Rows inserted / deleted per table by the latest version (DuckLake's change feed)."""
    from surgewatch.warehouse.catalog import Catalog
    from surgewatch.warehouse.extensions import connect

    catalog = Catalog.from_settings(_settings(home))
    con = connect(catalog.extensions)
    try:
        con.execute(catalog.attach_sql(read_only=True))
        (snapshot,) = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone() or (None,)
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


def run_night(
    home: Path, csv_dir: Path, tickers: list[str], as_of: dt.date, label: str, kind: str, env: dict | None = None
) -> dict:
    """One `surgewatch refresh --as-of` in a fresh process (env: refresh_env's by default); its figures."""
    lake = home / "lake"
    before = folder_bytes(lake), catalog_bytes(home)
    report = home / f"night-{as_of}.json"
    argv = [sys.executable, "-m", "benchmarks.nightly_child", str(report), "refresh", "--as-of", str(as_of), "--quiet"]
    home.mkdir(parents=True, exist_ok=True)
    load = settle()
    with open(home / f"night-{as_of}.log", "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env or refresh_env(home, csv_dir, tickers), cwd=home, stdout=log, stderr=log)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    document = json.loads(report.read_text()) if report.is_file() else {}
    night = {
        "label": label,
        "kind": kind,
        "as_of": str(as_of),
        "load": round(load, 2),
        "loaded": load >= LOADED,
        "exit": child.returncode,
        "wall": wall,
        "child_seconds": document.get("seconds"),
        "peak_rss": usage.ru_maxrss * 1024,
        "lake_added": folder_bytes(lake) - before[0],
        "catalog_added": catalog_bytes(home) - before[1],
        "stages": document.get("stages", []),
        "rows": rows_written(home) if child.returncode in (0, 2) else {},
    }
    print(
        f"  {_night_name(night):<22} {kind:<16} as of {as_of}  load {load:4.1f}  exit {child.returncode}  "
        f"{wall:7.1f} s  peak RSS {_gb(night['peak_rss'])}  "
        f"lake {_mb(night['lake_added'], sign=True)}  catalog {_mb(night['catalog_added'], sign=True)}",
        flush=True,
    )
    return night


def results_equal_full(home: Path, as_of: dt.date) -> list[str]:
    """The stored result tables against run_study over the stored prices (empty: equal)."""
    import polars as pl

    from benchmarks.equivalence import compare_frames
    from surgewatch.core.params import StudyParams
    from surgewatch.study.run import run_study
    from surgewatch.warehouse import Warehouse

    names = ("month_end", "signal_events", "signal_summary", "signal_stats")
    with Warehouse.open(_settings(home), read_only=True) as wh:
        stored = {name: wh.sql(f"SELECT * FROM {name}") for name in names}
        study = run_study(wh.prices(), _published_params(stored["signal_stats"]) or StudyParams(), as_of=as_of)
    computed = {
        "month_end": study.monthly,
        "signal_events": study.events,
        "signal_summary": pl.concat(
            [study.summary.with_columns(kind=pl.lit("events")), study.baseline.with_columns(kind=pl.lit("baseline"))],
            how="diagonal_relaxed",
        ),
        "signal_stats": study.stats,
    }
    keys = {
        "month_end": ["ticker", "month"],
        "signal_events": ["ticker", "month"],
        "signal_summary": ["ticker", "kind", "horizon"],
        "signal_stats": ["ticker", "horizon"],
    }
    problems = []
    for name, frame in computed.items():
        # The stored tables add lineage (run_id) and, in signal_stats, the parameters.
        common = [c for c in frame.columns if c in stored[name].columns]
        problems += compare_frames(name, stored[name].select(common), frame.select(common), keys[name])
    return problems


def _published_params(stats: pl.DataFrame) -> StudyParams | None:
    """The StudyParams the stored signal_stats were drawn with (None: no single set), so
    that the recomputation asks what the flow asked, whatever its settings were."""
    from surgewatch.core.params import StudyParams

    columns = ["threshold", "direction", "basis", "resamples", "seed"]
    if stats.height == 0 or not set(columns) <= set(stats.columns):
        return None
    used = stats.select(columns).unique()
    if used.height != 1:
        return None
    row = used.row(0, named=True)
    horizons = tuple(sorted(stats["horizon"].unique().to_list()))
    return StudyParams(horizons=horizons, **row)


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


def _gb(n: float) -> str:
    return f"{n / GB:.2f} GB"


def _mb(n: float, sign: bool = False) -> str:
    return f"{n / MB:{'+' if sign else ''}.1f} MB"


def _verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def _night_name(night: dict) -> str:
    return night["label"] + (" (loaded)" if night["loaded"] else "")


def print_nights(title: str, nights: list[dict]) -> None:
    print(f"\n{title} (a night started at load >= {LOADED} is marked (loaded): its figures do not count)")
    print(
        f"{'night':<22}{'kind':<16}{'as of':>11}{'load':>6}{'exit':>5}{'wall s':>9}{'peak RSS':>11}{'lake +':>11}"
        f"{'catalog +':>11}  rows written (+inserted/-deleted)"
    )
    for n in nights:
        rows = ", ".join(f"{t} {v}" for t, v in n["rows"].items())
        print(
            f"{_night_name(n):<22}{n['kind']:<16}{n['as_of']:>11}{n['load']:>6.1f}{n['exit']:>5}{n['wall']:>9.1f}"
            f"{_gb(n['peak_rss']):>11}{_mb(n['lake_added']):>11}{_mb(n['catalog_added']):>11}  {rows}"
        )


def stage_rows(nights: list[dict]) -> list[tuple[str, int]]:
    """The stages of all nights as rows, in run order: (step, its occurrence in the night).
    Nights may set different marks (the month-end stages only when a month completes),
    so each night's rows are merged in after the rows it shares with the nights before."""
    order: list[tuple[str, int]] = []
    for night in nights:
        position = 0
        for key in _stage_keys(night):
            if key in order:
                position = order.index(key) + 1
            else:
                order.insert(position, key)
                position += 1
    return order


def _stage_keys(night: dict) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    keys = []
    for stage in night["stages"]:
        step = stage.get("step", stage["stage"])
        seen[step] = seen.get(step, 0) + 1
        keys.append((step, seen[step]))
    return keys


def print_stages(nights: list[dict]) -> None:
    """Where each night's time and memory go, one column per night: each stage's seconds
    and the highest RSS sampled during it; * marks the stage that set the night's peak."""
    rows = stage_rows(nights)
    by_night = [dict(zip(_stage_keys(n), n["stages"])) for n in nights]
    labels = {}
    for key in rows:
        names = {stages[key]["stage"] for stages in by_night if key in stages}
        labels[key] = names.pop() if len(names) == 1 else key[0]
    width = max([len(v) for v in labels.values()] + [36]) + 2
    cell = max([len(_night_name(n)) for n in nights] + [16]) + 2
    print("\nstages: seconds, and the highest RSS sampled during the stage (* the stage that set the process's peak)")
    for header in (
        [_night_name(n) for n in nights],
        [n["kind"] for n in nights],
        [n["as_of"] for n in nights],
        [f"load {n['load']:.1f}" for n in nights],
    ):
        print(" " * width + "".join(f"{h:>{cell}}" for h in header))
    for key in rows:
        cells = []
        for night, stages in zip(nights, by_night):
            stage = stages.get(key)
            cells.append(_stage_cell(stage, night) if stage else "—")
        print(f"{labels[key]:<{width}}" + "".join(f"{c:>{cell}}" for c in cells))
    after = [f"{n['wall'] - n['child_seconds']:6.2f}" if n.get("child_seconds") is not None else "—" for n in nights]
    # Under the seconds of the cells above: a cell ends with " {MB:6.0f}M" and a marker.
    print(f"{'after the report (interpreter exit)':<{width}}" + "".join(f"{c:>{cell - 9}}{'':9}" for c in after))
    print(f"{'wall, peak RSS (wait4)':<{width}}" + "".join(f"{_wall_cell(n):>{cell}}" for n in nights))


def _stage_cell(stage: dict, night: dict) -> str:
    peak = max(s["peak_rss"] for s in night["stages"])
    sets_peak = stage["peak_rss"] == peak and stage.get("peak_rss_start", 0) < peak
    during = stage.get("peak_rss_during", stage["rss"])
    return f"{stage['end'] - stage['start']:6.2f} {during / MB:6.0f}M{'*' if sets_peak else ' '}"


def _wall_cell(night: dict) -> str:
    return f"{night['wall']:6.2f} {night['peak_rss'] / MB:6.0f}M "


def run_universe(args: argparse.Namespace, years: int, workdir: Path) -> dict:
    label = f"{args.tickers} × {years} y"
    plan = plan_nights(args.nights)
    end = plan[-1][0]
    print(f"\n== {label}: writing the universe's CSV files (to {end}); load {load_average():.1f}", flush=True)
    csv_dir = csv_folder(workdir, args.tickers, years, args.seed, end)
    tickers = write_universe(csv_dir, args.tickers, years, args.seed, end)
    home = workdir / f"home-{args.tickers}x{years}"
    if home.exists():
        import shutil

        shutil.rmtree(home)
    kinds = ", ".join(kind for _, kind in plan[1:])
    print(f"== {label}: first load as of {plan[0][0]}, then {args.nights} next night(s): {kinds}", flush=True)
    (first, first_kind), *nexts = plan
    nights = [run_night(home, csv_dir, tickers, first, "first load", first_kind)]
    nights += [run_night(home, csv_dir, tickers, d, f"next {i}", kind) for i, (d, kind) in enumerate(nexts, start=1)]
    if all(n["exit"] == 0 for n in nights):
        # In a process of its own, like the universe's files: the full recomputation holds
        # every price, and a parent that did would hand that peak to the next nights.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            problems = pool.apply(results_equal_full, (home, end))
    else:
        problems = ["a night failed"]
    print_nights(label, nights)
    print_stages(nights)
    universe = {"label": label, "years": years, "end": str(end), "nights": nights, "problems": problems}
    if args.bulk_years == years:
        from benchmarks.bulk_nights import bulk_nights

        print(f"== {label}: the same nights on the bulk source (polygon, fake server); load {load_average():.1f}")
        universe["bulk"] = bulk_nights(workdir, csv_dir, tickers, plan, home, run_night, refresh_env)
        print_nights(f"{label}, bulk source", universe["bulk"]["nights"])
    return universe


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
    parser.add_argument("--no-small-night", action="store_true", help="skip the 3-ticker night from the shell")
    parser.add_argument(
        "--bulk-years", type=int, default=3, help="also run the nights of this universe on the bulk source (0: skip)"
    )
    # Outside the checkout, and kept between runs: the CSV universes take minutes to write.
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "surgewatch-bench-nightly")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    if args.nights < 1:
        parser.error("--nights must be at least 1")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"bench-nightly: {args.tickers} tickers × {args.years} y (and × {args.short_years} y), {args.nights} next nights; "
        f"load average {load_average():.1f} on {os.cpu_count()} cores",
        flush=True,
    )

    long = run_universe(args, args.years, workdir)
    short = run_universe(args, args.short_years, workdir) if args.short_years else None
    year = None
    if args.year_nights:
        from benchmarks.nightly_year import simulate_year

        from benchmarks.universe import DEFAULT_END

        print(
            f"\n== simulated year: {args.year_nights} nights on {args.year_tickers} × {args.years} y; "
            f"load {load_average():.1f}",
            flush=True,
        )
        # nightly_year takes its nights from the end of session_grid(years): DEFAULT_END.
        csv_dir = csv_folder(workdir, args.year_tickers, args.years, args.seed, DEFAULT_END)
        tickers = write_universe(csv_dir, args.year_tickers, args.years, args.seed, DEFAULT_END)
        year = simulate_year(
            workdir / "year",
            csv_dir,
            tickers,
            args.years,
            args.year_nights,
            args.keep_days,
            env=refresh_env(workdir / "year", csv_dir, tickers),
        )

    small = None
    if not args.no_small_night:
        from benchmarks.small_night import small_nights

        print(f"\n== 3-ticker night from the shell (csv, shared data); load {load_average():.1f}", flush=True)
        small = small_nights(workdir)

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
    bulk = next((u["bulk"] for u in (long, short) if u and "bulk" in u), None)
    if bulk:
        from benchmarks.bulk_nights import BULK_REQUESTS

        asked = [n["requests"] for n in bulk["nights"][1:]]
        others = sum(n["other_requests"] for n in bulk["nights"][1:])
        figure = f"{max(asked)} (per night: {', '.join(map(str, asked))}; per-ticker requests: {others})"
        checks.append((f"bulk next night asks polygon <= {BULK_REQUESTS} times", max(asked) <= BULK_REQUESTS, figure))
        listed = [n["not_listed"] for n in bulk["nights"][1:]]
        checks.append(
            (
                "bulk nights' tables equal the per-ticker nights'",
                not bulk["differ"] and all(n["exit"] in (0, 2) and not n["other_failures"] for n in bulk["nights"]),
                ("equal" if not bulk["differ"] else f"differ: {', '.join(bulk['differ'])}")
                + f" ({min(listed)}–{max(listed)} tickers a night not listed, so failed alone: exit 2)",
            )
        )
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
    if small:
        for kind, limit in (("with", SMALL_WITH_SERVER), ("without", SMALL_WITHOUT_SERVER)):
            median = statistics.median(wall for _, wall in small[kind])
            loads = ", ".join(f"{load:.1f}" for load, _ in small[kind])
            figure = f"{median:.2f} s (median of {len(small[kind])}, loads {loads})"
            checks.append((f"3-ticker night {kind} a Prefect server <= {limit:.0f} s", median <= limit, figure))
    for name, ok, figure in checks:
        print(f"  {_verdict(ok)}  {name:<58} {figure}")
    every = long["nights"] + (short["nights"] if short else [])
    loaded = [
        f"{u['label']}: {', '.join(names)}"
        for u in (long, short)
        if u and (names := [n["label"] for n in u["nights"] if n["loaded"]])
    ]
    if loaded:
        print(f"  note: these nights started at load >= {LOADED}, so their figures do not count: {'; '.join(loaded)}")
    failed = any(n["exit"] not in (0,) for n in every)
    code = 1 if failed or long["problems"] else 0
    if args.json:
        figures = {
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "cores": os.cpu_count(),
            "universes": [u for u in (long, short) if u],
            "year": year,
            "small_night": small,
            "checks": [{"check": name, "ok": ok, "figure": figure} for name, ok, figure in checks],
            "exit_code": code,
        }
        args.json.write_text(json.dumps(figures, indent=1, default=str))
        print(f"figures written to {args.json}")
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the full study on a synthetic universe, engine vs plain pandas and DuckDB SQL.

    python -m benchmarks.bench_study [--tickers 3000] [--years 30] [--seed 7]
                                     [--pandas-tickers N] [--repeat 3]

What it does, in order:
1. generates the seeded universe (benchmarks.universe; not timed) and writes it to a
   Parquet file in a scratch folder;
2. runs each phase in a fresh subprocess that reads that file, so each phase's peak
   RSS is its own:
   - engine: surgewatch.study.run_study (all stages + pandera validation + the SPEC §2b
     figures, B = 10,000), the study of the issue: all tickers, threshold 0.10 up,
     horizons 1, 3, 6, 12, price basis; in the same process the floor: one polars pass
     summing the close column (over the in-memory frame, and scanning the Parquet file);
   - transforms: the same run_study with validation switched off (schemas' validate
     replaced by the identity), i.e. the transforms alone;
   - pandas: benchmarks.pandas_study on the same rows (or on the first --pandas-tickers
     tickers, its time then scaled linearly by rows, and said so in the output);
   - duckdb: benchmarks/duckdb_study.sql (window functions, no engine code) over the same
     rows loaded into an in-memory DuckDB table (loading not timed, like the engine's);
   engine phases: one cold run (first call in the process: builds the XNYS calendar),
   then the best of --repeat runs; the engine phase ends with one instrumented run that
   times each stage. duckdb: one cold run, then the best of --repeat runs. pandas: best
   of --pandas-repeat runs (default 1);
3. compares the engine's monthly, events, summary and baseline frames with pandas' and
   DuckDB's (benchmarks.equivalence: same keys, same nulls, floats within 1e-9 relative);
4. prints the figures and PASS/FAIL against the targets (engine <= 3 s, >= 20x faster
   than pandas, faster than DuckDB SQL, peak RSS <= 3 GB).

Peak RSS: each subprocess reads resource.getrusage(RUSAGE_SELF).ru_maxrss (the kernel's
high-water mark of its resident set) after its runs, before writing any output; it
includes the interpreter, the libraries and the input frame (also shown on its own: the
RSS right after loading it).

Exit code 1 only when the numbers differ; the targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS, TARGET_RATIO, TARGET_RSS_GB = 3.0, 20.0, 3.0
RESULT_FRAMES = ("monthly", "events", "summary", "baseline")
THRESHOLD, DIRECTION, HORIZONS, BASIS = 0.10, "up", (1, 3, 6, 12), "price"


# --------------------------------------------------------------------------------------
# child side: one phase per process
# --------------------------------------------------------------------------------------


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def _rss_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _stage_timer(times: dict[str, float]):
    """Wrap run_study's transforms, calendar and validate calls to time each one."""
    import surgewatch.study as study
    import surgewatch.transforms as tf

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    originals = {
        name: getattr(tf, name)
        for name in (
            "month_ends",
            "context_fields",
            "monthly_returns",
            "signal_events",
            "horizon_summary",
            "signal_stats",
            "missing_sessions",
        )
    }
    original_validate, original_sessions = study.validate, study.nyse_sessions
    for name, fn in originals.items():
        setattr(tf, name, timed(f"transform {name}", fn))
    study.validate = lambda frame, model, stage: timed(f"validate {stage}", original_validate)(frame, model, stage)
    study.nyse_sessions = timed("calendar nyse_sessions", original_sessions)

    def restore():
        for name, fn in originals.items():
            setattr(tf, name, fn)
        study.validate, study.nyse_sessions = original_validate, original_sessions

    return restore


def _run_engine_phase(args, validation: bool) -> dict:
    import polars as pl

    import surgewatch.study as study

    prices = pl.read_parquet(args.input)
    gc.collect()
    rss_input = _rss_bytes()
    if not validation:
        study.validate = lambda frame, model, stage: frame
    params = study.StudyParams(threshold=THRESHOLD, direction=DIRECTION, horizons=HORIZONS, basis=BASIS)
    start = time.perf_counter()
    result = study.run_study(prices, params)
    cold = time.perf_counter() - start
    runs, cpu = [], []
    for _ in range(args.repeat):
        del result
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = study.run_study(prices, params)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    stages: dict[str, float] = {}
    if validation:
        del result
        gc.collect()
        restore = _stage_timer(stages)
        start = time.perf_counter()
        result = study.run_study(prices, params)
        stages["total"] = time.perf_counter() - start
        restore()
    floor = _floor(prices, args.input, args.repeat) if validation else {}
    peak = _peak_rss_bytes()
    out = {
        "floor": floor,
        "rows": prices.height,
        "tickers": prices["ticker"].n_unique(),
        "months": result.monthly.height,
        "events": result.events.height,
        "provisional_events": int((~result.events["complete"]).sum()),
        "missing_sessions": result.missing_sessions.height,
        "cold": cold,
        "runs": runs,
        "cpu": cpu,
        "peak_rss": peak,
        "rss_input": rss_input,
        "stages": stages,
    }
    if validation:
        for name in RESULT_FRAMES:
            getattr(result, name).write_parquet(Path(args.out) / f"engine_{name}.parquet")
    return out


def _floor(prices, parquet: str, repeat: int) -> dict[str, float]:
    """Best seconds of one polars pass summing the close column: over the in-memory frame
    (where the engine starts) and scanning the Parquet file."""
    import polars as pl

    def best(run) -> float:
        times = []
        for _ in range(max(repeat, 1)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    return {
        "memory": best(lambda: prices.select(pl.col("close").sum())),
        "scan": best(lambda: pl.scan_parquet(parquet).select(pl.col("close").sum()).collect()),
    }


def _run_duckdb_phase(args) -> dict:
    from benchmarks.duckdb_study import connect, results, run

    con = connect(Path(args.input))
    rows, tickers = con.execute("SELECT count(*), count(DISTINCT ticker) FROM prices").fetchone()
    rss_input = _rss_bytes()
    start = time.perf_counter()
    run(con, THRESHOLD)
    cold = time.perf_counter() - start
    runs, cpu = [], []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(con, THRESHOLD)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = _peak_rss_bytes()
    for name, frame in results(con).items():
        frame.write_parquet(Path(args.out) / f"duckdb_{name}.parquet")
    con.close()
    return {
        "rows": rows,
        "tickers": tickers,
        "cold": cold,
        "runs": runs,
        "cpu": cpu,
        "peak_rss": peak,
        "rss_input": rss_input,
    }


def _run_pandas_phase(args) -> dict:
    import polars as pl

    from benchmarks.pandas_study import nyse_last_sessions, pandas_study, to_polars

    frame = pl.read_parquet(args.input)
    rows, tickers = frame.height, frame["ticker"].n_unique()
    last_sessions = nyse_last_sessions(frame["date"].min(), frame["date"].max())
    prices = frame.to_pandas()  # what a notebook would start from; not timed
    del frame
    gc.collect()
    rss_input = _rss_bytes()
    runs, cpu = [], []
    result = None
    for _ in range(args.pandas_repeat):
        del result
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = pandas_study(prices, last_sessions, THRESHOLD, DIRECTION, HORIZONS, BASIS)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = _peak_rss_bytes()
    for name, frame in to_polars(result).items():
        frame.write_parquet(Path(args.out) / f"pandas_{name}.parquet")
    return {"rows": rows, "tickers": tickers, "runs": runs, "cpu": cpu, "peak_rss": peak, "rss_input": rss_input}


def _child(args) -> None:
    if args.phase == "engine":
        stats = _run_engine_phase(args, validation=True)
    elif args.phase == "transforms":
        stats = _run_engine_phase(args, validation=False)
    elif args.phase == "duckdb":
        stats = _run_duckdb_phase(args)
    else:
        stats = _run_pandas_phase(args)
    (Path(args.out) / f"{args.phase}.json").write_text(json.dumps(stats))


# --------------------------------------------------------------------------------------
# parent side: generate, spawn, compare, print
# --------------------------------------------------------------------------------------


def _spawn(phase: str, parquet: Path, workdir: Path, args) -> dict:
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_study",
        "--phase",
        phase,
        "--input",
        str(parquet),
        "--out",
        str(workdir),
        "--repeat",
        str(args.repeat),
        "--pandas-repeat",
        str(args.pandas_repeat),
    ]
    load = os.getloadavg()[0]
    print(f"  running {phase} … (load average {load:.2f})", flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    stats = json.loads((workdir / f"{phase}.json").read_text())
    stats["wall"] = time.perf_counter() - start
    stats["load_before"] = load
    return stats


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def _best_cpu(stats: dict) -> float:
    """CPU seconds (user + sys, all threads) of the fastest run."""
    return stats["cpu"][stats["runs"].index(min(stats["runs"]))]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _compare(workdir: Path, peer: str, tickers: list[str] | None) -> tuple[list[str], dict[str, int]]:
    """The engine's frames against a peer's (pandas or duckdb), on the peer's tickers."""
    import polars as pl

    from benchmarks.equivalence import compare_results

    engine, reference = {}, {}
    for name in RESULT_FRAMES:
        frame = pl.read_parquet(workdir / f"engine_{name}.parquet")
        if tickers is not None:
            frame = frame.filter(pl.col("ticker").is_in(tickers))
        engine[name] = frame
        reference[name] = pl.read_parquet(workdir / f"{peer}_{name}.parquet")
    return compare_results(engine, reference), {name: engine[name].height for name in RESULT_FRAMES}


def _parent(args) -> int:
    import polars as pl

    from benchmarks.universe import generate_universe

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="surgewatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        print(
            f"surgewatch study benchmark: {args.tickers:,} tickers × {args.years} years, seed {args.seed}, "
            f"{os.cpu_count()} CPUs, polars {pl.__version__}"
        )
        start = time.perf_counter()
        universe = generate_universe(args.tickers, args.years, seed=args.seed)
        generated = time.perf_counter() - start
        full = workdir / "universe.parquet"
        universe.write_parquet(full)
        rows = universe.height
        print(
            f"universe: {rows:,} daily rows, {universe['date'].min()} … {universe['date'].max()}, "
            f"generated in {generated:.1f} s (not timed below), scratch folder {workdir}"
        )
        subset_tickers = None
        pandas_input = full
        if 0 < args.pandas_tickers < args.tickers:
            subset_tickers = universe["ticker"].unique().sort().head(args.pandas_tickers).to_list()
            subset = universe.filter(pl.col("ticker").is_in(subset_tickers))
            pandas_input = workdir / "universe_subset.parquet"
            subset.write_parquet(pandas_input)
            del subset
        del universe
        gc.collect()

        engine = _spawn("engine", full, workdir, args)
        transforms = _spawn("transforms", full, workdir, args)
        run_pandas = args.pandas_tickers != 0
        pandas = _spawn("pandas", pandas_input, workdir, args) if run_pandas else None
        duck = _spawn("duckdb", full, workdir, args)
        checks = {"duckdb": _compare(workdir, "duckdb", None)}
        if run_pandas:
            checks["pandas"] = _compare(workdir, "pandas", subset_tickers)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    best_engine, best_transforms = min(engine["runs"]), min(transforms["runs"])
    print()
    print(
        f"study: {engine['tickers']:,} tickers, {rows:,} daily rows → {engine['months']:,} ticker-months, "
        f"{engine['events']:,} events ({engine['provisional_events']} provisional), "
        f"{engine['missing_sessions']:,} missing sessions reported; threshold {THRESHOLD} {DIRECTION}, "
        f"horizons {list(HORIZONS)}, basis {BASIS}"
    )
    print()
    header = (
        f"{'phase':<44}{'rows':>12}{'best s':>9}{'cpu s':>8}{'cold s':>9}{'runs':>6}{'peak RSS':>11}"
        f"{'input RSS':>11}{'load':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, stats in (
        ("engine: run_study (incl. pandera validation)", engine),
        ("engine: transforms only (validation off)", transforms),
        ("DuckDB SQL (benchmarks/duckdb_study.sql)", duck),
    ):
        print(
            f"{label:<44}{stats['rows']:>12,}{min(stats['runs']):>9.2f}{_best_cpu(stats):>8.2f}{stats['cold']:>9.2f}"
            f"{len(stats['runs']):>6}{_gb(stats['peak_rss']):>11}{_gb(stats['rss_input']):>11}"
            f"{stats['load_before']:>7.1f}"
        )
    if pandas:
        best_pandas = min(pandas["runs"])
        label = "pandas reference" + (f" ({pandas['tickers']:,} tickers)" if subset_tickers else "")
        print(
            f"{label:<44}{pandas['rows']:>12,}{best_pandas:>9.2f}{_best_cpu(pandas):>8.2f}{'':>9}"
            f"{len(pandas['runs']):>6}{_gb(pandas['peak_rss']):>11}{_gb(pandas['rss_input']):>11}"
            f"{pandas['load_before']:>7.1f}"
        )
        if subset_tickers:
            pandas_seconds = best_pandas * rows / pandas["rows"]
            print(f"{'pandas, scaled linearly by rows to ' + format(rows, ',') + ' rows':<56}{pandas_seconds:>9.2f}")
            how = (
                f"pandas timed on a subset ({pandas['tickers']:,} of {args.tickers:,} tickers, "
                f"{pandas['rows']:,} rows) and scaled linearly by rows"
            )
        else:
            pandas_seconds = best_pandas
            how = "pandas timed on the full universe (no scaling)"
    print(
        "best s = wall seconds of the fastest run, cpu s = its CPU seconds (all threads), cold s = the first run\n"
        "in the process, input RSS = resident set right after loading the input, load = 1-minute load average\n"
        "when the phase started (other work on the machine inflates wall times)"
    )
    print()
    floor = engine["floor"]
    print(
        f"floor: one polars pass summing close over {rows:,} rows: {floor['memory'] * 1e3:.1f} ms in memory "
        f"(engine = {best_engine / floor['memory']:,.0f}× it), {floor['scan'] * 1e3:.1f} ms scanning the Parquet file "
        f"(engine = {best_engine / floor['scan']:,.1f}× it)"
    )
    print()
    _print_stages(engine["stages"])
    print()
    print("targets (engine = run_study incl. validation; transforms-only in brackets):")
    print(
        f"  engine time <= {TARGET_SECONDS:.0f} s        : {_verdict(best_engine <= TARGET_SECONDS)}  "
        f"{best_engine:.2f} s  [{_verdict(best_transforms <= TARGET_SECONDS)} {best_transforms:.2f} s]"
    )
    if pandas:
        ratio, ratio_t = pandas_seconds / best_engine, pandas_seconds / best_transforms
        print(
            f"  >= {TARGET_RATIO:.0f}x faster than pandas : {_verdict(ratio >= TARGET_RATIO)}  {ratio:.1f}x  "
            f"[{_verdict(ratio_t >= TARGET_RATIO)} {ratio_t:.1f}x]   ({how})"
        )
    else:
        print("  >= 20x faster than pandas : not measured (--pandas-tickers 0)")
    best_duck = min(duck["runs"])
    # The SQL has no §2b figures: the engine without them, from the instrumented run's stages.
    stats_seconds = sum(v for k, v in engine["stages"].items() if k.endswith("signal_stats"))
    print(
        f"  faster than DuckDB SQL    : {_verdict(best_engine < best_duck)}  DuckDB {best_duck:.2f} s = "
        f"{best_duck / best_engine:.2f}× the engine  [{_verdict(best_transforms < best_duck)} "
        f"{best_duck / best_transforms:.2f}×]   (engine without the §2b figures ≈ {best_engine - stats_seconds:.2f} s: "
        f"DuckDB = {best_duck / max(best_engine - stats_seconds, 1e-9):.2f}× it)"
    )
    rss_ok, rss_t_ok = engine["peak_rss"] <= TARGET_RSS_GB * 1e9, transforms["peak_rss"] <= TARGET_RSS_GB * 1e9
    print(
        f"  peak RSS <= {TARGET_RSS_GB:.0f} GB          : {_verdict(rss_ok)}  {_gb(engine['peak_rss'])}  "
        f"[{_verdict(rss_t_ok)} {_gb(transforms['peak_rss'])}]"
    )
    print()
    if not pandas:
        print("equivalence with pandas: not checked (--pandas-tickers 0)")
    failed = False
    for peer, (problems, compared) in checks.items():
        if problems:
            failed = True
            print(f"equivalence with {peer}: MISMATCH ({len(problems)} problems)")
            for line in problems:
                print("  " + line)
        else:
            print(
                f"equivalence with {peer}: SAME NUMBERS ("
                + ", ".join(f"{name} {n:,} rows" for name, n in compared.items())
                + "; floats within 1e-9 relative)"
            )
    return 1 if failed else 0


# One line per stage of run_study (the timer's names → the stage they belong to).
STAGES = {
    "validation": ("validate ",),
    "calendar": ("calendar ",),
    "month_ends (+ context_fields)": ("transform month_ends", "transform context_fields"),
    "monthly_returns": ("transform monthly_returns",),
    "events": ("transform signal_events",),
    "summary + baseline": ("transform horizon_summary",),
    "§2b stats (signal_stats)": ("transform signal_stats",),
    "missing_sessions": ("transform missing_sessions",),
}


def _print_stages(stages: dict[str, float]) -> None:
    stages = dict(stages)
    total = stages.pop("total")
    print("engine stages (one instrumented run_study, seconds):")
    for stage, prefixes in STAGES.items():
        seconds = sum(v for k, v in stages.items() if k.startswith(prefixes))
        print(f"  {stage:<40}{seconds:>8.2f}")
    print(f"  {'other (sort, null check, as_of filter, …)':<40}{total - sum(stages.values()):>8.2f}")
    print(f"  {'total':<40}{total:>8.2f}")
    print(
        "  validation by stage: "
        + ", ".join(f"{k[9:]} {v:.2f}" for k, v in stages.items() if k.startswith("validate "))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_study", description=__doc__.split("\n")[0])
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pandas-tickers",
        type=int,
        default=None,
        help="time pandas on the first N tickers and scale by rows (default: all; 0: skip pandas)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed engine runs after the cold one (best is kept)")
    parser.add_argument("--pandas-repeat", type=int, default=1, help="timed pandas runs (best is kept)")
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary scratch folder")
    parser.add_argument("--phase", choices=("engine", "transforms", "pandas", "duckdb"), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        _child(args)
        return 0
    if args.pandas_tickers is None:
        args.pandas_tickers = args.tickers
    return _parent(args)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the whole study on a synthetic universe, against plain pandas, DuckDB SQL
and, for the §2b figures, the per-ticker numpy loop an analyst would write.

    python -m benchmarks.bench_study [--tickers 3000] [--years 30] [--seed 7]
                                     [--pandas-tickers N] [--peer-tickers 60] [--repeat 3]
                                     [--json FILE]

What it does, in order:
1. generates the seeded universe (benchmarks.universe; not timed) and writes it to a
   Parquet file in a scratch folder;
2. runs each phase in a fresh subprocess that reads that file (benchmarks.study_phases),
   so each phase's peak RSS is its own:
   - engine: the study as every command runs it: surgewatch.study.run_study (every
     stage, pandera validation) and its §2b figures (StudyResult.stats, B = 10,000),
     threshold 0.10 up, horizons 1, 3, 6, 12, price basis; one cold run (builds the XNYS
     calendar), the best of --repeat, then one instrumented run timing each stage; in the
     same process the floor: one polars pass summing the close column;
   - core: the same run_study with validation off and no §2b figures: the stages the
     pandas and DuckDB peers also compute;
   - pandas: benchmarks.pandas_study (on the first --pandas-tickers tickers, scaled
     linearly by rows, and said so);
   - duckdb: benchmarks/duckdb_study.sql over the same rows in an in-memory table;
   - stats-peer: benchmarks.stats_peer, the §2b figures by a loop over tickers and
     horizons with one generator per ticker and a fixed B, on the first --peer-tickers
     tickers and scaled linearly by tickers (said so);
3. compares the engine's monthly, events, summary and baseline with pandas' and
   DuckDB's (benchmarks.equivalence), and its §2b figures with the loop's;
4. prints the figures, the 1-minute load average as each phase starts, PASS/FAIL against
   SPEC §4b (everything <= 3 s, core >= 20x pandas and >= 5x DuckDB, §2b >= 50x the
   loop, peak RSS <= 3 GB) and, with --json, writes them to FILE.

Exit code 1 only when the numbers differ; the targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.study_phases import (
    BASIS,
    DIRECTION,
    HORIZONS,
    PHASES,
    RESULT_FRAMES,
    SIGNIFICANCE_STAGES,
    THRESHOLD,
    run_phase,
)

REPO = Path(__file__).resolve().parents[1]
# SPEC §4b: everything <= 3 s and 3 GB; core >= 20x pandas and >= 5x DuckDB; §2b >= 50x the loop.
TARGET_SECONDS, TARGET_RATIO, TARGET_DUCKDB, TARGET_STATS, TARGET_RSS_GB = 3.0, 20.0, 5.0, 50.0, 3.0


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
        "--peer-tickers",
        str(args.peer_tickers),
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


def _compare_stats(workdir: Path) -> list[str]:
    """The per-ticker loop's §2b figures against the engine's, on the loop's tickers: the
    exact ones within 1e-9 relative; the random ones within their Monte Carlo error
    (four of its standard errors, from B = 10,000 draws; the engine's placebo_p also
    carries its stopping rule's ~10% relative error)."""
    import numpy as np
    import polars as pl

    peer = pl.read_parquet(workdir / "peer_stats.parquet")
    engine = pl.read_parquet(workdir / "engine_stats.parquet")
    joined = peer.join(engine, on=["ticker", "horizon"], suffix="_engine")
    problems = []
    for column in ("n", "excess", "win_p", "t_hac", "n_independent", "average_independent"):
        a, b = joined[column].to_numpy().astype(float), joined[f"{column}_engine"].to_numpy().astype(float)
        bad = ~(np.isclose(a, b, rtol=1e-9, atol=1e-12) | (np.isnan(a) & np.isnan(b)))
        problems += [
            f"{column}: {joined['ticker'][i]} {joined['horizon'][i]}M {a[i]!r} vs {b[i]!r}"
            for i in map(int, np.flatnonzero(bad)[:5])
        ]
    p, q = joined["placebo_p"].to_numpy().astype(float), joined["placebo_p_engine"].to_numpy().astype(float)
    err = 4 * np.sqrt(p * (1 - p) / 10_000) + 0.4 * p * np.sqrt(np.clip(1 - p, 0, 1))
    bad = ~((np.abs(p - q) <= err + 1e-4) | (np.isnan(p) & np.isnan(q)))
    problems += [
        f"placebo_p: {joined['ticker'][i]} {joined['horizon'][i]}M {p[i]:.4f} vs {q[i]:.4f}"
        for i in map(int, np.flatnonzero(bad)[:5])
    ]
    if len(joined) != len(peer):
        problems.append(f"{len(peer) - len(joined)} (ticker, horizon) rows of the loop are not in the engine's")
    return problems


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
        peer = _spawn("stats-peer", full, workdir, args)
        checks = {"duckdb": _compare(workdir, "duckdb", None)}
        if run_pandas:
            checks["pandas"] = _compare(workdir, "pandas", subset_tickers)
        stats_problems = _compare_stats(workdir)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    best_engine, core = min(engine["runs"]), min(transforms["runs"])
    stats_seconds = sum(v for k, v in engine["stages"].items() if k.endswith("signal_stats"))
    print()
    print(
        f"study: {engine['tickers']:,} tickers, {rows:,} daily rows → {engine['months']:,} ticker-months, "
        f"{engine['events']:,} events ({engine['provisional_events']} provisional), "
        f"{engine['missing_sessions']:,} missing sessions reported; threshold {THRESHOLD} {DIRECTION}, "
        f"horizons {list(HORIZONS)}, basis {BASIS}"
    )
    print()
    header = (
        f"{'phase':<52}{'rows':>12}{'best s':>9}{'cpu s':>8}{'cold s':>9}{'runs':>6}{'peak RSS':>11}"
        f"{'input RSS':>11}{'load':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, stats in (
        ("engine: the study as commands run it (all, §2b too)", engine),
        ("core: the peers' stages (no validation, no §2b)", transforms),
        ("DuckDB SQL (benchmarks/duckdb_study.sql)", duck),
    ):
        print(
            f"{label:<52}{stats['rows']:>12,}{min(stats['runs']):>9.2f}{_best_cpu(stats):>8.2f}{stats['cold']:>9.2f}"
            f"{len(stats['runs']):>6}{_gb(stats['peak_rss']):>11}{_gb(stats['rss_input']):>11}"
            f"{stats['load_before']:>7.1f}"
        )
    pandas_seconds = None
    if pandas:
        best_pandas = min(pandas["runs"])
        label = "pandas reference" + (f" ({pandas['tickers']:,} tickers)" if subset_tickers else "")
        print(
            f"{label:<52}{pandas['rows']:>12,}{best_pandas:>9.2f}{_best_cpu(pandas):>8.2f}{'':>9}"
            f"{len(pandas['runs']):>6}{_gb(pandas['peak_rss']):>11}{_gb(pandas['rss_input']):>11}"
            f"{pandas['load_before']:>7.1f}"
        )
        pandas_seconds = best_pandas * rows / pandas["rows"] if subset_tickers else best_pandas
        how = (
            f"pandas timed on {pandas['tickers']:,} of {args.tickers:,} tickers and scaled linearly by rows"
            if subset_tickers
            else "pandas timed on the full universe"
        )
    peer_seconds = min(peer["runs"]) * peer["of_tickers"] / peer["tickers"]
    label = f"§2b per-ticker numpy loop ({peer['tickers']:,} tickers)"
    print(
        f"{label:<52}{'':>12}{min(peer['runs']):>9.2f}{_best_cpu(peer):>8.2f}{'':>9}{1:>6}"
        f"{_gb(peer['peak_rss']):>11}{'':>11}{peer['load_before']:>7.1f}"
    )
    print(
        f"  … scaled linearly by tickers to {peer['of_tickers']:,}: {peer_seconds:.1f} s "
        "(one generator per ticker, fixed B = 10,000; sampled, not run on every ticker)"
    )
    print(
        "best s = wall seconds of the fastest run, cpu s = its CPU seconds (all threads), cold s = the first run\n"
        "in the process, input RSS = resident set right after loading the input, load = 1-minute load average\n"
        "when the phase started (a load >= 1.5 on this machine makes the figures no result)"
    )
    print()
    floor = engine["floor"]
    print(
        f"floor: one polars pass summing close over {rows:,} rows: {floor['memory'] * 1e3:.1f} ms in memory, "
        f"{floor['scan'] * 1e3:.1f} ms scanning the Parquet file (engine = {best_engine / floor['scan']:,.1f}× it)"
    )
    print()
    _print_stages(engine["stages"])
    _print_significance(engine["stages"], engine.get("stages_cpu", {}))
    print()
    best_duck = min(duck["runs"])
    print("targets (SPEC §4b):")
    print(
        f"  everything <= {TARGET_SECONDS:.0f} s          : {_verdict(best_engine <= TARGET_SECONDS)}  "
        f"{best_engine:.2f} s (§2b {stats_seconds:.2f} s of it, core {core:.2f} s)"
    )
    if pandas_seconds is not None:
        ratio = pandas_seconds / core
        print(
            f"  core >= {TARGET_RATIO:.0f}x pandas         : {_verdict(ratio >= TARGET_RATIO)}  {ratio:.1f}x   "
            f"({pandas_seconds:.2f} s; {how})"
        )
    else:
        print("  core >= 20x pandas         : not measured (--pandas-tickers 0)")
    print(
        f"  core >= {TARGET_DUCKDB:.0f}x DuckDB SQL      : {_verdict(best_duck / core >= TARGET_DUCKDB)}  "
        f"{best_duck / core:.1f}x   (DuckDB {best_duck:.2f} s)"
    )
    stats_ratio = peer_seconds / max(stats_seconds, 1e-9)
    print(
        f"  §2b >= {TARGET_STATS:.0f}x per-ticker loop : {_verdict(stats_ratio >= TARGET_STATS)}  {stats_ratio:.1f}x   "
        f"(loop {peer_seconds:.1f} s scaled, engine §2b {stats_seconds:.2f} s)"
    )
    rss_ok = engine["peak_rss"] <= TARGET_RSS_GB * 1e9
    print(f"  peak RSS <= {TARGET_RSS_GB:.0f} GB          : {_verdict(rss_ok)}  {_gb(engine['peak_rss'])}")
    print()
    if not pandas:
        print("equivalence with pandas: not checked (--pandas-tickers 0)")
    checks_run = [
        (
            name,
            problems,
            ", ".join(f"{frame} {n:,} rows" for frame, n in compared.items()) + "; floats within 1e-9 relative",
        )
        for name, (problems, compared) in checks.items()
    ]
    checks_run.append(
        (
            "the §2b loop",
            stats_problems,
            f"{peer['tickers']:,} tickers × {len(HORIZONS)} horizons; exact figures within 1e-9 relative, "
            "placebo_p within its Monte Carlo and stopping error",
        )
    )
    failed = False
    for name, problems, what in checks_run:
        if problems:
            failed = True
            print(f"equivalence with {name}: MISMATCH ({len(problems)} problems)")
            for line in problems:
                print("  " + line)
        else:
            print(f"equivalence with {name}: SAME NUMBERS ({what})")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "tickers": engine["tickers"],
                    "rows": rows,
                    "engine_s": best_engine,
                    "engine_cpu_s": _best_cpu(engine),
                    "stats_s": stats_seconds,
                    "core_s": core,
                    "pandas_s": pandas_seconds,
                    "duckdb_s": best_duck,
                    "stats_peer_s": peer_seconds,
                    "peak_rss_gb": engine["peak_rss"] / 1e9,
                    "same_numbers": not failed,
                    "load": {
                        p: s["load_before"]
                        for p, s in (("engine", engine), ("core", transforms), ("duckdb", duck), ("stats_peer", peer))
                    }
                    | ({"pandas": pandas["load_before"]} if pandas else {}),
                },
                indent=2,
            )
        )
        print(f"figures written to {args.json}")
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


def _print_significance(stages: dict[str, float], cpu: dict[str, float]) -> None:
    """The §2b stages inside signal_stats (SPEC §2b figures), wall and CPU seconds."""
    print("§2b stages (inside transform signal_stats; wall summed over threads, CPU of the process):")
    print(f"  {'stage':<40}{'wall':>8}{'cpu':>8}")
    for key, _, _ in SIGNIFICANCE_STAGES:
        print(f"  {key[3:]:<40}{stages.get(key, 0.0):>8.2f}{cpu.get(key, 0.0):>8.2f}")
    means = (
        stages.get("2b bootstrap (all)", 0)
        - stages.get("2b bootstrap draws", 0)
        - stages.get("2b bootstrap percentile cuts", 0)
    )
    if means >= 0:
        print(f"  {'bootstrap means (the rest of bootstrap)':<40}{means:>8.2f}")
    else:  # its event counts ran on two threads: the walls of its stages add up past its own
        print(f"  {'bootstrap means (the rest of bootstrap)':<40}{'n/a: its stages ran side by side':>34}")


def _print_stages(stages: dict[str, float]) -> None:
    stages = {k: v for k, v in stages.items() if not k.startswith("2b ")}
    total = stages.pop("total")
    print("engine stages (one instrumented run_study, wall seconds of each; stages on two threads overlap):")
    for stage, prefixes in STAGES.items():
        seconds = sum(v for k, v in stages.items() if k.startswith(prefixes))
        print(f"  {stage:<40}{seconds:>8.2f}")
    rest = total - sum(stages.values())
    label = "other (sort, null check, as_of filter, …)" if rest >= 0 else "overlap (stages side by side)"
    print(f"  {label:<40}{rest:>8.2f}")
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
    parser.add_argument("--peer-tickers", type=int, default=60, help="tickers the §2b per-ticker loop runs on (scaled)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return 0
    if args.pandas_tickers is None:
        args.pandas_tickers = args.tickers
    return _parent(args)


if __name__ == "__main__":
    sys.exit(main())

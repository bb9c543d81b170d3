"""The child side of `make bench`: one phase per process, so that each phase's peak RSS
is its own (see bench_study's docstring for what each phase runs)."""

from __future__ import annotations

import gc
import json
import resource
import time
from pathlib import Path

THRESHOLD, DIRECTION, HORIZONS, BASIS = 0.10, "up", (1, 3, 6, 12), "price"
RESULT_FRAMES = ("monthly", "events", "summary", "baseline")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def _rss_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


# The §2b stages (SPEC §2b figures, transforms.significance and transforms.resampling),
# timed where the study calls them: (key, module, function). Bootstrap means are what
# bootstrap_ci spends beyond its draws and percentile cuts; placebo rounds likewise.
SIGNIFICANCE_STAGES = (
    ("2b forward returns of the family", "significance", "with_forward_returns"),
    ("2b populations", "significance", "populations"),
    ("2b bootstrap (all)", "significance", "bootstrap_ci"),
    ("2b bootstrap draws", "resampling", "_bootstrap_counts"),
    ("2b bootstrap percentile cuts", "resampling", "percentiles"),
    ("2b placebo (all)", "significance", "placebo"),
    ("2b placebo draws", "resampling", "placebo_rounds"),
    ("2b win_p", "significance", "win_p"),
    ("2b HAC t", "significance", "t_hac"),
    ("2b independent episodes", "significance", "independent"),
    ("2b excess", "significance", "excess"),
    ("2b q-values", "significance", "q_values"),
)


def _stage_timer(times: dict[str, float], cpu: dict[str, float] | None = None):
    """Wrap run_study's transforms, calendar and validate calls, and the §2b stages, to
    time each one (wall into `times`, CPU into `cpu`; a stage run on threads adds up
    each thread's wall time)."""
    import surgewatch.study.run as study
    import surgewatch.transforms as tf
    import surgewatch.transforms.resampling as resampling
    import surgewatch.transforms.significance as significance

    cpu = {} if cpu is None else cpu

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - start
                cpu[name] = cpu.get(name, 0.0) + time.process_time() - start_cpu

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
    modules = {"significance": significance, "resampling": resampling}
    deep = [(modules[m], f, getattr(modules[m], f)) for _, m, f in SIGNIFICANCE_STAGES]
    original_validate, original_sessions = study.validate, study.nyse_sessions
    for name, fn in originals.items():
        setattr(tf, name, timed(f"transform {name}", fn))
    for (key, _, _), (module, name, fn) in zip(SIGNIFICANCE_STAGES, deep):
        setattr(module, name, timed(key, fn))
    study.validate = lambda frame, model, stage: timed(f"validate {stage}", original_validate)(frame, model, stage)
    study.nyse_sessions = timed("calendar nyse_sessions", original_sessions)

    def restore():
        for name, fn in originals.items():
            setattr(tf, name, fn)
        for module, name, fn in deep:
            setattr(module, name, fn)
        study.validate, study.nyse_sessions = original_validate, original_sessions

    return restore


def _run_engine_phase(args, validation: bool) -> dict:
    import polars as pl

    import surgewatch.study.run as study

    prices = pl.read_parquet(args.input)
    gc.collect()
    rss_input = _rss_bytes()
    if not validation:
        study.validate = lambda frame, model, stage: frame
    params = study.StudyParams(threshold=THRESHOLD, direction=DIRECTION, horizons=HORIZONS, basis=BASIS)

    def full_study():
        # As the `study` command runs it: the §2b figures are part of the study (validation
        # phase), not of the transforms-only phase the peers are compared with.
        return study.run_study(prices, params, with_stats=validation)

    start = time.perf_counter()
    result = full_study()
    cold = time.perf_counter() - start
    runs, cpu = [], []
    for _ in range(args.repeat):
        del result
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = full_study()
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    if validation:
        del result
        gc.collect()
        restore = _stage_timer(stages, stages_cpu)
        start = time.perf_counter()
        result = full_study()
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
        "stages_cpu": stages_cpu,
    }
    if validation:
        for name in RESULT_FRAMES:
            getattr(result, name).write_parquet(Path(args.out) / f"engine_{name}.parquet")
        result.stats.write_parquet(Path(args.out) / "engine_stats.parquet")
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


def _run_stats_peer_phase(args) -> dict:
    """The per-ticker loop on the first --peer-tickers tickers (monthly and events from
    the engine, not timed), B = 10,000, seed 0."""
    import polars as pl

    import surgewatch.study.run as study
    from benchmarks.stats_peer import peer_stats

    prices = pl.read_parquet(args.input)
    tickers = prices["ticker"].n_unique()
    sample = prices["ticker"].unique().sort().head(args.peer_tickers).to_list()
    params = study.StudyParams(threshold=THRESHOLD, direction=DIRECTION, horizons=HORIZONS, basis=BASIS)
    result = study.run_study(prices.filter(pl.col("ticker").is_in(sample)), params)
    del prices
    start, start_cpu = time.perf_counter(), time.process_time()
    figures = peer_stats(result.monthly, result.events, HORIZONS, params.resamples, params.seed)
    runs, cpu = [time.perf_counter() - start], [time.process_time() - start_cpu]
    figures.write_parquet(Path(args.out) / "peer_stats.parquet")
    return {"tickers": len(sample), "of_tickers": tickers, "runs": runs, "cpu": cpu, "peak_rss": _peak_rss_bytes()}


PHASES = {
    "engine": lambda args: _run_engine_phase(args, validation=True),
    "transforms": lambda args: _run_engine_phase(args, validation=False),
    "duckdb": _run_duckdb_phase,
    "pandas": _run_pandas_phase,
    "stats-peer": _run_stats_peer_phase,
}


def run_phase(args) -> None:
    """One phase in this process; its figures go to OUT/<phase>.json."""
    (Path(args.out) / f"{args.phase}.json").write_text(json.dumps(PHASES[args.phase](args)))

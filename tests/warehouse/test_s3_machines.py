"""Two machines, one warehouse: the catalog on PostgreSQL and the data files in an S3
bucket, both real servers on loopback. Each "machine" is its own process with its own
SURGEWATCH_HOME and its own copy of the csv prices (no local file is shared); they refresh
on alternate nights, and each night the other machine fires at the same moment too (two
schedulers racing), so only the PostgreSQL advisory lock keeps them apart. A reader on a
third home reads all along, and afterwards reads every version with --snapshot.

About 2 minutes on an idle machine (a Prefect server, 8 refreshes, ~10 reads with
--snapshot); 20+ minutes on a machine loaded 30x over. Marked slow.
"""

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from surgewatch.core.settings import Settings
from surgewatch.warehouse import Warehouse
from tests.reliability.helpers import (
    AFTER,
    BEFORE,
    CROSSING,
    DAYS,
    expected_prices,
    rows_lost,
    surge_bars,
    version_problems,
    write_csvs,
)
from tests.reliability.reader import PICTURE
from tests.warehouse.s3_server import SECRET

REPO = Path(__file__).resolve().parents[2]
SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")
TICKERS = ["AAA", "BBB"]
NIGHTS = [BEFORE, CROSSING, AFTER, DAYS[DAYS.index(AFTER) + 1]]


@pytest.mark.slow
def test_two_machines_refresh_one_warehouse_on_alternate_nights(
    postgres_server, s3_server, prefect_server, tmp_path, record_property
):
    _, server_env = prefect_server
    bucket = s3_server.bucket("sw-two-machines")
    shared = {
        **server_env,
        **s3_server.env(f"s3://{bucket}/lake/"),
        "SURGEWATCH_CATALOG": "postgres:" + postgres_server.create_database("sw_two_machines"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    bars = surge_bars()
    machines = [
        {
            **shared,
            "SURGEWATCH_HOME": str(tmp_path / name / "home"),
            "SURGEWATCH_SOURCE": "csv",
            "SURGEWATCH_TICKERS": ",".join(TICKERS),
            "SURGEWATCH_CSV_DIR": str(write_csvs(tmp_path / name / "prices", TICKERS, bars)),
        }
        for name in ("machine-a", "machine-b")
    ]
    reader_home = tmp_path / "reader" / "home"
    reader_env = {**shared, "SURGEWATCH_HOME": str(reader_home)}
    reads_out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    outcomes = []
    reader = None
    try:
        for i, night in enumerate(NIGHTS):
            # Tonight's machine, and the other one racing it.
            order = [machines[i % 2], machines[(i + 1) % 2]]
            outs = [tmp_path / f"{night}-{k}.txt" for k in range(2)]
            with outs[0].open("w") as first, outs[1].open("w") as second:
                procs = [
                    subprocess.Popen(
                        [SURGEWATCH, "refresh", "--as-of", str(night)], env=env, stdout=sink, stderr=subprocess.STDOUT
                    )
                    for env, sink in zip(order, (first, second))
                ]
                codes = [proc.wait(timeout=600) for proc in procs]
            outcomes.append([(code, out.read_text(errors="replace")) for code, out in zip(codes, outs)])
            if reader is None:  # from the first version on, a reader reads all along
                reader = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.reliability.reader",
                        str(reader_home),
                        str(reads_out),
                        str(stop),
                        "1200",
                    ],
                    cwd=REPO,
                    env=reader_env,
                    stderr=subprocess.DEVNULL,
                )
    finally:
        stop.touch()
        if reader is not None:
            reader.wait(timeout=120)

    texts = [text for night in outcomes for _, text in night]
    assert all(code == 0 for night in outcomes for code, _ in night), texts
    published = sum("published version" in text for text in texts)
    skipped = sum("skipped: another refresh is writing" in text for text in texts)
    assert published + skipped == len(texts), texts
    assert all(any("published version" in text for _, text in night) for night in outcomes)

    reads = [json.loads(line) for line in reads_out.read_text().splitlines()]
    errors = [r["error"] for r in reads if not r["ok"]]
    pictures = [(r["prices"], r["last"], r["results_through"]) for r in reads if r["ok"]]
    complete = {(sum(d <= n for d in DAYS) * len(TICKERS), str(n), str(n)) for n in NIGHTS}

    settings = Settings(
        _env_file=None,
        **{k.removeprefix("SURGEWATCH_").lower(): v for k, v in reader_env.items() if k.startswith("SURGEWATCH_")},
    )
    with Warehouse.open(settings, read_only=True) as wh:
        assert version_problems(wh) == []
        runs = wh.sql("SELECT started_at, finished_at, snapshot_id, as_of FROM runs ORDER BY started_at")
        stored = wh.prices(TICKERS)
        lost = sum(rows_lost(stored, expected_prices(bars, t, NIGHTS[-1])) for t in TICKERS)
        versions = wh.versions()["version"].to_list()
        by_snapshot = [wh.sql(PICTURE, snapshot=v).row(0) for v in runs["snapshot_id"]]
        everything = "".join(str(row) for row in wh.sql("SELECT * FROM runs").rows())
    overlapping = sum(
        a_end > b_start
        for (_, a_end), (b_start, _) in zip(
            runs.select("started_at", "finished_at").rows(), runs.select("started_at", "finished_at").rows()[1:]
        )
    )
    # The CLI on the reader's home, at the first and the last run's version.
    for snapshot, as_of in (runs.row(0)[2:], runs.row(-1)[2:]):
        shown = subprocess.run(
            [
                SURGEWATCH,
                "sql",
                "SELECT CAST(max(date) AS VARCHAR) AS last FROM prices_daily",
                "--snapshot",
                str(snapshot),
                "--format",
                "csv",
            ],
            env=reader_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.stdout.split() == ["last", str(as_of)], shown.stderr

    figures = {
        "nights": len(NIGHTS),
        "refreshes": len(texts),
        "published": published,
        "skipped": skipped,
        "versions": len(versions),
        "price_rows": stored.height,
        "rows_lost": lost,
        "overlapping_writes": overlapping,
        "reads": len(reads),
        "reader_errors": len(errors),
        "incomplete": sum(p not in complete for p in pictures),
        "versions_read": len(set(pictures)),
    }
    record_property("figures", figures)
    print("two machines:", json.dumps(figures))
    assert lost == 0 and stored.height == sum(d <= NIGHTS[-1] for d in DAYS) * len(TICKERS)
    assert overlapping == 0
    assert errors == [] and [p for p in pictures if p not in complete] == []
    assert len(set(pictures)) >= 2, "the reader did not read across versions"
    # Every published run's version, read from a third home, is that night whole.
    assert {row[:3] for row in by_snapshot} == complete
    assert SECRET not in everything + "".join(texts)
    assert pl.Series(runs["as_of"]).is_sorted()

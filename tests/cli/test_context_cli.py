"""`study --when`, `analogs` and several tickers as a user runs them (SPEC §2c, §4),
on the real IWM data; a small warehouse written directly for the multi-ticker paths."""

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl

from surgewatch.core.vocabulary import VERDICTS
import pytest

from benchmarks.universe import publish_study
from tests.factories import run_cli, study_json
from surgewatch.core.settings import Settings
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.warehouse import Warehouse

AS_OF = "2026-07-31"
LOOK_AHEAD = "fwd_12m looks ahead: a condition may use move, prior_drawdown, prior_12m, up_share, sessions, up_sessions"


def iwm_json(capsys, prices_dir: Path, *extra: str) -> dict:
    return study_json(capsys, prices_dir / "IWM.csv", AS_OF, *extra)


class TestConditionFromTheCommandLine:
    def test_the_look_ahead_refusal_is_one_line_from_the_cli(self, capsys, prices_dir):
        code, out, err = run_cli(
            capsys,
            "study",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--when",
            "fwd_12m > 0",
        )
        assert (code, out, err) == (2, "", f"error: {LOOK_AHEAD}\n")


class TestStudyWhen:
    def test_iwm_after_a_correction_of_ten_percent(self, capsys, prices_dir):
        doc = iwm_json(capsys, prices_dir, "--when", "prior_drawdown <= -0.10")
        assert doc["condition"] == "prior_drawdown <= -0.10"
        assert doc["otherwise"]["events"] == ["2016-11", "2024-07"]
        assert len(doc["when"]["events"]) == 13 and doc["when"]["events"][-1] == "2026-04"

        def figures(rows, stat):
            return {r["horizon"]: r[stat] for r in rows}

        assert figures(doc["when"]["summary"], "n") == {1: 13, 3: 13, 6: 12, 12: 12}
        assert figures(doc["otherwise"]["summary"], "n") == {1: 2, 3: 2, 6: 2, 12: 2}
        assert figures(doc["when"]["summary"], "average") == pytest.approx(
            {
                1: 0.024034286847857016,
                3: 0.08435921812735615,
                6: 0.1157142873702851,
                12: 0.1930737432060602,
            },
            rel=1e-12,
        )
        assert figures(doc["otherwise"]["summary"], "average") == pytest.approx(
            {
                1: 0.003866341879628532,
                3: 0.010043797522340803,
                6: 0.023745663275927642,
                12: 0.07374829207678979,
            },
            rel=1e-12,
        )
        assert figures(doc["baseline_when"], "n") == {1: 184, 3: 182, 6: 181, 12: 178}
        assert figures(doc["baseline_when"], "average") == pytest.approx(
            {
                1: 0.009628865667725653,
                3: 0.028782267410236775,
                6: 0.06046558726518991,
                12: 0.11534353728211268,
            },
            rel=1e-12,
        )
        diff = {d["horizon"]: d for d in doc["diff"]}
        assert diff[12]["difference"] == pytest.approx(0.1930737432060602 - 0.07374829207678979, rel=1e-12)
        # seed 0, drawn sequentially: each stopped at its 100th relabeling as far, AS_FAR / L
        assert figures(doc["diff"], "diff_p") == {1: 100 / 159, 3: 100 / 375, 6: 100 / 245, 12: 100 / 190}

    def test_baseline_when_is_every_month_meeting_the_condition(self, capsys, prices_dir):
        doc = iwm_json(capsys, prices_dir, "--when", "prior_drawdown <= -0.10", "--horizons", "12")
        months = run_study(
            read_price_csv(prices_dir / "IWM.csv", "IWM"),
            StudyParams(horizons=(12,)),
            as_of=dt.date.fromisoformat(AS_OF),
        ).monthly
        met = months.filter((pl.col("prior_drawdown") <= -0.10) & pl.col("fwd_12m").is_not_null())["fwd_12m"]
        assert doc["baseline_when"][0]["n"] == met.len()
        assert doc["baseline_when"][0]["average"] == pytest.approx(met.mean(), rel=1e-12)

    def test_resamples_and_seed_drive_diff_p(self, capsys, prices_dir):
        small = iwm_json(
            capsys,
            prices_dir,
            "--when",
            "prior_drawdown <= -0.10",
            "--resamples",
            "99",
            "--seed",
            "7",
        )
        assert all(round(d["diff_p"] * 100, 9).is_integer() for d in small["diff"])  # (1 + k) / 100

    def test_no_event_meets_it(self, capsys, prices_dir):
        doc = iwm_json(capsys, prices_dir, "--when", "move > 0.99")
        assert doc["when"]["events"] == [] and doc["when"]["summary"] == []
        assert all(d["difference"] is None and d["diff_p"] is None for d in doc["diff"])
        assert all(b["n"] == 0 for b in doc["baseline_when"])

    def test_table_marks_the_events_and_lists_the_groups(self, capsys, prices_dir):
        code, out, _ = run_cli(
            capsys,
            "study",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--as-of",
            AS_OF,
            "--when",
            "prior_drawdown <= -0.10",
        )
        assert code == 0
        assert "when prior_drawdown <= -0.10" in out
        for label in ("baseline_when", "otherwise", "difference", "diff_p", "0.267"):
            assert label in out

    def test_context_fields_in_the_events(self, capsys, prices_dir):
        april = iwm_json(capsys, prices_dir)["events"][-1]
        assert april["month"] == "2026-04"
        assert april["prior_12m"] == pytest.approx(248.0 / 199.49000549316406 - 1)
        assert april["up_share"] == pytest.approx(16 / 21)


class TestAnalogsCli:
    def test_april_2026_as_the_article_saw_it(self, capsys, prices_dir):
        code, out, err = run_cli(
            capsys,
            "analogs",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--as-of",
            "2026-04-20",
            "--format",
            "json",
        )
        assert code == 0, err
        doc = json.loads(out)
        # April is 13 sessions in: the candidates are the months +10% by their 13th session (SPEC §2c).
        assert (doc["month"], doc["candidates"], doc["left_out"], doc["partial_sessions"]) == ("2026-04", 4, 0, 13)
        assert doc["features"]["up_share"] == pytest.approx(12 / 13)
        assert [(a["month"], round(a["distance"], 4)) for a in doc["analogs"]] == [
            ("2010-09", 4.4187),
            ("2020-11", 5.8344),
            ("2023-12", 6.0455),
            ("2019-01", 7.0542),
        ]
        assert doc["summary"][0]["n"] == 4 and doc["summary_all"][0]["n"] == 4

    def test_table_shows_the_target_beside_its_analogs(self, capsys, prices_dir):
        code, out, _ = run_cli(
            capsys,
            "analogs",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--as-of",
            "2026-04-20",
            "--top",
            "2",
        )
        assert code == 0
        assert "target" in out and "all candidates" in out and "4.42" in out and "+11.83%" in out

    def test_an_earlier_month_only_looks_further_back(self, capsys, prices_dir):
        code, out, _ = run_cli(
            capsys,
            "analogs",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--month",
            "2020-04",
            "--format",
            "json",
        )
        doc = json.loads(out)
        assert code == 0 and doc["month"] == "2020-04"
        assert all(a["month"] < "2020-04" for a in doc["analogs"])

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--month", "2026/04"), "--month: not a month (YYYY-MM): '2026/04'"),
            (("--month", "1990-01"), "--month 1990-01 is not in IWM's data"),
            (("--top", "0"), "--top must be a whole number >= 1, got '0'"),
            (
                ("--universe",),
                "--universe compares with every ticker in the warehouse: drop --prices",
            ),
        ],
    )
    def test_refusals(self, capsys, prices_dir, args, message):
        code, out, err = run_cli(
            capsys,
            "analogs",
            "--ticker",
            "IWM",
            "--prices",
            str(prices_dir / "IWM.csv"),
            *args,
        )
        assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def warehouse_home(prices_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding IWM's and SPY's prices and study through AS_OF, written directly."""
    home = tmp_path_factory.mktemp("context-warehouse")
    prices = pl.concat([read_price_csv(prices_dir / f"{t}.csv", t) for t in ("IWM", "SPY")])
    prices = prices.filter(pl.col("date") <= dt.date.fromisoformat(AS_OF))
    publish_study(home, prices, run_study(prices, StudyParams()), "run-1", dt.date.fromisoformat(AS_OF))
    return home


@pytest.fixture
def in_warehouse(warehouse_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SURGEWATCH_CATALOG", "SURGEWATCH_DATA_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURGEWATCH_HOME", str(warehouse_home))
    monkeypatch.chdir(warehouse_home)  # no developer's .env
    return warehouse_home


class TestSeveralTickers:
    def test_side_by_side_from_the_warehouse(self, capsys, prices_dir, in_warehouse):
        code, out, err = run_cli(
            capsys,
            "study",
            "--ticker",
            "IWM,SPY",
            "--when",
            "prior_drawdown <= -0.10",
            "--format",
            "json",
        )
        assert code == 0, err
        studies = json.loads(out)["studies"]
        assert [s["ticker"] for s in studies] == ["IWM", "SPY"]
        alone = iwm_json(capsys, prices_dir, "--when", "prior_drawdown <= -0.10")
        assert studies[0] == alone  # the same figures as the file alone
        assert studies[1]["events"][0]["month"] == "2011-10"

    def test_table_and_csv_hold_every_ticker(self, capsys, in_warehouse):
        code, table, _ = run_cli(capsys, "study", "--ticker", "IWM,SPY", "--horizons", "1")
        assert code == 0 and "IWM, SPY: months +10%" in table
        # Side by side: one row per ticker and horizon, each with its verdict.
        rows = [line for line in table.splitlines() if re.match(r"│ (IWM|SPY)\s+│ 1M", line)]
        assert len(rows) == 2 and all(any(v in row for v in VERDICTS) for row in rows)
        code, csv, _ = run_cli(capsys, "study", "--ticker", "IWM,SPY", "--horizons", "1", "--format", "csv")
        lines = csv.splitlines()
        assert lines[0].startswith("ticker,section,month")
        assert {line.split(",")[0] for line in lines[1:]} == {"IWM", "SPY"}

    def test_one_file_for_two_tickers_is_refused(self, capsys, prices_dir):
        code, out, err = run_cli(
            capsys,
            "study",
            "--ticker",
            "IWM,SPY",
            "--prices",
            str(prices_dir / "IWM.csv"),
        )
        assert (code, out) == (2, "")
        assert (
            err
            == "error: --prices holds one ticker's prices, not IWM, SPY: drop --prices to read the warehouse, or name one ticker\n"
        )

    def test_a_ticker_the_warehouse_lacks_is_named(self, capsys, in_warehouse):
        code, _, err = run_cli(capsys, "study", "--ticker", "IWM,QQQ")
        assert code == 2 and "QQQ is not in the warehouse (it holds IWM, SPY)" in err

    def test_warehouse_stores_the_context_fields(self, in_warehouse):
        with Warehouse.open(
            Settings(home=in_warehouse, catalog=None, data_path=None, _env_file=None),
            read_only=True,
        ) as wh:
            row = wh.sql(
                "SELECT prior_12m, up_share FROM signal_events WHERE ticker = 'IWM' AND month = '2026-04-01'"
            ).row(0)
        assert row == pytest.approx((248.0 / 199.49000549316406 - 1, 16 / 21))

    def test_universe_analogs_span_tickers(self, capsys, in_warehouse):
        code, out, err = run_cli(
            capsys,
            "analogs",
            "--ticker",
            "IWM",
            "--universe",
            "--month",
            "2026-04",
            "--top",
            "10",
            "--format",
            "json",
        )
        assert code == 0, err
        doc = json.loads(out)
        assert {a["ticker"] for a in doc["analogs"]} == {"IWM", "SPY"}
        assert all(a["month"] < "2026-04" for a in doc["analogs"])

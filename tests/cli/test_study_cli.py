"""`surgewatch study` and `check-published` as a user runs them (SPEC §4)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from surgewatch.cli import main
from tests.factories import run_cli

GOOD = "date,open,high,low,close,adj_close,volume\n"


def iwm_study(capsys, prices_dir: Path, *argv: str) -> tuple[int, str, str]:
    """`surgewatch study --ticker IWM --prices …/IWM.csv ARGV`."""
    return run_cli(capsys, "study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), *argv)


def write(tmp_path: Path, body: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


class TestStudy:
    def test_json_shape(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--as-of",
            "2026-07-31",
            "--format",
            "json",
        )
        assert code == 0
        doc = json.loads(out)
        assert set(doc) == {
            "ticker",
            "threshold",
            "direction",
            "basis",
            "horizons",
            "as_of",
            "events",
            "summary",
            "baseline",
            "stats",
            "resamples",
            "seed",
        }
        assert (doc["resamples"], doc["seed"]) == (10_000, 0)
        assert list(doc["stats"][0]) == [
            "horizon",
            "n",
            "n_independent",
            "average_independent",
            "excess",
            "ci_low",
            "ci_high",
            "placebo_p",
            "placebo_percentile",
            "placebo_draws",
            "chance_low",
            "chance_high",
            "win_p",
            "t_hac",
            "q_value",
            "verdict",
        ]
        assert (doc["ticker"], doc["threshold"], doc["direction"], doc["basis"], doc["as_of"]) == (
            "IWM",
            0.1,
            "up",
            "price",
            "2026-07-31",
        )
        first = doc["events"][0]
        assert first["month"] == "2003-04" and first["complete"] is True
        assert {
            "fwd_1m",
            "fwd_12m",
            "mdd_1m",
            "mdd_12m",
            "sessions",
            "up_sessions",
            "prior_drawdown",
            "first_crossed_on",
        } <= set(first)
        assert doc["events"][-1]["fwd_6m"] is None  # 2026-04 + 6 months is past the data
        assert [s["horizon"] for s in doc["summary"]] == [1, 3, 6, 12]
        assert doc["baseline"][0]["n"] > doc["summary"][0]["n"]

    def test_threshold_defaults_to_the_setting(self, capsys, prices_dir, monkeypatch, tmp_path):
        """SURGEWATCH_THRESHOLD=0.12 is the study's threshold unless --threshold says otherwise."""
        monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
        iwm = str(prices_dir / "IWM.csv")
        monkeypatch.setenv("SURGEWATCH_THRESHOLD", "0.12")
        _, out, _ = run_cli(capsys, "study", "--ticker", "IWM", "--prices", iwm, "--format", "json")
        doc = json.loads(out)
        assert doc["threshold"] == 0.12
        assert doc["events"] and min(e["move"] for e in doc["events"]) >= 0.12
        _, out, _ = run_cli(
            capsys, "study", "--ticker", "IWM", "--prices", iwm, "--threshold", "0.10", "--format", "json"
        )
        told = json.loads(out)
        assert told["threshold"] == 0.10 and len(told["events"]) > len(doc["events"])

    def test_table_shows_signed_percents(self, capsys, prices_dir):
        code, out, _ = iwm_study(capsys, prices_dir, "--as-of", "2026-07-31")
        assert code == 0
        assert "2003-04" in out and "+10.28%" in out and "win_rate" in out

    def test_table_says_signal_or_noise(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--as-of",
            "2026-07-31",
            "--horizons",
            "1,3",
            "--resamples",
            "2000",
            "--seed",
            "1",
        )
        assert code == 0
        labels = ["horizon", "verdict", "events' mean", "chance band", "excess", "p", "q", "n"]
        labels += ["independent episodes", "90% CI", "random months' mean", "placebo draws", "HAC t", "win p", "sample"]
        header = next(line for line in out.splitlines() if "┃ verdict" in line)
        # The verdict first, the events' mean beside its chance band; without a terminal every column.
        assert [cell.strip() for cell in header.split("┃")[1:-1]] == labels
        rows = [line.split("│") for line in out.splitlines() if re.match(r"│ [13]M ", line)]
        assert [cells[2].strip() for cells in rows] == [
            "no different from random months",
            "suggestive, not proven (better)",
        ]
        assert "+5.22 pp" in out and "small sample" not in out
        assert "3M: suggestive, not proven (better): events' mean +7.45%; random sets of 15 months: " in out
        assert "+5.22 pp, better than random months; p=" in out
        assert "IWM: suggestive, not proven (better) at 3M (p=" in out and "(2,000 resamples, seed 1)" in out

    def test_small_sample_is_marked(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--as-of",
            "2026-07-31",
            "--threshold",
            "0.15",
            "--horizons",
            "3",
            "--resamples",
            "500",
        )
        assert code == 0
        row = next(line for line in out.splitlines() if line.startswith("│ 3M "))
        assert row.rstrip(" │").endswith("small sample") and "(small sample: n = " in out

    def test_csv_has_raw_stats(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--as-of",
            "2026-07-31",
            "--format",
            "csv",
            "--horizons",
            "3",
            "--resamples",
            "500",
        )
        assert code == 0
        rows = {line.split(",")[1]: line.split(",")[5] for line in out.splitlines() if line.startswith("stats,")}
        assert float(rows["excess"]) == pytest.approx(0.052198, abs=5e-7)
        assert float(rows["ci_low"]) < float(rows["ci_high"]) and rows["n_independent"] == "14"

    @pytest.mark.parametrize(
        "option, value",
        [
            ("--resamples", "0"),
            ("--resamples", "-3"),
            ("--resamples", "1.5"),
            ("--resamples", "10000000"),
            ("--seed", "x"),
            ("--seed", "2.5"),
            ("--seed", "-1"),
        ],
    )
    def test_bad_resamples_or_seed_refused_in_one_line(self, capsys, prices_dir, option, value):
        code, out, err = iwm_study(capsys, prices_dir, option, value)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and option in err and repr(value) in err

    def test_csv_keeps_fractions(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--as-of",
            "2026-07-31",
            "--format",
            "csv",
            "--horizons",
            "1,3",
        )
        assert code == 0
        header, first = out.splitlines()[:2]
        assert header.startswith("section,month,complete,as_of,move,fwd_1m,fwd_3m,mdd_1m,mdd_3m")
        assert first.startswith("event,2003-04,True,2003-04-30,0.1027")

    def test_down_study_and_threshold(self, capsys, prices_dir):
        code, out, _ = iwm_study(
            capsys,
            prices_dir,
            "--direction",
            "down",
            "--threshold",
            "0.15",
            "--format",
            "json",
        )
        assert code == 0
        months = [e["month"] for e in json.loads(out)["events"]]
        assert "2008-10" in months and "2020-03" in months


class TestCheckPublished:
    def test_flags_differences_and_missing_months(self, capsys, prices_dir, reference_dir):
        code, out, err = run_cli(
            capsys,
            "check-published",
            "--ticker",
            "IWM",
            "--table",
            str(reference_dir / "published_table.csv"),
            "--prices",
            str(prices_dir / "IWM.csv"),
            "--format",
            "json",
        )
        assert code == 1
        rows = json.loads(out)
        flagged = {(r["check"], r["month"], r["column"]) for r in rows if r["flag"]}
        assert ("event", "2003-04", "move") not in flagged  # agrees to the cent
        assert ("event", "2020-11", "fwd_1m") in flagged  # published 13.56, data 8.31
        assert ("missing", "2003-05", "move") in flagged
        # Every published event cell is compared: 13 months x (move + 4 horizons).
        assert sum(1 for r in rows if r["check"] == "event" and r["published"] is not None) >= 65
        assert any(r["check"].startswith("summary") for r in rows)
        assert "flagged" in err

    def test_flagged_only_and_units_in_the_header(self, capsys, prices_dir, reference_dir):
        argv = [
            "check-published",
            "--ticker",
            "IWM",
            "--table",
            str(reference_dir / "published_table.csv"),
            "--prices",
            str(prices_dir / "IWM.csv"),
        ]
        code, out, _ = run_cli(capsys, *argv, "--flagged-only", "--format", "json")
        rows = json.loads(out)
        assert code == 1 and rows and all(r["flag"] for r in rows)
        assert ("missing", "2003-05") in {(r["check"], r["month"]) for r in rows}
        _, table, _ = run_cli(capsys, *argv)
        assert "in percent (`study` prints fractions)" in table.splitlines()[0]


def _bad(tmp_path, body):
    return write(tmp_path, body)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--prices", "{tmp}/nope.csv"], "nope.csv"),
        (["--prices", "{missing_col}"], "missing column(s) close"),
        (["--prices", "{non_numeric}"], "close"),
        (["--prices", "{non_positive}"], "close"),
        (["--prices", "{dupes}"], "2024-01-03"),
        (["--prices", "{good}", "--threshold", "0"], "--threshold"),
        (["--prices", "{good}", "--threshold", "-0.1"], "--threshold"),
        (["--prices", "{good}", "--horizons", "1,x"], "horizon"),
        (["--prices", "{good}", "--horizons", "0"], "horizon"),
        (["--prices", "{good}", "--as-of", "2024-13-45"], "--as-of"),
        (["--prices", "{bad_date}"], "date"),
        (["--prices", "{good}", "--format", "xml"], "--format"),
        (["--prices", "{good}", "--direction", "sideways"], "direction"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(capsys, tmp_path, argv, message):
    files = {
        "tmp": str(tmp_path),
        "missing_col": write(tmp_path, "date,open,high,low,adj_close,volume\n2024-01-02,1,1,1,1,5\n", "a.csv"),
        "non_numeric": write(tmp_path, GOOD + "2024-01-02,1,1,1,abc,1,5\n", "b.csv"),
        "non_positive": write(tmp_path, GOOD + "2024-01-02,1,1,1,0,1,5\n", "c.csv"),
        "dupes": write(tmp_path, GOOD + "2024-01-03,1,1,1,1,1,5\n2024-01-03,1,1,1,1,1,5\n", "d.csv"),
        "good": write(tmp_path, GOOD + "2024-01-02,1,1,1,1,1,5\n2024-01-03,1,1,1,1,1,5\n", "e.csv"),
        "bad_date": write(tmp_path, GOOD + "2024-01-02,1,1,1,1,1,5\n2024-02-31,1,1,1,1,1,5\n", "f.csv"),
    }
    argv = [a.format(**files) for a in argv]
    code, out, err = run_cli(capsys, "study", "--ticker", "IWM", *argv)
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]


def test_implausible_ticker_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "study", "--ticker", "IWM;DROP TABLE", "--prices", str(tmp_path / "x.csv"))
    assert code == 2 and "not a plausible ticker" in err


def test_console_script_prints_no_traceback(tmp_path):
    exe = Path(sys.executable).parent / "surgewatch"
    proc = subprocess.run(
        [str(exe), "study", "--ticker", "IWM", "--prices", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")


def test_console_script_ends_with_all_its_output(capsys, prices_dir):
    """The executable leaves without the interpreter's teardown (cli.app.run): what it
    printed still reaches a pipe whole, and its exit code is main's."""
    args = ["study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--format", "csv", "--wide"]
    assert main(args) == 0
    expected = capsys.readouterr().out
    exe = Path(sys.executable).parent / "surgewatch"
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == expected and expected.count("\n") > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--threshold", "1.5"), "got 1.5; did you mean 0.015?"),
        (("--threshold", "10%"), "--threshold 10% is a percent: give a fraction; did you mean 0.10?"),
        (("--threshold", "10"), "did you mean 0.10?"),
        (("--as-of", "2099-01-04"), "--as-of 2099-01-04 is in the future"),
    ],
)
@pytest.mark.parametrize("command", ["study", "analogs"])
def test_a_percent_threshold_or_a_future_date_is_one_line(capsys, prices_dir, command, args, message):
    code = main([command, "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and message in captured.err and captured.err.count("\n") == 1

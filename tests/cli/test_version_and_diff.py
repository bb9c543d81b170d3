"""`surgewatch --version`, and `diff` narrowed to one table with month keys read as months."""

import subprocess
import sys

import pytest

from surgewatch import __version__
from surgewatch.warehouse import MIGRATIONS, Warehouse
from tests.factories import make_results, make_run, publish, settings_for, run_cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_version_names_the_code_and_says_when_there_is_no_warehouse(capsys, home):
    code, out, err = run_cli(capsys, "--version")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"surgewatch {__version__} (schema version {MIGRATIONS[-1].version})",
        f"warehouse: no warehouse at sqlite:{home}/catalog.sqlite; run `surgewatch refresh` first",
    ]


def test_version_reads_the_warehouses_schema(capsys, home):
    with Warehouse.open(settings_for(home)) as wh:
        publish(wh, make_run("run-1"))
    code, out, _ = run_cli(capsys, "--version", "study")  # eager: the command after it never runs
    assert code == 0 and out.splitlines()[1] == f"warehouse: schema version {MIGRATIONS[-1].version}"


def test_help_imports_nothing_heavy():
    probe = (
        "import sys; from surgewatch.cli import main; main(['--help']); "
        "print(sorted(m for m in ('duckdb', 'polars', 'prefect', 'numpy', 'pandera') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_diff_narrows_to_one_table_and_keys_months_as_months(capsys, home):
    with Warehouse.open(settings_for(home)) as wh:
        first = publish(wh, make_run("run-1"))
        second = publish(wh, make_run("run-2"), results=make_results(move=0.2))
    code, out, _ = run_cli(capsys, "diff", str(first), str(second), "--format", "csv")
    assert code == 0 and {line.split(",")[0] for line in out.splitlines()[1:]} == {"month_end", "signal_events"}
    code, out, _ = run_cli(capsys, "diff", str(first), str(second), "--table", "signal_events", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "table,key,change,field,old,new",
        "signal_events,AAA 2026-01,changed,move,0.12,0.2",
        "signal_events,BBB 2026-01,changed,move,0.12,0.2",
    ]


def test_diff_refuses_an_unknown_table_naming_the_tables(capsys, home):
    code, out, err = run_cli(capsys, "diff", "1", "2", "--table", "events")
    assert (code, out) == (2, "")
    assert err == (
        "error: --table: diff compares prices_daily, month_end, signal_events, signal_summary, signal_stats, "
        "alerts, context_series, not 'events'\n"
    )

"""Context from outside the ticker (SPEC §2d, issue 30): another ticker's fields, and
series such as the federal funds rate stored with `context add`, checked by hand on the
real FEDFUNDS CSV, for look-ahead, against bad files and against FRED's failure modes."""

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

import surgewatch.transforms as tf
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.params import StudyParams
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.study.run import run_study
from tests.context.fake_fred import fake_fred  # noqa: F401  (the fixture)
from tests.fake_providers import SHARED
from tests.factories import run_cli, study_json, use_home

FEDFUNDS = SHARED / "data" / "context" / "FEDFUNDS.csv"
SESSIONS = nyse_sessions(dt.date(2018, 1, 1), dt.date(2026, 8, 31))


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


def by_hand() -> dict[str, float]:
    """FRED's rows, read with the csv module: first-of-month date → value."""
    if not FEDFUNDS.is_file():
        pytest.skip("../shared is absent")
    with FEDFUNDS.open() as f:
        return {row["observation_date"]: float(row["FEDFUNDS"]) for row in csv.DictReader(f)}


def test_the_rate_of_a_month_is_the_last_value_known_before_it(capsys):
    rates = by_hand()
    series = pl.DataFrame({"date": [dt.date.fromisoformat(d) for d in rates], "value": list(rates.values())})
    fields = tf.series_fields(
        pl.Series([month("2026-04"), month("2020-04"), month("2024-10")]), series, "fedfunds", SESSIONS
    )
    rows = {r["month"]: r for r in fields.iter_rows(named=True)}
    # April 2026: the last session before it is 2026-03-31, so March's average (dated 03-01) is the
    # latest known; three months earlier (January) it was December's.
    april = rows[month("2026-04")]
    assert april["fedfunds"] == rates["2026-03-01"]
    assert april["fedfunds_chg_3m"] == pytest.approx(rates["2026-03-01"] - rates["2025-12-01"])
    assert april["fedfunds_chg_6m"] == pytest.approx(rates["2026-03-01"] - rates["2025-09-01"])
    assert april["fedfunds_chg_12m"] == pytest.approx(rates["2026-03-01"] - rates["2025-03-01"])
    # October 2024, a month after the first cut of the cycle (September's 5.13).
    october = rows[month("2024-10")]
    assert october["fedfunds"] == rates["2024-09-01"] == 5.13
    assert october["fedfunds_chg_3m"] == pytest.approx(rates["2024-09-01"] - rates["2024-06-01"])
    assert rows[month("2020-04")]["fedfunds"] == rates["2020-03-01"]


def test_nothing_dated_inside_the_month_is_used_for_it():
    """A value dated the month's first day (FRED's monthly average of that month) or any
    later day of it is not known at its close-before; the last session before it is."""
    series = pl.DataFrame(
        {
            "date": [dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 4, 15), dt.date(2026, 5, 1)],
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    fields = tf.series_fields(pl.Series([month("2026-04"), month("2026-05")]), series, "x", SESSIONS)
    assert fields["x"].to_list() == [1.0, 3.0]  # April: March 31's; May: April 15th's, not May 1st's
    # A value on a day after the last session (a Saturday before a Monday month start) is not used either.
    weekend = pl.DataFrame({"date": [dt.date(2026, 5, 29), dt.date(2026, 5, 30)], "value": [5.0, 6.0]})
    june = tf.series_fields(pl.Series([month("2026-06")]), weekend, "x", SESSIONS)
    assert june["x"].to_list() == [5.0]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    use_home(monkeypatch, tmp_path)
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SURGEWATCH_HTTP_RETRIES", "1")
    monkeypatch.setenv("SURGEWATCH_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("SURGEWATCH_HTTP_MIN_INTERVAL", "0")
    return tmp_path


def versions(capsys) -> int:
    code, out, _ = run_cli(capsys, "versions", "--format", "json")
    return len(json.loads(out)) if code == 0 else 0


def test_add_list_use_and_drop_a_series(home, capsys, prices_dir):
    by_hand()
    code, out, err = run_cli(capsys, "context", "add", "fedfunds", "--csv", str(FEDFUNDS))
    assert code == 0, err
    assert out.startswith("fedfunds: 863 value(s), 1954-07-01 to 2026-05-01, from csv:FEDFUNDS.csv")
    code, out, _ = run_cli(capsys, "context", "list", "--format", "json")
    assert json.loads(out) == [
        {"name": "fedfunds", "source": "csv:FEDFUNDS.csv", "first": "1954-07-01", "last": "2026-05-01", "values": 863}
    ]
    iwm = str(prices_dir / "IWM.csv")
    doc = study_json(capsys, prices_dir / "IWM.csv", "2026-07-31", "--when", "fedfunds_chg_3m < 0")
    # By hand: an event is "when" exactly if the rate it saw fell over the three months before.
    rates = pl.read_csv(FEDFUNDS, try_parse_dates=True).rename({"observation_date": "date", "FEDFUNDS": "value"})
    fields = tf.series_fields(
        pl.Series([month(e["month"]) for e in doc["events"]]),
        rates,
        "fedfunds",
        nyse_sessions(dt.date(1999, 1, 1), dt.date(2026, 7, 31)),
    )
    cutting = [f"{m:%Y-%m}" for m, c in zip(fields["month"], fields["fedfunds_chg_3m"]) if c is not None and c < 0]
    assert doc["when"]["events"] == cutting and 0 < len(cutting) < len(doc["events"])
    code, out, err = run_cli(
        capsys,
        "analogs",
        "--ticker",
        "IWM",
        "--prices",
        iwm,
        "--month",
        "2026-04",
        "--features",
        "move,fedfunds",
        "--format",
        "json",
    )
    assert code == 0, err
    assert set(json.loads(out)["analogs"][0]["shares"]) == {"move", "fedfunds"}
    before = versions(capsys)
    assert run_cli(capsys, "context", "drop", "fedfunds")[0] == 0 and versions(capsys) == before + 1
    code, _, err = run_cli(capsys, "study", "--ticker", "IWM", "--prices", iwm, "--when", "fedfunds < 1")
    assert code == 2 and "unknown field 'fedfunds'" in err and "none is stored" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,value\n2020-01-01,1.5\n2020-13-01,2\n", "line 3: '2020-13-01' is not a date"),
        ("observation_date,FEDFUNDS\n2020-01-01,1.5\n2020-02-01,high\n", "line 3: 'high' is not a number"),
        ("date,value\n", "no rows"),
        ("date,value\n2020-01-01,1\n2020-01-01,2\n", "the date 2020-01-01 is given twice"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_nothing_is_stored(home, capsys, text, message):
    assert run_cli(capsys, "context", "add", "ok", "--csv", str(FEDFUNDS))[0] == 0
    before = versions(capsys)
    bad = home / "bad.csv"
    bad.write_text(text)
    code, out, err = run_cli(capsys, "context", "add", "rate", "--csv", str(bad))
    assert code == 2 and out == "" and err.strip().splitlines() == [err.strip()]
    assert str(bad) in err and message in err
    assert versions(capsys) == before


def test_fred_missing_values_and_a_header_of_any_name(home, capsys, fake_fred, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SURGEWATCH_FRED_URL", fake_fred.url)
    fake_fred.series["T10Y2Y"] = "observation_date,T10Y2Y\n2026-04-01,0.52\n2026-04-02,.\n2026-04-03,0.55\n"
    code, out, err = run_cli(capsys, "context", "add", "curve", "--fred", "t10y2y")
    assert code == 0, err
    assert out.startswith("curve: 3 value(s), 2026-04-01 to 2026-04-03, from fred:T10Y2Y")
    assert fake_fred.hits == ["T10Y2Y"]


@pytest.mark.parametrize(
    ("faults", "stored", "message"),
    [
        (["429"], True, None),
        (["503"], True, None),
        (["503", "503"], False, "503"),
        (["stall", "stall"], False, "timed out"),
        (["truncated"], False, "answer cut off"),
        (["html"], False, "web page"),
    ],
)
def test_fred_failures_retry_or_end_in_one_line_with_nothing_half_written(
    home,
    capsys,
    fake_fred,  # noqa: F811
    monkeypatch,
    faults,
    stored,
    message,  # noqa: F811
):
    by_hand()
    monkeypatch.setenv("SURGEWATCH_FRED_URL", fake_fred.url)
    fake_fred.series["FEDFUNDS"] = FEDFUNDS.read_text()
    assert run_cli(capsys, "context", "add", "seed", "--csv", str(FEDFUNDS))[0] == 0  # a warehouse with a version
    before = versions(capsys)
    fake_fred.faults["FEDFUNDS"] = list(faults)
    code, out, err = run_cli(capsys, "context", "add", "fedfunds", "--fred", "FEDFUNDS")
    if stored:
        assert code == 0 and out.startswith("fedfunds: 863 value(s)") and versions(capsys) == before + 1
    else:
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err
        assert "FEDFUNDS" in err and versions(capsys) == before


def test_an_unknown_fred_series_is_one_line(home, capsys, fake_fred, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SURGEWATCH_FRED_URL", fake_fred.url)
    code, out, err = run_cli(capsys, "context", "add", "x", "--fred", "NOSUCHSERIES")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "NOSUCHSERIES" in err and "404" in err


def test_another_tickers_field_is_its_own_value_for_the_same_month(capsys, prices_dir):
    iwm = str(prices_dir / "IWM.csv")
    argv = ["study", "--ticker", "IWM", "--prices", iwm, "--as-of", "2026-07-31", "--horizons", "12"]
    code, out, err = run_cli(capsys, *argv, "--when", "spy.prior_drawdown <= -0.10", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["condition"] == "spy.prior_drawdown <= -0.10"
    spy = run_study(read_price_csv(prices_dir / "SPY.csv", "SPY"), StudyParams(), as_of=dt.date(2026, 7, 31)).monthly
    corrected = {f"{m:%Y-%m}" for m, d in zip(spy["month"], spy["prior_drawdown"]) if d is not None and d <= -0.10}
    events = [e["month"] for e in doc["events"]]
    assert doc["when"]["events"] == [m for m in events if m in corrected]
    assert doc["otherwise"]["events"] == [m for m in events if m not in corrected]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("SPY.volume > 0", "unknown field 'SPY.volume': a condition may use move, prior_drawdown"),
        ("SPY.fwd_3m > 0", "SPY.fwd_3m looks ahead"),
        ("SPY.prior_drawdown <= -10", "did you mean SPY.prior_drawdown <= -0.10"),
        ("DIA.move > 0.05", "DIA.csv: no such file"),
    ],
)
def test_a_bad_outside_field_is_one_line(capsys, prices_dir, when, message):
    argv = ["study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--when", when]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err

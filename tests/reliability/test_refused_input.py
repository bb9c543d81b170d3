"""Bad input that must be refused with a message naming it, before anything is done.

- tickers carrying SQL metacharacters, path separators or control characters: refused by
  `surgewatch refresh --tickers`, by SURGEWATCH_TICKERS and by every source, before any
  request, file access or query;
- every setting with a bad value: `surgewatch` stops at start-up with one line naming the
  variable (and never repeating a value that may hold credentials).
"""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from surgewatch.sources import make_source
from surgewatch.cli import main
from surgewatch.core.errors import InputError
from surgewatch.core.settings import Settings
from tests.conftest import read_only_folder
from tests.fake_providers import TEST_TOKEN
from tests.reliability.figures import FIGURES

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")

BAD_TICKERS = [
    "IWM'; DROP TABLE prices_daily; --",
    'IWM"',
    "IWM;",
    "A OR 1=1",
    "IWM -- x",
    "IWM/*",
    "I%WM",
    "IW_M*",
    "../IWM",
    "IWM/../../etc/passwd",
    "..",
    "IWM\\x",
    "C:IWM",
    "/IWM",
    "~IWM",
    "IW\x00M",
    "IW\nM",
    "IW\rM",
    "IW\tM",
    "IW\x1bM",
    "IW\x7fM",
    "IW\u202eM",
    "\x00IWM",
    "IWM?x=1",
    "IWM#",
    "IWM&s=x",
    "IWM@host",
    "ÏWM",
    "",
]


def _refusal(kind: str, value: str, refused: bool, message: str) -> None:
    FIGURES.refusals.append({"kind": kind, "value": repr(value), "refused": refused, "message": message})


@pytest.mark.parametrize("ticker", BAD_TICKERS, ids=[repr(t) for t in BAD_TICKERS])
def test_bad_tickers_are_refused_everywhere(ticker, env, tmp_path, monkeypatch, capsys):
    fake_providers = env  # the fake server; SURGEWATCH_* point at it and at tmp_path/home
    # The command line: one line naming the symbol, a non-zero exit, nothing run.
    code = main(["refresh", "--tickers", f"SPY,{ticker}" if ticker else ","])
    err = capsys.readouterr().err.strip()
    refused = code != 0 and len(err.splitlines()) == 1 and ("ticker" in err)
    _refusal("--tickers", ticker, refused, err)
    assert refused, err
    assert not (tmp_path / "home").exists() and fake_providers.count() == 0, "the refresh started before refusing"

    # The setting (an environment variable cannot hold a NUL byte at all).
    if "\x00" not in ticker:
        monkeypatch.setenv("SURGEWATCH_TICKERS", f"SPY,{ticker}" if ticker else "")
        code = main(["versions"])
        err = capsys.readouterr().err.strip()
        refused = code != 0 and err.startswith("error: bad setting SURGEWATCH_TICKERS") and "\n" not in err
        _refusal("SURGEWATCH_TICKERS", ticker, refused, err)
        assert refused, err
        monkeypatch.delenv("SURGEWATCH_TICKERS")

    # Every source, before any request or file access.
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    for name in ("yahoo", "tiingo", "stooq", "csv", "polygon"):
        source = make_source(fake_providers.settings(name, csv_dir=csv_dir))
        with pytest.raises(InputError, match="not a plausible ticker symbol"):
            source.daily_prices(ticker, dt.date(2025, 1, 2), dt.date(2025, 1, 31))
        _refusal(f"{name} source", ticker, True, "not a plausible ticker symbol")
    assert fake_providers.count() == 0


# (variable, bad value, source to select first); {file}, {dir} and {missing} stand for a
# regular file, a folder and a path that does not exist; None: left unset.
BAD_SETTINGS = [
    ("SURGEWATCH_HOME", "{file}", ""),
    ("SURGEWATCH_HOME", "", ""),
    ("SURGEWATCH_CATALOG", "mysql:db", ""),
    ("SURGEWATCH_CATALOG", "sqlite:", ""),
    ("SURGEWATCH_CATALOG", "sqlite:{dir}", ""),
    ("SURGEWATCH_CATALOG", "postgres:", ""),
    ("SURGEWATCH_DATA_PATH", "{file}", ""),
    ("SURGEWATCH_DATA_PATH", " ", ""),
    ("SURGEWATCH_TICKERS", "", ""),
    ("SURGEWATCH_TICKERS", "IWM,SPY;", ""),
    ("SURGEWATCH_SOURCE", "bloomberg", ""),
    ("SURGEWATCH_SOURCE", "", ""),
    ("SURGEWATCH_YAHOO_URL", "ftp://example.com", ""),
    ("SURGEWATCH_YAHOO_URL", "http://", ""),
    ("SURGEWATCH_TIINGO_URL", "api.tiingo.com", ""),
    ("SURGEWATCH_STOOQ_URL", "https:///q", ""),
    ("SURGEWATCH_FRED_URL", "fred.stlouisfed.org", ""),
    ("SURGEWATCH_ALERT_DIGEST", "0", ""),
    ("SURGEWATCH_ALERT_DIGEST", "many", ""),
    ("SURGEWATCH_TIINGO_TOKEN", "", "tiingo"),
    ("SURGEWATCH_TIINGO_TOKEN", "   ", "tiingo"),
    ("SURGEWATCH_HISTORY_SOURCE", "polygon", "polygon"),
    ("SURGEWATCH_POLYGON_URL", "api.polygon.io", ""),
    ("SURGEWATCH_POLYGON_KEY", "", "polygon"),
    ("SURGEWATCH_POLYGON_KEY", "   ", "polygon"),
    ("SURGEWATCH_CSV_DIR", "{missing}", ""),
    ("SURGEWATCH_CSV_DIR", "{file}", ""),
    ("SURGEWATCH_CSV_DIR", None, "csv"),
    ("SURGEWATCH_THRESHOLD", "abc", ""),
    ("SURGEWATCH_THRESHOLD", "0", ""),
    ("SURGEWATCH_THRESHOLD", "-0.1", ""),
    ("SURGEWATCH_THRESHOLD", "nan", ""),
    ("SURGEWATCH_THRESHOLD", "inf", ""),
    ("SURGEWATCH_ALERT_URLS", "not-a-url", ""),
    ("SURGEWATCH_ALERT_URLS", "json://user:pw-0f-Secret@", ""),
    ("SURGEWATCH_ALERT_URLS", "json://127.0.0.1/ok nosuchscheme://user:pw-0f-Secret@host/x", ""),
    ("SURGEWATCH_HTTP_TIMEOUT", "0", ""),
    ("SURGEWATCH_HTTP_TIMEOUT", "-1", ""),
    ("SURGEWATCH_HTTP_TIMEOUT", "inf", ""),
    ("SURGEWATCH_HTTP_TIMEOUT", "soon", ""),
    ("SURGEWATCH_HTTP_RETRIES", "-1", ""),
    ("SURGEWATCH_HTTP_RETRIES", "1.5", ""),
    ("SURGEWATCH_HTTP_RETRIES", "many", ""),
    ("SURGEWATCH_HTTP_MIN_INTERVAL", "-0.5", ""),
    ("SURGEWATCH_HTTP_MIN_INTERVAL", "nan", ""),
    ("SURGEWATCH_KEEP_DAYS", "-1", ""),
    ("SURGEWATCH_KEEP_DAYS", "a week", ""),
    ("SURGEWATCH_FETCH_BATCH", "0", ""),
    ("SURGEWATCH_FETCH_BATCH", "ten", ""),
    ("SURGEWATCH_S3_ENDPOINT", "http://127.0.0.1:9000", ""),
    ("SURGEWATCH_S3_ENDPOINT", "host:9000/bucket", ""),
    ("SURGEWATCH_S3_KEY_ID", "AKIA-only-the-key", ""),
    ("SURGEWATCH_S3_SECRET", "only-the-Secret", ""),
    ("SURGEWATCH_S3_REGION", " ", ""),
    ("SURGEWATCH_S3_URL_STYLE", "sideways", ""),
    ("SURGEWATCH_S3_USE_SSL", "maybe", ""),
]


SETTING_NAMES = sorted({f"SURGEWATCH_{name.upper()}" for name in Settings.model_fields})


def test_every_setting_is_tried():
    assert {name for name, _, _ in BAD_SETTINGS} == set(SETTING_NAMES)


@pytest.mark.parametrize(("variable", "value", "source"), BAD_SETTINGS, ids=[f"{v}={x!r}" for v, x, _ in BAD_SETTINGS])
def test_a_bad_setting_stops_start_up_naming_it(variable, value, source, tmp_path, monkeypatch, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    if value is not None:
        value = value.format(file=tmp_path / "a-file", dir=tmp_path, missing=tmp_path / "missing")
    for name in list(os.environ):
        if name.startswith("SURGEWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file from the developer's checkout
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    if source:
        monkeypatch.setenv("SURGEWATCH_SOURCE", source)
    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)
    code = main(["refresh"])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    refused = (
        code == 1
        and out == ""
        and len(lines) == 1
        and lines[0].startswith(f"error: bad setting {variable}")
        and "Secret" not in err
        and not (tmp_path / "home").exists()
    )
    _refusal(variable, value or "(unset)", refused, err.strip())
    assert refused, (code, out, err)


@pytest.mark.slow
def test_the_console_script_stops_too(tmp_path):
    """The same through the installed `surgewatch` command, in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURGEWATCH_")}
    env |= {
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_THRESHOLD": "ten percent",
        "SURGEWATCH_TIINGO_TOKEN": TEST_TOKEN,
    }
    done = subprocess.run([SURGEWATCH, "refresh"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert (
        done.stderr.strip()
        == "error: bad setting SURGEWATCH_THRESHOLD: Input should be a valid number, unable to parse string as a number"
    )
    assert not (tmp_path / "home").exists()


# (setting, value, what the one line says); {file}, {missing} and {home} as above, and a
# home made truly read-only for the test.
BAD_HOMES = [
    ("SURGEWATCH_HOME", "/proc/surgewatch-home", "is not a folder surgewatch can write: No such file or directory"),
    ("SURGEWATCH_HOME", "{missing}/home", "its parent folder {missing} does not exist"),
    ("SURGEWATCH_HOME", "{file}/home", "its parent {file} is not a folder"),
    ("SURGEWATCH_HOME", "{read_only}", "is not a folder surgewatch can write: "),
    (
        "SURGEWATCH_DATA_PATH",
        "/proc/surgewatch-lake",
        "is not a folder surgewatch can write: No such file or directory",
    ),
    ("SURGEWATCH_DATA_PATH", "{missing}/lake", "its parent folder {missing} does not exist"),
    ("SURGEWATCH_DATA_PATH", "{read_only}", "is not a folder surgewatch can write: "),
]


@pytest.mark.parametrize(("variable", "value", "reason"), BAD_HOMES, ids=[f"{v}={x}" for v, x, _ in BAD_HOMES])
def test_an_unwritable_home_is_one_line_before_any_work(
    variable, value, reason, fake_providers, tmp_path, monkeypatch, capsys
):
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "read-only").mkdir()
    names = {"file": tmp_path / "a-file", "missing": tmp_path / "missing", "read_only": tmp_path / "read-only"}
    path = value.format(**names)
    for name in list(os.environ):
        if name.startswith("SURGEWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SURGEWATCH_YAHOO_URL", fake_providers.url)
    monkeypatch.setenv(variable, path)
    with read_only_folder(tmp_path / "read-only"):
        code = main(["refresh", "--tickers", "IWM"])
    err = capsys.readouterr().err.strip()
    _refusal(variable, path, code == 1 and len(err.splitlines()) == 1, err)
    assert code == 1 and err.startswith(f"error: {variable} {path}") and reason.format(**names) in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert fake_providers.count() == 0


def test_a_night_from_the_future_is_one_line_before_any_work(fake_providers, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURGEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SURGEWATCH_YAHOO_URL", fake_providers.url)
    code = main(["refresh", "--tickers", "IWM", "--as-of", "2030-01-01"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: --as-of 2030-01-01 is in the future (today is ") and "\n" not in err
    assert not (tmp_path / "home").exists() and fake_providers.count() == 0

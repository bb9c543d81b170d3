"""The first `surgewatch refresh` on a machine that cannot reach the provider.

The installed command runs in its own process, as a person types it, with the Yahoo URL
pointed at an address nothing answers on: a free loopback port (connection refused) and
a name that does not resolve (.invalid is reserved for that). It must stop asking within a
short budget, say so while it retries, and end on one line naming the ways around it.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from surgewatch.cli.nightly import OFFLINE_REFRESH
from tests.conftest import REPO, free_port

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")
TICKERS = ("IWM", "SPY", "QQQ")
# Well above the run's real cost (a few seconds of asking, the rest Python and Prefect
# starting), well below the minutes the patient retries took per ticker before.
BUDGET_SECONDS = 20


@pytest.mark.parametrize("refused", [True, False], ids=["refused", "no such host"])
def test_an_unreachable_provider_is_given_up_and_the_way_around_named(prefect_server, tmp_path, refused):
    _, env = prefect_server
    # The resolver's words for a missing name vary ("Name or service not known", "No address
    # associated with hostname"); a refusal's do not.
    host, reason = ("127.0.0.1", "Connection refused") if refused else ("surgewatch-nonexistent.invalid", "")
    url = f"http://{host}:{free_port()}" if refused else f"http://{host}"
    env = {
        **env,
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_YAHOO_URL": url,
        "SURGEWATCH_TICKERS": ",".join(TICKERS),
        "COLUMNS": "200",
    }
    began = time.monotonic()
    done = subprocess.run([SURGEWATCH, "refresh"], check=False, env=env, capture_output=True, text=True, timeout=300)
    took = time.monotonic() - began
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr, done.stderr
    assert took < BUDGET_SECONDS, f"took {took:.1f} s"

    # No terminal: each retry is one line, a host that never answered gets three attempts.
    retries = lines[:-1]
    assert retries and all(line.startswith("yahoo: connection failed for ") for line in retries), lines
    assert all(line.endswith(("(attempt 2 of 3)", "(attempt 3 of 3)")) for line in retries), lines

    # One last line, said once for every ticker, naming the csv source, the URL setting and the others.
    last = lines[-1]
    assert last.startswith(f"nothing published: every ticker failed: connection failed (yahoo: cannot reach {host}: ")
    assert f"{reason}; gave up after 3 attempts). " in last
    assert OFFLINE_REFRESH in last and "SURGEWATCH_YAHOO_URL" in last and "SURGEWATCH_SOURCE=tiingo or stooq" in last
    assert not any(line.startswith("failed:") for line in lines)


def test_the_offline_command_is_the_readme_s():
    assert f"\n{OFFLINE_REFRESH}\n" in (REPO / "README.md").read_text(encoding="utf-8")

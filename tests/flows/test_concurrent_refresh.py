"""Two refreshes started together: one publishes, the other exits cleanly without writing."""

import subprocess
import sys
import time
from pathlib import Path

from tests.fake_providers import Fault, sessions, synthetic_bars
from tests.flows.conftest import night

SURGEWATCH = str(Path(sys.executable).parent / "surgewatch")


def test_second_refresh_skips_while_the_first_writes(prefect_server, fake_providers, tmp_path):
    _, env = prefect_server
    env = {
        **env,
        "SURGEWATCH_HOME": str(tmp_path / "home"),
        "SURGEWATCH_YAHOO_URL": fake_providers.url,
        "SURGEWATCH_HTTP_TIMEOUT": "30",
        "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
    }
    fake_providers.add_prices("AAA", synthetic_bars(sessions(night("2025-01-02"), night("2025-06-30"))))
    # The first run's fetch hangs for a while, holding the writer lock meanwhile.
    fake_providers.script("AAA", [Fault("stall", seconds=8)])
    first = subprocess.Popen(
        [SURGEWATCH, "refresh", "--tickers", "AAA"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while fake_providers.count("AAA") == 0:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.2)
    second = subprocess.run(
        [SURGEWATCH, "refresh", "--tickers", "AAA"], env=env, capture_output=True, text=True, timeout=300
    )
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert "published version" in out
    assert second.returncode == 0, second.stdout + second.stderr
    assert "skipped: another refresh is writing" in second.stderr
    runs = subprocess.run(
        [SURGEWATCH, "sql", "SELECT status FROM runs", "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert runs.stdout.split() == ["status", "published"]  # one run wrote; the other left no trace

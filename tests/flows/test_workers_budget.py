"""One request budget per provider across processes: with a Prefect server in use and a
global concurrency limit `surgewatch-yahoo` with a slot decay, two refreshes running at
once (two homes, as on two worker machines) together stay within it."""

import subprocess
import sys
from pathlib import Path

from surgewatch.sources.http import budget_name
from tests.fake_providers import sessions, synthetic_bars
from tests.flows.conftest import night

BIN = Path(sys.executable).parent
TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
RATE = 1.0  # requests a second, all processes together: slower than the two would go unpaced


def excess(times: list[float], limit: int, rate: float) -> float:
    """How far the busiest stretch of requests exceeds what the budget admits: a limit of
    `limit` slots that each free up after 1/rate s admits at most limit + rate·Δt requests
    in any stretch of Δt seconds. <= 0 means within budget."""
    times = sorted(times)
    return max(
        (j - i + 1) - (limit + rate * (times[j] - times[i])) for i in range(len(times)) for j in range(i, len(times))
    )


def test_two_refreshes_share_one_request_budget(prefect_server, fake_providers, tmp_path, record_property):
    _, env = prefect_server
    subprocess.run(
        [
            str(BIN / "prefect"),
            "--no-prompt",
            "global-concurrency-limit",
            "create",
            budget_name("yahoo"),
            "--limit",
            "1",
            "--slot-decay-per-second",
            str(RATE),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    bars = synthetic_bars(sessions(night("2025-01-02"), night("2025-06-30")))
    for ticker in TICKERS:
        fake_providers.add_prices(ticker, bars)
    base = {
        **env,
        "SURGEWATCH_SOURCE": "yahoo",
        "SURGEWATCH_YAHOO_URL": fake_providers.url,
        "SURGEWATCH_TICKERS": ",".join(TICKERS),
        "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
        "SURGEWATCH_HTTP_TIMEOUT": "30",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [str(BIN / "surgewatch"), "refresh", "--as-of", "2025-06-30"],
            env={**base, "SURGEWATCH_HOME": str(tmp_path / name)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    times = [hit.at for hit in fake_providers.requests]
    span = max(times) - min(times)
    figures = {
        "requests": len(times),
        "seconds": round(span, 2),
        "rate_limit": RATE,
        "observed_rate": round((len(times) - 1) / span, 2),
        "excess": excess(times, limit=1, rate=RATE),
    }
    record_property("budget", figures)
    print("request budget:", figures)
    assert len(times) >= 2 * len(TICKERS)
    # One request of slack for the time a slot's grant takes to reach the provider.
    assert excess(times, limit=1, rate=RATE) <= 1

"""Provider faults through the real flow: every fault kind × every provider it applies to.

One campaign per provider replays three nights through `flows.refresh.refresh` (a real Prefect
server, the fake Yahoo/Tiingo/Stooq server, a DuckLake warehouse, alerts to a
json:// receiver):

1. BEFORE: clean history for every ticker;
2. CROSSING: every ticker's month jumps past +10% (one provisional alert each), and each
   fault ticker gets its own scripted fault while OK stays healthy;
3. AFTER: no faults: failed tickers catch up.

All faults share one run (each on its own ticker, alongside the healthy OK), which is
both faster than a run per fault and stricter: a fault must not disturb a run full of
other faults either. The test then judges each fault × provider on its own: recovered
within the retry budget (rows equal a clean run's) or failed that ticker with a named
error (nothing of it written, previous rows and results kept), the other tickers published, the `runs` row records it, every version whole, no row
lost and every alert sent exactly once by the end.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

import polars as pl
import pytest

from surgewatch.flows import tasks as tasks_module
from surgewatch.flows.refresh import RefreshReport, refresh
from tests.fake_providers import TEST_TOKEN, Fault, FakeProviders
from tests.receiver import Receiver
from tests.reliability.figures import FIGURES
from tests.reliability.helpers import (
    AFTER,
    BEFORE,
    CROSSING,
    DAYS,
    expected_prices,
    rows_lost,
    surge_bars,
    version_problems,
)
from tests.factories import open_read_only

PROVIDERS = ("yahoo", "tiingo", "stooq")
HEALTHY = "OK"

# fault name -> (ticker, scripted faults, {provider: (expected outcome, words the error must hold)}).
# Retry budget in these runs: SURGEWATCH_HTTP_RETRIES=1 (2 HTTP attempts) per try, and
# the fetch task's 2 Prefect retries for transient failures: 6 attempts in all.
RECOVERS = ("recovered", None)
FAULTS = {
    "429 + Retry-After": ("FRATE", [Fault("429", retry_after=1)], dict.fromkeys(PROVIDERS, RECOVERS)),
    "5xx run (3)": ("FBUSY", ["500", "503", "503"], dict.fromkeys(PROVIDERS, RECOVERS)),
    "5xx beyond budget": ("FDOWN", ["503"] * 6, dict.fromkeys(PROVIDERS, ("failed", "HTTP 503"))),
    "connection reset": ("FRESET", ["reset"], dict.fromkeys(PROVIDERS, RECOVERS)),
    "stall past timeout": ("FSTALL", [Fault("stall", seconds=4)], dict.fromkeys(PROVIDERS, RECOVERS)),
    "truncated body": (
        "FTRUNC",
        ["truncated"],
        {
            "yahoo": ("failed", "malformed answer (yahoo: JSONDecodeError"),
            "tiingo": ("failed", "malformed answer (tiingo: JSONDecodeError"),
            "stooq": RECOVERS,  # "answer cut off": transient, the retry gets the whole answer
        },
    ),
    "short body": ("FSHORT", ["short_body"], dict.fromkeys(PROVIDERS, RECOVERS)),
    "empty result": (
        "FEMPTY",
        ["empty"],
        {
            "yahoo": ("failed", "empty answer"),
            "tiingo": ("failed", "empty answer"),
            "stooq": ("failed", "stooq has no data"),
        },
    ),
    "null bars": ("FNULL", ["null_bars"], dict.fromkeys(PROVIDERS, RECOVERS)),
    "error object (HTTP 200)": (
        "FERROR",
        ["error200"],
        {
            "yahoo": ("failed", "request refused (yahoo"),
            "tiingo": ("failed", "request refused (tiingo"),
            "stooq": ("failed", "unexpected answer (stooq: Exceeded the daily hits limit)"),
        },
    ),
    "unknown symbol": ("FGONE", ["404"], dict.fromkeys(PROVIDERS, ("failed", "unknown symbol"))),
    "wrong symbol": ("FWRONG", ["wrong_symbol"], {"yahoo": ("failed", "answer is for another symbol")}),
    # Not a fault but the night that lost rows before: the provider revises an earlier
    # session's volume inside the overlap window.
    "revised bar in overlap": ("FREVISE", [], dict.fromkeys(PROVIDERS, RECOVERS)),
}
NEVER_LISTED = "FNONE"  # a symbol the provider never had: fails every night
CASES = [(p, f) for f, (_, _, outcomes) in FAULTS.items() for p in PROVIDERS if p in outcomes]


@dataclass
class Campaign:
    provider: str
    home: object
    bars: pl.DataFrame
    revised: pl.DataFrame
    reports: dict[str, RefreshReport] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    stored: dict[str, pl.DataFrame] = field(default_factory=dict)  # prices after each night
    results: dict[str, pl.DataFrame] = field(default_factory=dict)  # month_end after each night
    runs: pl.DataFrame | None = None
    alerts: dict[str, int] = field(default_factory=dict)  # provisional alerts received per ticker
    problems: list[str] = field(default_factory=list)

    def expected(self, ticker: str, through: dt.date) -> pl.DataFrame:
        bars = self.revised if ticker == "FREVISE" and through >= CROSSING else self.bars
        return expected_prices(bars, ticker, through, adj_close=self.provider != "stooq")


def _tickers(provider: str) -> list[str]:
    return [HEALTHY, *(FAULTS[f][0] for p, f in CASES if p == provider), NEVER_LISTED]


@pytest.fixture(scope="module")
def campaign(request, prefect_api, tmp_path_factory) -> Campaign:
    provider = request.param
    home = tmp_path_factory.mktemp(f"faults-{provider}") / "home"
    bars = surge_bars()
    # The revision: CROSSING's answer carries a new volume for a session 3 back.
    revised = bars.with_columns(
        volume=pl.when(pl.col("date") == DAYS[DAYS.index(CROSSING) - 3])
        .then(pl.lit(777, pl.Int64))
        .otherwise(pl.col("volume"))
    )
    tickers = _tickers(provider)
    result = Campaign(provider, home, bars, revised)
    receiver = Receiver()
    with FakeProviders(None, tiingo_token=TEST_TOKEN) as fake, pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "SURGEWATCH_HOME": str(home),
            "SURGEWATCH_SOURCE": provider,
            "SURGEWATCH_YAHOO_URL": fake.url,
            "SURGEWATCH_TIINGO_URL": fake.url,
            "SURGEWATCH_STOOQ_URL": fake.url,
            "SURGEWATCH_TIINGO_TOKEN": TEST_TOKEN,
            "SURGEWATCH_HTTP_TIMEOUT": "1",
            "SURGEWATCH_HTTP_RETRIES": "1",
            "SURGEWATCH_HTTP_MIN_INTERVAL": "0",
            "SURGEWATCH_ALERT_URLS": receiver.url,
            # One message per alert: the campaign counts each ticker's own (not a digest's lines).
            "SURGEWATCH_ALERT_DIGEST": "1000",
        }.items():
            mp.setenv(name, value)
        mp.setattr(tasks_module, "FETCH_BACKOFF", 0)
        for ticker in tickers:
            if ticker != NEVER_LISTED:
                fake.add_prices(ticker, bars)
        try:
            for night, day in (("before", BEFORE), ("crossing", CROSSING), ("after", AFTER)):
                fake.clear()
                if night == "crossing":
                    fake.add_prices("FREVISE", revised)
                    for p, f in CASES:
                        if p == provider:
                            ticker, script, _ = FAULTS[f]
                            fake.script(ticker, script)
                result.reports[night] = refresh(tickers=tickers, as_of=day)
                with open_read_only(home) as wh:
                    result.versions[night] = wh.versions()["version"].max()
                    result.stored[night] = wh.prices()
                    result.results[night] = wh.sql(
                        "SELECT ticker, max(as_of) AS as_of, count(*) AS months FROM month_end GROUP BY ticker"
                    )
            with open_read_only(home) as wh:
                result.runs = wh.sql("SELECT * FROM runs ORDER BY started_at")
                result.problems = version_problems(wh)
        finally:
            receiver.close()
    titles = [m["title"] for m in receiver.messages]
    for ticker in tickers:
        result.alerts[ticker] = sum(t.startswith(f"surgewatch: {ticker} 2025-06 provisional") for t in titles)
    return result


@pytest.mark.parametrize("campaign", PROVIDERS, indirect=True)
def test_every_fault_of_the_provider(campaign: Campaign):
    """Each fault that applies to the provider judged on its own, every failure reported
    together. One test per provider, so that its campaign (a module fixture, ~15-35 s) is
    set up once: as separate tests they spread over the xdist workers and each worker set
    it up again (xdist_group does not group under the pinned pytest and xdist)."""
    failures = []
    for fault, (_, _, outcomes) in FAULTS.items():
        if campaign.provider in outcomes:
            try:
                _judge(campaign, fault)
            except AssertionError as exc:
                failures.append(f"{fault}: {exc}")
    assert not failures, "\n".join(failures)
    _healthy_and_never_listed(campaign)


def _judge(campaign: Campaign, fault: str) -> None:
    ticker, _, outcomes = FAULTS[fault]
    expected_outcome, words = outcomes[campaign.provider]
    night = campaign.reports["crossing"]
    figure = {
        "provider": campaign.provider,
        "fault": fault,
        "ticker": ticker,
        "outcome": "NOT SURVIVED",
        "error": night.failed.get(ticker),
        "rows_lost": 0,
        "alerts_duplicated": 0,
        "alerts_lost": 0,
    }
    FIGURES.faults.append(figure)

    # Every night published a whole version and the healthy ticker went through.
    assert campaign.problems == []
    for name, report in campaign.reports.items():
        assert report.status in ("published", "partial"), (name, report)
        assert HEALTHY in report.rows_ingested and HEALTHY not in report.failed
    stored = {n: frame.filter(pl.col("ticker") == ticker) for n, frame in campaign.stored.items()}
    crossing_runs = campaign.runs.filter(pl.col("run_id") == night.run_id)
    assert crossing_runs.height == 1 and crossing_runs["snapshot_id"].item() == night.snapshot_id

    if expected_outcome == "recovered":
        assert ticker not in night.failed, night.failed.get(ticker)
        assert stored["crossing"].equals(campaign.expected(ticker, CROSSING))
        assert ticker in json.loads(crossing_runs["rows_ingested"].item())
    else:
        assert words in night.failed[ticker] and night.failed[ticker].startswith(f"{ticker}: ")
        assert "\n" not in night.failed[ticker]
        assert json.loads(crossing_runs["failed"].item())[ticker] == night.failed[ticker]
        assert crossing_runs["status"].item() == "partial"
        # Nothing of the failed fetch was written: rows and results are the night before's.
        assert stored["crossing"].equals(stored["before"])
        before, after = (campaign.results[n].filter(pl.col("ticker") == ticker) for n in ("before", "crossing"))
        assert after.equals(before)

    # By the next night every ticker is whole again: no row lost, one alert each.
    lost = rows_lost(stored["after"], campaign.expected(ticker, AFTER))
    alerts = campaign.alerts[ticker]
    figure.update(rows_lost=lost, alerts_duplicated=max(alerts - 1, 0), alerts_lost=int(alerts == 0))
    assert lost == 0 and stored["after"].height == campaign.expected(ticker, AFTER).height
    assert alerts == 1, f"{ticker} got {alerts} provisional alerts"
    figure["outcome"] = "recovered" if expected_outcome == "recovered" else "failed cleanly"


def _healthy_and_never_listed(campaign: Campaign) -> None:
    assert campaign.stored["after"].filter(pl.col("ticker") == HEALTHY).equals(campaign.expected(HEALTHY, AFTER))
    assert campaign.alerts[HEALTHY] == 1 and campaign.alerts[NEVER_LISTED] == 0
    for report in campaign.reports.values():
        assert "unknown symbol" in report.failed[NEVER_LISTED] or "no data" in report.failed[NEVER_LISTED]
    assert campaign.stored["after"].filter(pl.col("ticker") == NEVER_LISTED).is_empty()

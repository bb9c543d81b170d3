"""The bulk source through the real refresh flow: nights from Polygon's grouped daily
answer (the fake server speaks its format), histories from the per-ticker provider.

A bulk night must end with the same tables as the same night fetched per ticker, in a
handful of requests whatever the universe's size; a split or a dividend on the night
must give the histories a full re-fetch would.
"""

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from surgewatch.flows.refresh import refresh
from surgewatch.sources import bulk
from surgewatch.warehouse import Warehouse
from surgewatch.core.settings import load_settings
from tests.fake_polygon import TEST_KEY
from tests.fake_providers import SHARED, bars_from_closes, sessions

DAYS = sessions(dt.date(2024, 1, 2), dt.date(2026, 3, 31))
NIGHT_1, NIGHT_2 = DAYS[-2], DAYS[-1]
# Columns that say which run or provider wrote a row, not what the row says.
LINEAGE = {"run_id", "source", "fetched_at"}
TABLES = ("prices_daily", "month_end", "signal_events", "signal_summary", "signal_stats")


@pytest.fixture
def bulk_env(env, monkeypatch):
    """env (fake server, Prefect harness) with the polygon source and no long waits."""
    monkeypatch.setenv("SURGEWATCH_POLYGON_URL", env.url)
    monkeypatch.setenv("SURGEWATCH_POLYGON_KEY", TEST_KEY)
    monkeypatch.setattr(bulk, "UNPUBLISHED_WAITS", (0.05,))
    return env


def _bars(seed: int, days=DAYS) -> pl.DataFrame:
    """A random walk with a few big months; adj_close = close (no dividend yet)."""
    i = pl.Series(range(len(days)), dtype=pl.Int64)
    steps = 1 + 0.02 * ((i * 7919 + seed * 104729) % 97 - 48) / 48
    closes = (steps.cum_prod() * (50 + seed % 40)).round(4).to_list()
    return bars_from_closes(days, closes).with_columns(adj_close=pl.col("close"))


def _tables(home: Path) -> dict[str, pl.DataFrame]:
    with Warehouse.open(load_settings(home=home), read_only=True) as wh:
        out = {}
        for table in TABLES:
            frame = wh.sql(f"SELECT * FROM {table}")
            keys = [c for c in ("ticker", "date", "month", "kind", "horizon") if c in frame.columns]
            out[table] = frame.drop(LINEAGE & set(frame.columns)).sort(keys)
        return out


def _night(monkeypatch, home: Path, source: str, tickers: list[str], day: dt.date):
    monkeypatch.setenv("SURGEWATCH_HOME", str(home))
    monkeypatch.setenv("SURGEWATCH_SOURCE", source)
    return refresh(tickers=tickers, as_of=day)


def test_a_bulk_night_equals_the_per_ticker_night_in_three_requests(bulk_env, monkeypatch, tmp_path):
    tickers = [f"T{i:03d}" for i in range(40)]
    for i, t in enumerate(tickers):
        bulk_env.add_prices(t, _bars(i))
    per_ticker, bulk_home = tmp_path / "per-ticker", tmp_path / "bulk"
    for home, source in ((per_ticker, "yahoo"), (bulk_home, "polygon")):
        first = _night(monkeypatch, home, source, tickers, NIGHT_1)
        assert first.status == "published"
    bulk_env.clear()
    report = _night(monkeypatch, bulk_home, "polygon", tickers, NIGHT_2)
    asked = bulk_env.requests
    assert (report.status, report.failed) == ("published", {})
    assert report.rows_ingested == dict.fromkeys(tickers, 1)
    # The session, its splits, its dividends; no per-ticker request at all.
    assert sorted(h.symbol for h in asked) == ["DIVIDENDS", "GROUPED", "SPLITS"]
    assert {h.provider for h in asked} == {"polygon"}
    assert all(h.headers.get("Authorization") == f"Bearer {TEST_KEY}" and TEST_KEY not in h.target for h in asked)
    assert _night(monkeypatch, per_ticker, "yahoo", tickers, NIGHT_2).status == "published"
    bulk_tables, per_ticker_tables = _tables(bulk_home), _tables(per_ticker)
    for table in TABLES:
        assert bulk_tables[table].equals(per_ticker_tables[table], null_equal=True), table
    with Warehouse.open(load_settings(home=bulk_home), read_only=True) as wh:
        assert wh.sql("SELECT source FROM runs ORDER BY started_at")["source"].to_list() == ["polygon", "polygon"]


@pytest.mark.slow
def test_a_big_universes_bulk_night_asks_three_times(bulk_env, monkeypatch, tmp_path):
    """SPEC §4b: ≤ 5 requests whatever the universe's size. Histories from CSV files
    (SURGEWATCH_HISTORY_SOURCE=csv). 600 tickers here, 3,000 in `make bench-nightly`
    (benchmarks.bulk_nights: the same fake server counts 3 a night there, and the tables
    equal the per-ticker nights', as above on 40 tickers); CI's 12 minutes do not hold
    a 3,000-ticker night twice."""
    days = DAYS[-25:]
    tickers = [f"U{i:04d}" for i in range(600)]
    folder = tmp_path / "csv"
    folder.mkdir()
    for i, t in enumerate(tickers):
        frame = _bars(i, days)
        bulk_env.add_prices(t, frame)
        frame.write_csv(folder / f"{t}.csv")
    monkeypatch.setenv("SURGEWATCH_CSV_DIR", str(folder))
    monkeypatch.setenv("SURGEWATCH_HISTORY_SOURCE", "csv")
    home = tmp_path / "bulk"
    assert _night(monkeypatch, home, "polygon", tickers, NIGHT_1).status == "published"
    bulk_env.clear()
    report = _night(monkeypatch, home, "polygon", tickers, NIGHT_2)
    assert (report.status, len(report.rows_ingested), set(report.rows_ingested.values())) == ("published", 600, {1})
    assert sorted(h.symbol for h in bulk_env.requests) == ["DIVIDENDS", "GROUPED", "SPLITS"]
    with Warehouse.open(load_settings(home=home), read_only=True) as wh:
        night = wh.sql(f"SELECT ticker, close FROM prices_daily WHERE date = DATE '{NIGHT_2}' ORDER BY ticker")
    assert night["close"].to_list() == [_bars(i, days)["close"][-1] for i in range(600)]


def test_a_ticker_the_day_does_not_list_fails_alone(bulk_env, monkeypatch, tmp_path):
    """GONE is delisted tonight; OLD stopped trading 30 sessions ago. The night still asks
    for its one session only (never OLD's gap, session by session); both fail, alone."""
    bulk_env.add_prices("AAA", _bars(1))
    bulk_env.add_prices("GONE", _bars(2))
    bulk_env.add_prices("OLD", _bars(3).filter(pl.col("date") <= DAYS[-30]))
    home = tmp_path / "home"
    tickers = ["AAA", "GONE", "OLD"]
    assert _night(monkeypatch, home, "polygon", tickers, NIGHT_1).status == "published"
    bulk_env.add_prices("GONE", _bars(2).filter(pl.col("date") < NIGHT_2))
    bulk_env.clear()
    report = _night(monkeypatch, home, "polygon", tickers, NIGHT_2)
    assert (report.status, report.exit_code) == ("partial", 2)
    assert report.failed == {t: f"{t}: not listed (polygon has no bar for {t} on {NIGHT_2})" for t in ("GONE", "OLD")}
    assert report.rows_ingested == {"AAA": 1}
    assert sorted(h.symbol for h in bulk_env.requests) == ["DIVIDENDS", "GROUPED", "SPLITS"]


def _dividend_history(bars: pl.DataFrame, ex_date: dt.date, amount: float) -> pl.DataFrame:
    """What the history provider serves once `amount` went ex on ex_date: every earlier
    adj_close × (1 − amount / the close before ex_date), computed row by row."""
    before = bars.filter(pl.col("date") < ex_date)["close"][-1]
    factor = 1 - amount / before
    return bars.with_columns(
        adj_close=pl.Series([a * factor if d < ex_date else a for d, a in zip(bars["date"], bars["adj_close"])])
    )


def _split_history(bars: pl.DataFrame, day: dt.date, ratio: float) -> pl.DataFrame:
    """What every provider serves after a ratio-for-1 split on `day`: earlier prices ÷ ratio,
    earlier volumes × ratio (split-adjusted, the spec's basis)."""
    earlier = pl.col("date") < day
    return bars.with_columns(
        *(
            pl.when(earlier).then(pl.col(c) / ratio).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close", "adj_close")
        ),
        pl.when(earlier).then(pl.col("volume") * int(ratio)).otherwise(pl.col("volume")).alias("volume"),
    )


def test_a_dividend_and_a_split_give_what_a_full_refetch_gives(bulk_env, monkeypatch, tmp_path):
    raw = {t: _bars(seed) for seed, t in enumerate(("DIV", "SPL", "FLAT"))}
    # Before the night, the split shows in neither provider's prices: raw bars from the split day on are ×2.
    pre_split = raw["SPL"].with_columns(
        *(
            pl.when(pl.col("date") >= NIGHT_2).then(pl.col(c) * 2).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close", "adj_close")
        )
    )
    for t, frame in (("DIV", raw["DIV"]), ("SPL", pre_split), ("FLAT", raw["FLAT"])):
        bulk_env.add_prices(t, frame)
    home = tmp_path / "home"
    assert _night(monkeypatch, home, "polygon", list(raw), NIGHT_1).status == "published"
    # The night of NIGHT_2: DIV goes ex 0.80, SPL splits 2-for-1; the providers' histories move.
    expected = {
        "DIV": _dividend_history(raw["DIV"], NIGHT_2, 0.80),
        "SPL": _split_history(pre_split, NIGHT_2, 2.0),
        "FLAT": raw["FLAT"],
    }
    for t, frame in expected.items():
        bulk_env.add_prices(t, frame)
    bulk_env.add_dividend("DIV", NIGHT_2, 0.80)
    bulk_env.add_split("SPL", NIGHT_2, 2.0)
    bulk_env.clear()
    report = _night(monkeypatch, home, "polygon", list(raw), NIGHT_2)
    assert (report.status, sorted(report.restated)) == ("published", ["DIV", "SPL"])
    # Three bulk requests and SPL's history: DIV's adj_close was re-derived, not re-fetched.
    assert sorted((h.provider, h.symbol) for h in bulk_env.requests) == [
        ("polygon", "DIVIDENDS"),
        ("polygon", "GROUPED"),
        ("polygon", "SPLITS"),
        ("yahoo", "SPL"),
    ]
    with Warehouse.open(load_settings(home=home), read_only=True) as wh:
        stored = wh.prices()
    for t, frame in expected.items():
        got = stored.filter(pl.col("ticker") == t).drop("ticker")
        want = frame.filter(pl.col("date") <= NIGHT_2)
        assert got["date"].to_list() == want["date"].to_list(), t
        for column in ("close", "adj_close", "volume"):
            assert got[column].to_list() == pytest.approx(want[column].to_list(), rel=1e-12), (t, column)


def test_iwm_ex_dividend_night_gives_the_providers_own_adjusted_closes(bulk_env, monkeypatch, tmp_path):
    """IWM went ex $0.695 on 2026-06-15. Stored through 2026-06-12 on the basis before it
    (Yahoo's chart answer of that week gives the factor it applied), the night of 06-15
    on the bulk source must turn every adj_close into Yahoo's own later series (IWM.csv,
    adjusted as of 2026-08-21, no ex-date between 06-15 and then)."""
    chart = SHARED / "data" / "reference" / "yahoo_chart_IWM_2026-06-11_2026-06-17.json"
    csv = SHARED / "data" / "prices" / "IWM.csv"
    if not (chart.is_file() and csv.is_file()):
        pytest.skip(f"shared IWM data not found under {SHARED}")
    result = json.loads(chart.read_text())["chart"]["result"][0]
    (dividend,) = result["events"]["dividends"].values()
    ex_date = dt.datetime.fromtimestamp(dividend["date"], dt.UTC).date()
    assert (ex_date, dividend["amount"]) == (dt.date(2026, 6, 15), 0.695)
    closes, adjusted = result["indicators"]["quote"][0]["close"], result["indicators"]["adjclose"][0]["adjclose"]
    yahoo_factor = adjusted[1] / closes[1]  # 2026-06-12, the session before the ex-date
    iwm = pl.read_csv(csv, try_parse_dates=True).filter(pl.col("date") <= ex_date)
    before = pl.col("date") < ex_date
    bulk_env.add_prices(
        "IWM",
        iwm.with_columns(
            pl.when(before).then(pl.col("adj_close") / yahoo_factor).otherwise(pl.col("adj_close")).alias("adj_close")
        ),
    )
    home = tmp_path / "home"
    assert _night(monkeypatch, home, "polygon", ["IWM"], dt.date(2026, 6, 12)).status == "published"
    bulk_env.add_dividend("IWM", ex_date, dividend["amount"])
    report = _night(monkeypatch, home, "polygon", ["IWM"], ex_date)
    assert (report.status, report.restated) == ("published", ("IWM",))
    with Warehouse.open(load_settings(home=home), read_only=True) as wh:
        stored = wh.prices(["IWM"])
    assert stored["date"].to_list() == iwm["date"].to_list()
    assert stored["close"].to_list() == iwm["close"].to_list()
    # Yahoo's adjusted closes are float32 text: 1e-6 is their precision, not ours.
    assert stored["adj_close"].to_list() == pytest.approx(iwm["adj_close"].to_list(), rel=2e-7)

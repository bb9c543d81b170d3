import time, json
import polars as pl
from flows.refresh import refresh
from tests.fake_providers import sessions, synthetic_bars, Fault
from tests.flows.conftest import night, query

def test_volume_revision(env):
    days = sessions(night("2025-01-02"), night("2025-12-31"))
    bars = synthetic_bars(days)
    env.add_prices("AAA", bars)
    env.add_prices("BBB", bars)
    t=time.monotonic(); r = refresh(tickers=["AAA","BBB"], as_of=days[-5]); print("first", time.monotonic()-t)
    n0 = query("select count(*) n from prices_daily where ticker='AAA'")["n"].item()
    # provider revises volume of days[-7]
    env.add_prices("AAA", bars.with_columns(volume=pl.when(pl.col("date")==days[-7]).then(5).otherwise(pl.col("volume"))))
    t=time.monotonic(); r = refresh(tickers=["AAA","BBB"], as_of=days[-4]); print("second", time.monotonic()-t, r)
    n1 = query("select count(*) n from prices_daily where ticker='AAA'")["n"].item()
    print(n0, n1)

def test_empty_tiingo(env, monkeypatch):
    monkeypatch.setenv("SURGEWATCH_SOURCE", "tiingo")
    monkeypatch.setenv("SURGEWATCH_TIINGO_URL", env.url)
    monkeypatch.setenv("SURGEWATCH_TIINGO_TOKEN", "tok-test-5ecret-0123456789")
    days = sessions(night("2025-01-02"), night("2025-12-31"))
    env.add_prices("AAA", synthetic_bars(days)); env.add_prices("BBB", synthetic_bars(days))
    env.script("AAA", ["empty"])
    r = refresh(tickers=["AAA","BBB"], as_of=days[-5]); print(r)

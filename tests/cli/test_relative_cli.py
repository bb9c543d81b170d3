"""Against a benchmark (SPEC §2d): `study --vs`, `analogs --vs`, `compare` and `path`, on
the shared real prices, each figure checked against a plain pandas calculation."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.factories import run_cli

AS_OF = "2026-07-31"


def closes(prices_dir, ticker: str) -> pd.Series:
    frame = pd.read_csv(prices_dir / f"{ticker}.csv", parse_dates=["date"]).set_index("date")
    return frame["close"].loc[:AS_OF]


def month_ends(daily: pd.Series) -> pd.Series:
    return daily.groupby(daily.index.to_period("M")).last()


@pytest.fixture
def iwm_vs_spy(capsys, prices_dir) -> dict:
    argv = ["study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--vs", "SPY"]
    argv += ["--vs-prices", str(prices_dir / "SPY.csv"), "--as-of", AS_OF, "--format", "json"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def test_relative_returns_equal_a_pandas_merge_of_the_two_month_end_series(iwm_vs_spy, prices_dir):
    iwm, spy = month_ends(closes(prices_dir, "IWM")), month_ends(closes(prices_dir, "SPY"))
    both = pd.concat({"iwm": iwm, "spy": spy}, axis=1)  # SPY's months outer-joined: a missing one is NaN
    move = iwm / iwm.shift(1) - 1
    assert iwm_vs_spy["vs"] == "SPY"
    by_month = {e["month"]: e for e in iwm_vs_spy["events"]}
    events = [m for m in move.index if move[m] >= 0.10 and str(m) in by_month]
    assert [str(m) for m in move.index[move >= 0.10]] == list(by_month)
    for h in (1, 3, 6, 12):
        ahead = both.shift(-h) / both - 1
        rel = (ahead["iwm"] - ahead["spy"]).reindex(iwm.index)
        for m in events:
            expected = rel[m]
            got = by_month[str(m)][f"fwd_{h}m"]
            assert (got is None and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-12), (h, m)
        known = rel[events].dropna()
        summary = next(s for s in iwm_vs_spy["summary"] if s["horizon"] == h)
        assert summary["n"] == len(known) and summary["average"] == pytest.approx(known.mean(), abs=1e-12)
        assert summary["win_rate"] == pytest.approx((known > 0).mean())
        assert summary["max_drawdown"] is None  # a drawdown of a difference is no figure
        baseline = next(s for s in iwm_vs_spy["baseline"] if s["horizon"] == h)
        assert baseline["average"] == pytest.approx(rel.dropna().mean(), abs=1e-12)
    # The finding: IWM beat SPY in 4 of 14 twelve-month windows, -1.3 pp on average.
    twelve = next(s for s in iwm_vs_spy["summary"] if s["horizon"] == 12)
    assert (round(twelve["win_rate"] * twelve["n"]), twelve["n"]) == (4, 14)
    assert round(twelve["average"] * 100, 1) == -1.3
    # The §2b figures are over the relative returns: the excess against relative months.
    stats = next(s for s in iwm_vs_spy["stats"] if s["horizon"] == 12)
    assert stats["excess"] == pytest.approx(
        twelve["average"] - next(b for b in iwm_vs_spy["baseline"] if b["horizon"] == 12)["average"]
    )


def test_a_month_the_benchmark_lacks_is_null_and_counted(capsys, prices_dir, tmp_path):
    spy = pd.read_csv(prices_dir / "SPY.csv")
    gap = spy[~spy["date"].str.startswith("2021-04")]  # SPY without April 2021: 2020-04 + 12M has no month
    gap.to_csv(tmp_path / "SPY.csv", index=False)
    argv = ["study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--vs", "SPY"]
    code, out, err = run_cli(
        capsys, *argv, "--vs-prices", str(tmp_path / "SPY.csv"), "--as-of", AS_OF, "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    april = next(e for e in doc["events"] if e["month"] == "2020-04")
    assert april["fwd_12m"] is None and april["fwd_1m"] is not None
    assert doc["vs_dropped"]["12"] >= 1
    code, table, _ = run_cli(
        capsys, *argv, "--vs-prices", str(tmp_path / "SPY.csv"), "--as-of", AS_OF, "--horizons", "12"
    )
    assert "events without a SPY month: " in table and "at 12M" in table


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--vs", "IWM"], "--vs IWM is the ticker studied"),
        (["--vs-prices", "SPY.csv"], "--vs-prices needs --vs TICKER"),
    ],
)
def test_bad_benchmarks_are_one_line(capsys, prices_dir, extra, message):
    code, out, err = run_cli(capsys, "study", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), *extra)
    assert code == 2 and out == "" and err.strip().splitlines() == [f"error: {err.strip()[7:]}"]
    assert message in err


def test_analogs_vs_follow_the_analogs_relative_to_the_benchmark(capsys, prices_dir, iwm_vs_spy):
    argv = ["analogs", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--month", "2026-04"]
    argv += ["--vs", "SPY", "--vs-prices", str(prices_dir / "SPY.csv"), "--as-of", AS_OF, "--format", "json"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    relative = {e["month"]: e["fwd_3m"] for e in iwm_vs_spy["events"]}
    for analog in json.loads(out)["analogs"]:
        assert analog["fwd_3m"] == pytest.approx(relative[analog["month"]], abs=1e-12)


def test_compare_is_each_return_since_the_last_close_before(capsys, prices_dir):
    argv = ["compare", "IWM,SPY,QQQ", "--since", "2025-08-01", "--as-of", "2026-04-20"]
    code, out, err = run_cli(capsys, *argv, "--prices-dir", str(prices_dir), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["since"], doc["as_of"]) == ("2025-08-01", "2026-04-20")
    rows = doc["returns"]
    assert [r["ticker"] for r in rows] == ["IWM", "SPY", "QQQ"]
    for r in rows:
        daily = pd.read_csv(prices_dir / f"{r['ticker']}.csv", parse_dates=["date"]).set_index("date")["close"]
        start, end = daily.loc[:"2025-07-31"], daily.loc[:"2026-04-20"]
        assert (r["start_date"], r["end_date"]) == (str(start.index[-1].date()), str(end.index[-1].date()))
        assert r["return"] == pytest.approx(end.iloc[-1] / start.iloc[-1] - 1, abs=1e-12)
        assert r["vs_first"] == pytest.approx(r["return"] - rows[0]["return"], abs=1e-12)
    code, table, _ = run_cli(capsys, *argv, "--prices-dir", str(prices_dir))
    assert "+26.42%" in table and "-14.29 pp" in table


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-05-01", "--as-of", "2026-04-20"], "--since 2026-05-01 is after --as-of 2026-04-20"),
        (["--since", "1990-01-01"], "IWM has no close before --since 1990-01-01 (its data starts 2000-05-26)"),
        (["--since", "August"], "--since"),
    ],
)
def test_compare_refuses_bad_dates_in_one_line(capsys, prices_dir, argv, message):
    code, out, err = run_cli(capsys, "compare", "IWM,SPY", *argv, "--prices-dir", str(prices_dir))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err


def test_path_is_the_close_d_sessions_after_the_event_months_last(capsys, prices_dir):
    argv = ["path", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--sessions", "10", "--as-of", AS_OF]
    code, out, err = run_cli(capsys, *argv, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    daily = closes(prices_dir, "IWM")
    last = daily.groupby(daily.index.to_period("M")).apply(lambda s: s.index[-1])
    move = month_ends(daily) / month_ends(daily).shift(1) - 1
    complete = last.index[last.index < pd.Period(AS_OF, "M") + 1]  # July 2026 ends on 07-31: complete
    events = [m for m in complete if move[m] >= 0.10]
    assert doc["events"] == [str(m) for m in events] and doc["vs"] is None and doc["sessions"] == 10
    position = {d: i for i, d in enumerate(daily.index)}
    values = daily.to_numpy()

    def paths(months) -> list[list[float]]:
        out = []
        for m in months:
            i = position[last[m]]
            out.append([values[i + d] / values[i] - 1 for d in range(11) if i + d < len(values)])
        return out

    for d, row in enumerate(doc["path"]):
        mine = np.array([p[d] for p in paths(events) if len(p) > d])
        every = np.array([p[d] for p in paths(complete) if len(p) > d])
        assert row["d"] == d and row["n"] == len(mine)
        assert row["mean"] == pytest.approx(mine.mean(), abs=1e-12) and row["median"] == pytest.approx(np.median(mine))
        assert (row["p25"], row["p75"]) == pytest.approx(tuple(np.quantile(mine, [0.25, 0.75])), abs=1e-12)
        assert row["all_mean"] == pytest.approx(every.mean(), abs=1e-12)
        assert row["all_p75"] == pytest.approx(np.quantile(every, 0.75), abs=1e-12)


def test_path_vs_subtracts_the_benchmarks_path_over_the_same_sessions(capsys, prices_dir):
    base = ["path", "--ticker", "IWM", "--prices", str(prices_dir / "IWM.csv"), "--sessions", "5", "--as-of", AS_OF]
    own = json.loads(run_cli(capsys, *base, "--format", "json")[1])
    rel = json.loads(
        run_cli(capsys, *base, "--vs", "SPY", "--vs-prices", str(prices_dir / "SPY.csv"), "--format", "json")[1]
    )
    iwm, spy = closes(prices_dir, "IWM"), closes(prices_dir, "SPY")
    last = iwm.groupby(iwm.index.to_period("M")).apply(lambda s: s.index[-1])
    for d in (1, 5):
        gaps = []
        for month in rel["events"]:
            anchor = last[pd.Period(month, "M")]
            i = iwm.index.get_loc(anchor)
            day = iwm.index[i + d]
            gaps.append((iwm[day] / iwm[anchor] - 1) - (spy[day] / spy[anchor] - 1))
        assert rel["path"][d]["mean"] == pytest.approx(np.mean(gaps), abs=1e-12)
        assert rel["path"][d]["median"] == pytest.approx(np.median(gaps), abs=1e-12)
    assert rel["vs"] == "SPY" and rel["events"] == own["events"] and rel["path"][0]["mean"] == 0.0

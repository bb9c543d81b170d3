"""The alert's signal-or-noise line (SPEC §2b): how sure the history behind an alert is."""

import datetime as dt

import polars as pl
import pytest

from surgewatch.alerts import alert_message
from surgewatch.alerts.messages import history_line
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study

APR = dt.date(2026, 4, 1)


def stats(*rows, excess: float = 0.0924, verdict: str = "beats random months") -> pl.DataFrame:
    """(horizon, n, chance_low, chance_high, placebo_p) rows of ticker IWM; q = p, n_independent = n - 5."""
    return pl.DataFrame(
        [("IWM", h, n, lo, hi, p, p, max(n - 5, 0), excess, verdict) for h, n, lo, hi, p in rows],
        schema={
            "ticker": pl.Utf8,
            "horizon": pl.Int64,
            "n": pl.UInt32,
            "chance_low": pl.Float64,
            "chance_high": pl.Float64,
            "placebo_p": pl.Float64,
            "q_value": pl.Float64,
            "n_independent": pl.UInt32,
            "excess": pl.Float64,
            "verdict": pl.Utf8,
        },
        orient="row",
    )


def summary(*rows) -> pl.DataFrame:
    """(horizon, n, average) rows of ticker IWM."""
    return pl.DataFrame(
        [("IWM", h, n, avg, 0.5) for h, n, avg in rows],
        schema={"ticker": pl.Utf8, "horizon": pl.Int64, "n": pl.UInt32, "average": pl.Float64, "win_rate": pl.Float64},
        orient="row",
    )


EVENTS = pl.DataFrame({"ticker": ["IWM"] * 2, "month": [dt.date(2020, 11, 1), dt.date(2024, 11, 1)]})
SUMMARY = summary((1, 14, 0.0197), (3, 14, 0.0764), (12, 14, 0.176))
STATS = stats((1, 14, -0.01, 0.05, 0.42), (3, 14, 0.03, 0.12, 0.0312), (12, 14, 0.0143, 0.1664, 0.03))


def alert(kind: str = "provisional") -> dict:
    return {"ticker": "IWM", "month": APR, "kind": kind, "move": 0.112, "as_of": dt.date(2026, 4, 17)}


def test_the_line_quotes_the_headline_horizon_against_its_chance_band():
    """The lowest q (SPEC §2b's headline horizon, the study's and the report's too), the
    events' mean against where 14 random months' mean falls 90% of the time."""
    assert history_line("IWM", SUMMARY, STATS) == (
        "History: beats random months at 12M: +17.6% avg after 14 such months; random sets of 14 months: "
        "+1.4% to +16.6%; an ordinary IWM month returned +8.4% (+9.2 pp, better); p=0.030, q=0.030, "
        "9 independent episodes"
    )
    lower = STATS.with_columns(q_value=pl.when(pl.col("horizon") == 3).then(0.01).otherwise(pl.col("q_value")))
    assert history_line("IWM", SUMMARY, lower).startswith("History: beats random months at 3M: +7.6% avg")
    tied = STATS.with_columns(q_value=pl.lit(0.05))
    assert history_line("IWM", SUMMARY, tied).startswith("History: beats random months at 1M:")  # ties: the shorter


def test_a_history_that_trailed_says_so():
    """QQQ's case: an events' mean below every month's is never 'do this well'; beside a
    verdict of no different the gap is a number within chance (SPEC §2b), and beside a
    verdict that leans, it is worse."""
    trailed = stats((12, 14, -0.01, 0.18, 0.175), excess=-0.0727, verdict="no different from random months")
    line = history_line("IWM", summary((12, 14, 0.0508)), trailed)
    assert "an ordinary IWM month returned +12.3% (-7.3 pp, within chance)" in line
    leaning = stats((12, 14, -0.01, 0.18, 0.08), excess=-0.0727, verdict="suggestive, not proven (worse)")
    assert "(-7.3 pp, worse)" in history_line("IWM", summary((12, 14, 0.0508)), leaning)
    assert line.startswith("History: no different from random months at 12M: +5.1% avg")
    assert "do this well" not in line


def test_a_horizon_without_an_event_never_heads_the_line():
    # A 12M row with no event yet (a young ticker) does not count as present.
    empty_twelve = stats((3, 14, 0.03, 0.12, 0.03), (12, 0, None, None, None))
    assert history_line("IWM", SUMMARY, empty_twelve).startswith("History: beats random months at 3M: +7.6% avg")


def test_small_samples_undefined_figures_and_tiny_p_values_are_said_plainly():
    one = history_line("IWM", summary((12, 1, 0.2)), stats((12, 1, -0.05, 0.2, 0.5)))
    assert one == (
        "History: beats random months at 12M: +20.0% avg after 1 such month; random sets of 1 months: -5.0% to "
        "+20.0%; an ordinary IWM month returned +10.8% (+9.2 pp, better); p=0.500, q=0.500, 0 independent "
        "episodes; small sample (n < 10)"
    )
    every = history_line("IWM", summary((12, 5, 0.1)), stats((12, 5, None, None, None)))
    assert "every month is such a month, so no random month to compare with; small sample" in every
    tiny = history_line("IWM", SUMMARY, stats((12, 14, 0.1, 0.2, 1 / 10_001)))
    assert tiny.endswith("p<0.001, q=0.000, 9 independent episodes")


def test_no_event_with_a_forward_return_no_line():
    assert history_line("IWM", SUMMARY, stats((12, 0, None, None, None))) is None
    assert history_line("SPY", SUMMARY, STATS) is None


@pytest.mark.parametrize("kind", ["provisional", "confirmed"])
def test_provisional_and_confirmed_messages_end_with_the_line(kind):
    body = alert_message(alert(kind), EVENTS, SUMMARY, 0.10, "up", STATS)
    lines = body.splitlines()
    assert lines[-1] == history_line("IWM", SUMMARY, STATS)
    assert "2 earlier +10% month(s) (2020-11 to 2024-11)" in body  # the rest is unchanged


def test_did_not_hold_and_a_message_without_stats_have_no_line():
    assert "avg 12M" not in alert_message(alert("did_not_hold"), EVENTS, SUMMARY, 0.10, "up", STATS)
    assert "avg 12M" not in alert_message(alert(), EVENTS, SUMMARY, 0.10)


def test_iwm_april_2026_provisional_alert_quotes_the_study(prices_dir):
    """The article's night: 14 earlier months with a 12M return averaging +17.6%."""
    result = run_study(read_price_csv(prices_dir / "IWM.csv", "IWM"), StudyParams(), as_of=dt.date(2026, 4, 17))
    body = alert_message(alert(), result.events, result.summary, 0.10, "up", result.stats)
    rows = result.stats.sort("q_value", "horizon").to_dicts()
    head = rows[0]  # the study's headline horizon
    mean = result.summary.filter(pl.col("horizon") == head["horizon"])["average"].item()
    band = f"{head['chance_low'] * 100:+.1f}% to {head['chance_high'] * 100:+.1f}%"
    assert body.splitlines()[-1] == (
        f"History: {head['verdict']} at {head['horizon']}M: {mean * 100:+.1f}% avg after {head['n']} such months; "
        f"random sets of {head['n']} months: {band}; an ordinary IWM month returned "
        f"{(mean - head['excess']) * 100:+.1f}% ({head['excess'] * 100:+.1f} pp, better); "
        f"p={head['placebo_p']:.3f}, q={head['q_value']:.3f}, {head['n_independent']} independent episodes"
    )
    assert body.splitlines()[-1] == (
        "History: suggestive, not proven (better) at 3M: +7.6% avg after 14 such months; random sets of 14 months: "
        "-2.2% to +6.3%; an ordinary IWM month returned +2.1% (+5.5 pp, better); p=0.029, q=0.115, "
        "13 independent episodes"
    )


def test_the_words_beside_the_verdict_never_contradict_it():
    """SPEC §2b: after "no different", the excess is a number "within chance", not "better"."""
    plain = stats((12, 14, 0.1, 0.2, 0.4)).with_columns(verdict=pl.lit("no different from random months"))
    line = history_line("IWM", SUMMARY, plain)
    assert "(+9.2 pp, within chance)" in line and "better" not in line
    few = stats((12, 3, 0.1, 0.2, 0.06)).with_columns(verdict=pl.lit("too few episodes"))
    assert "(+9.2 pp);" in history_line("IWM", SUMMARY, few)

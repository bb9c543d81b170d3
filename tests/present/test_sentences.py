"""The §2b result in words (present.sentences): signs, singulars, the strongest horizon."""

import pytest

from surgewatch.present.sentences import (
    GLOSSARY,
    feature_shares,
    glossary_lines,
    headline,
    horizon_sentence,
    p_value,
    pp,
    strongest,
)


def stats_row(**changes):
    """One horizon's stats row (SPEC §4 keys), a plain 'beats random months' by default."""
    row = {
        "horizon": 3,
        "n": 12,
        "verdict": "beats random months",
        "ci_low": 0.01,
        "ci_high": 0.08,
        "chance_low": -0.01,
        "chance_high": 0.045,
        "excess": 0.03,
        "placebo_p": 0.004,
        "q_value": 0.012,
        "n_independent": 9,
    }
    return row | changes


@pytest.mark.parametrize(
    ("fraction", "decimals", "shown"),
    [(0.0553, 2, "+5.53 pp"), (-0.0553, 1, "-5.5 pp"), (-0.00001, 2, "+0.00 pp"), (0.0, 2, "+0.00 pp")],
)
def test_pp_is_signed_points_and_never_minus_zero(fraction, decimals, shown):
    assert pp(fraction, decimals) == shown


@pytest.mark.parametrize(("p", "shown"), [(0.0004, "p<0.001"), (0.0005, "p=0.001"), (0.083, "p=0.083")])
def test_p_value(p, shown):
    assert p_value(p) == shown


def test_horizon_sentence_leads_with_the_verdict_and_sets_the_mean_against_the_chance_band():
    """SPEC §2b: the events' mean against where n random months' mean falls 90% of the
    time (what the verdict tests), not the bootstrap interval (which it does not)."""
    words = horizon_sentence(stats_row(), events_mean=0.05)
    assert words == (
        "beats random months: events' mean +5.00%; random sets of 12 months: -1.00% to +4.50%; "
        "+3.00 pp, better than random months; p=0.004, q=0.012, 9 independent episodes"
    )
    assert "CI" not in words


@pytest.mark.parametrize(
    ("changes", "mean", "expected"),
    [
        ({"n": 0}, 0.05, "no event has a complete window yet"),
        ({}, None, "no event has a complete window yet"),
        ({"excess": -0.02}, 0.01, "-2.00 pp, worse than random months"),
        ({"excess": 0.00001}, 0.01, "level with random months"),
        # Words beside a verdict never contradict it (SPEC §2b): the excess as a number.
        (
            {"verdict": "no different from random months", "excess": 0.0139},
            0.02,
            "+1.39 pp vs random months, within chance;",
        ),
        ({"verdict": "too few episodes", "excess": 0.173}, 0.27, "+17.30 pp vs random months; p="),
        ({"verdict": "suggestive, not proven (better)", "excess": 0.0522}, 0.07, "+5.22 pp, better than random months"),
        ({"placebo_p": None}, 0.01, "every month is an event, so no random month to compare with"),
        ({"n_independent": 1}, 0.01, "1 independent episode"),
        ({"n": 4}, 0.01, "(small sample: n = 4)"),
        ({"ci_low": None}, 0.01, "events' mean +1.00%; random sets of 12 months"),
    ],
)
def test_horizon_sentence_cases(changes, mean, expected):
    assert expected in horizon_sentence(stats_row(**changes), mean)


def test_the_headline_horizon_is_the_lowest_q_then_the_shorter():
    """SPEC §2b: the lowest q_value, ties to the shorter horizon (not the lowest p)."""
    rows = [
        stats_row(horizon=1, placebo_p=0.2, q_value=0.3),
        stats_row(horizon=3, placebo_p=0.02, q_value=0.04),
        stats_row(horizon=6, placebo_p=0.01, q_value=0.04),
        stats_row(horizon=12, n=0, placebo_p=None, q_value=None),
    ]
    assert strongest(rows)["horizon"] == 3
    assert (
        strongest(
            [stats_row(horizon=1, placebo_p=0.01, q_value=0.2), stats_row(horizon=12, placebo_p=0.03, q_value=0.1)]
        )["horizon"]
        == 12
    )
    untested = [
        stats_row(horizon=1, n=3, placebo_p=None, q_value=None),
        stats_row(horizon=3, n=5, placebo_p=None, q_value=None),
    ]
    assert strongest(untested)["horizon"] == 3
    assert strongest([stats_row(n=0)]) is None


def test_headline_names_the_ticker_the_verdict_and_the_horizon():
    assert headline("IWM", [stats_row()]) == (
        "IWM: beats random months at 3M (p=0.004, q=0.012, 9 independent episodes)"
    )
    assert headline("IWM", [stats_row(placebo_p=None)]) == "IWM: beats random months at 3M (9 independent episodes)"
    assert headline("IWM", []) == "IWM: no event has a complete forward window yet"


def test_feature_shares_largest_first_without_missing():
    assert feature_shares({"move": 0.1, "up_share": 0.7, "prior_12m": None}) == "up_share 70%, move 10%"


def test_glossary_aligns_meanings_and_continues_blank_terms():
    lines = glossary_lines("  ")
    assert len(lines) == len(GLOSSARY)
    columns = {line.index(meaning) for line, (_, meaning) in zip(lines, GLOSSARY)}
    assert len(columns) == 1  # every meaning starts in the same column
    for line, (term, _) in zip(lines, GLOSSARY):
        assert line.startswith(f"  {term}:" if term else "   ")

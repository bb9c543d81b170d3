"""How a §2b result reads in words, the same in the terminal, the report and the alerts
(SPEC §2b: lead with the verdict, the interval beside the events' mean it belongs to,
never a sentence against the result's sign), and the glossary of the §2b/§2c terms.

Ground floor: takes plain dicts of figures (a `stats` row of SPEC §4), no frames.
"""

from collections.abc import Mapping, Sequence

from surgewatch.present.formats import percent
from surgewatch.core.vocabulary import NO_DIFFERENT, SMALL_SAMPLE, TOO_FEW

# Every term a §2b/§2c table shows, one line each (`study --help`, README).
GLOSSARY = (
    ("verdict", "first rule that applies: too few episodes (< 5);"),
    ("", "beats / trails random months (q <= 0.05);"),
    ("", "suggestive, not proven (p <= 0.10); else no different"),
    ("events' mean", "the events' average forward return at the horizon"),
    ("chance band", "where the mean of n random months falls 90% of the time"),
    ("90% CI", "(--wide) 90% bootstrap interval of the events' mean"),
    ("random months' mean", "every month's average: what an ordinary month did"),
    ("excess", "events' mean minus random months', in points (pp)"),
    ("p", "share of random sets of n months as far from ordinary"),
    ("placebo draws", "random sets drawn for p (stops once 100 were as far)"),
    ("HAC t", "t of the excess, for overlapping windows (Newey-West)"),
    ("win p", "(--wide) binomial test of the events' share of gains"),
    ("independent episodes", "events a horizon apart: windows that do not overlap"),
    ("q", "p adjusted over 1,3,6,12M + asked (Benjamini-Hochberg)"),
    ("diff_p", "--when: permutation p of when's minus otherwise's mean"),
    ("distance", "analogs: Euclidean distance of standardised features"),
    ("(nn%)", "analogs: a feature's share of the squared distance"),
)


def glossary_lines(indent: str = "") -> list[str]:
    """The glossary as "term: meaning" lines, the meanings aligned (a blank term goes
    on with the line before)."""
    width = max(len(term) for term, _ in GLOSSARY) + 2
    return [f"{indent}{(term + ':') if term else '':<{width}}{meaning}" for term, meaning in GLOSSARY]


def feature_shares(shares: Mapping[str, float | None]) -> str:
    """An analog's {'move': 0.1, 'up_share': 0.7} → 'up_share 70%, move 10%' (largest first):
    which feature made it near or far."""
    ranked = sorted(((v, f) for f, v in shares.items() if v is not None), reverse=True)
    return ", ".join(f"{f} {v:.0%}" for v, f in ranked)


def pp(fraction: float, decimals: int = 2) -> str:
    """0.0553 → '+5.53 pp': a difference of two returns, in percentage points."""
    return f"{round(fraction * 100, decimals) + 0.0:+.{decimals}f} pp"


def p_value(p: float) -> str:
    return "p<0.001" if p < 0.0005 else f"p={p:.3f}"


def side(excess: float, verdict: str, decimals: int) -> str | None:
    """How the events fared against random months, in a word that never contradicts the
    verdict (SPEC §2b): "level" when the excess rounds to zero, "within chance" when the
    verdict is no different, None (the number alone) when there are too few episodes to
    say, else "better" or "worse"."""
    if round(excess * 100, decimals) == 0:
        return "level"
    if verdict == NO_DIFFERENT:
        return "within chance"
    if verdict == TOO_FEW:
        return None
    return "better" if excess > 0 else "worse"


def _versus(excess: float, verdict: str, decimals: int) -> str:
    word = side(excess, verdict, decimals)
    if word == "level":
        return "level with random months"
    if word in ("better", "worse"):
        return f"{pp(excess, decimals)}, {word} than random months"
    return f"{pp(excess, decimals)} vs random months" + (f", {word}" if word else "")


def horizon_sentence(stats: Mapping, events_mean: float | None, decimals: int = 2) -> str:
    """'suggestive, not proven (better): events' mean +17.60%; random sets of 14 months:
    +4.62% to +13.07%; +8.84 pp, better than random months; p=0.091, q=0.146, 9
    independent episodes' for one horizon's stats row (SPEC §4 keys): the events' mean
    against the chance band, which agrees with the verdict (the bootstrap interval does not
    answer "better than random months?" and stays in the details)."""
    if not stats["n"] or events_mean is None:
        return "no event has a complete window yet"
    words = f"{stats['verdict']}: events' mean {percent(events_mean, decimals=decimals)}; "
    if stats["placebo_p"] is None:
        words += "every month is an event, so no random month to compare with; "
    else:
        band = (
            f"{percent(stats['chance_low'], decimals=decimals)} to {percent(stats['chance_high'], decimals=decimals)}"
        )
        words += f"random sets of {stats['n']} months: {band}; "
        words += f"{_versus(stats['excess'], stats['verdict'], decimals)}; "
        words += f"{p_value(stats['placebo_p'])}, q={stats['q_value']:.3f}, "
    k = stats["n_independent"]
    words += f"{k} independent episode{'s' if k != 1 else ''}"
    return words + (f" (small sample: n = {stats['n']})" if stats["n"] < SMALL_SAMPLE else "")


def strongest(stats: Sequence[Mapping]) -> Mapping | None:
    """The headline horizon (SPEC §2b): the lowest q_value, ties to the shorter horizon;
    among horizons without a test, the one with the most events; None when no horizon has
    an event."""
    tested = [s for s in stats if s["n"] and s["q_value"] is not None]
    if tested:
        return min(tested, key=lambda s: (s["q_value"], s["horizon"]))
    counted = [s for s in stats if s["n"]]
    return max(counted, key=lambda s: (s["n"], s["horizon"])) if counted else None


def headline(ticker: str, stats: Sequence[Mapping]) -> str:
    """'IWM: suggestive, not proven (better) at 3M (p=0.029, q=0.058, 13 independent
    episodes)': the headline horizon's verdict."""
    s = strongest(stats)
    if s is None:
        return f"{ticker}: no event has a complete forward window yet"
    figures = f"{p_value(s['placebo_p'])}, q={s['q_value']:.3f}, " if s["placebo_p"] is not None else ""
    return f"{ticker}: {s['verdict']} at {s['horizon']}M ({figures}{s['n_independent']} independent episodes)"

"""The nightly benchmark's own logic, without running a night: the stage table it derives
from the flow's progress marks, the rows it lines up across nights, and the nights it
picks so that every kind of night is run."""

import datetime as dt

import pytest

from benchmarks.bench_nightly import COMPLETES, FIRST, MID, plan_nights, session_kinds, stage_rows
from benchmarks.nightly_child import EXIT, IMPORTS, START, Mark, stage_table
from benchmarks.universe import DEFAULT_END
from surgewatch.core.calendar import nyse_sessions

MB = 1_000_000


def _marks(*steps: str, start: float = 2.0, rss: int = 100 * MB) -> list[Mark]:
    """One mark a second from `start`, RSS growing 10 MB a mark, the peak following it."""
    return [Mark(step, start + i, rss + i * 10 * MB, rss + i * 10 * MB) for i, step in enumerate(steps)]


def _run(marks: list[Mark], samples=()):
    imported = Mark(IMPORTS, 1.0, 80 * MB, 80 * MB)
    called = Mark(START, 1.1, 81 * MB, 81 * MB)
    last = marks[-1].at if marks else 1.1
    returned = Mark(EXIT, last + 0.5, 90 * MB, 500 * MB)
    finished = Mark(EXIT, last + 0.6, 90 * MB, 500 * MB)
    return stage_table(imported, called, marks, returned, finished, samples)


def test_the_old_flows_marks_make_stages():
    marks = _marks("fetch", "fetch", "fetch", "validating prices", "computing the study", "alerts and publish")
    stages = _run(marks)

    assert [s["stage"] for s in stages] == [
        "imports",
        "start (Prefect, settings, open warehouse)",
        "fetch (3 tickers)",
        "validating prices",
        "computing the study",
        "alerts and publish",
        "exit",
    ]
    fetch = stages[2]
    assert (fetch["start"], fetch["end"], fetch["marks"]) == (2.0, 5.0, 3)
    assert (stages[0]["start"], stages[0]["end"], stages[1]["start"], stages[1]["end"]) == (0.0, 1.0, 1.1, 2.0)
    # Without a "done" mark, the last stage runs until the CLI returns, then "exit".
    assert (stages[-2]["end"], stages[-1]["start"], stages[-1]["end"]) == (7.5, 7.5, 7.6)
    for before, after in zip(stages[1:], stages[2:]):
        assert before["end"] == after["start"]


def test_the_new_flows_marks_and_unknown_ones_make_stages():
    steps = ["read stored state", "fetch", "fetch", "validate", "month-ends", "monthly stages", "a new stage"]
    steps += ["signal stats", "alerts", "publish", "done"]
    stages = _run(_marks(*steps))

    assert [s["stage"] for s in stages] == [
        "imports",
        "start (Prefect, settings, open warehouse)",
        "read stored state",
        "fetch (2 tickers)",
        "validate",
        "month-ends",
        "monthly stages",
        "a new stage",
        "signal stats",
        "alerts",
        "publish",
        "exit",
    ]
    assert [s["step"] for s in stages][-2:] == ["publish", "exit"]  # one row with the old flow's "exit"
    # "exit" runs from the "done" mark to the report; the CLI's return is inside it.
    assert (stages[-1]["start"], stages[-1]["end"]) == (12.0, 12.6)
    publish = stages[-2]
    assert (publish["start"], publish["end"], publish["rss"], publish["peak_rss"]) == (11.0, 12.0, 200 * MB, 200 * MB)


def test_fetches_apart_make_two_stages():
    stages = _run(_marks("fetch", "validate", "fetch", "fetch", "done"))
    assert [s["stage"] for s in stages][2:] == ["fetch (1 ticker)", "validate", "fetch (2 tickers)", "exit"]


def test_no_marks_at_all():
    stages = _run([])
    assert [s["stage"] for s in stages] == ["imports", "start (Prefect, settings, open warehouse)", "exit"]
    assert stages[1]["end"] == stages[2]["start"] == 1.6


def test_the_peak_during_a_stage_comes_from_the_samples_inside_it():
    marks = _marks("fetch", "validate", "publish")  # RSS 100, 110, 120 MB at the marks
    samples = [(2.5, 300 * MB), (3.2, 900 * MB), (3.9, 150 * MB), (4.4, 50 * MB)]
    stages = {s["stage"]: s for s in _run(marks, samples)}

    assert stages["fetch (1 ticker)"]["peak_rss_during"] == 300 * MB
    assert stages["validate"]["peak_rss_during"] == 900 * MB
    # No sample above its marks: the RSS at its start or end.
    assert stages["publish"]["peak_rss_during"] == 120 * MB
    assert stages["validate"]["rss"] == 120 * MB  # at its end: the next mark


def test_rows_line_up_nights_with_different_stages():
    def night(*steps):
        return {"stages": [{"stage": s, "step": s} for s in steps]}

    mid = night("imports", "start", "fetch", "validate", "signal stats", "publish", "exit")
    completes = night("imports", "start", "fetch", "validate", "month-ends", "monthly stages", "publish", "exit")
    assert stage_rows([mid, completes]) == [
        (step, 1)
        for step in ["imports", "start", "fetch", "validate", "month-ends", "monthly stages", "signal stats"]
        + ["publish", "exit"]
    ]
    twice = night("fetch", "validate", "fetch")
    assert stage_rows([twice]) == [("fetch", 1), ("validate", 1), ("fetch", 2)]


def test_session_kinds_follow_the_calendar():
    sessions = nyse_sessions(dt.date(2025, 11, 1), dt.date(2025, 12, 31))["date"].to_list()
    kinds = dict(zip(sessions, session_kinds(sessions)))
    assert kinds[dt.date(2025, 11, 3)] == FIRST
    assert kinds[dt.date(2025, 11, 26)] == MID  # Thanksgiving is the 27th: no session
    assert kinds[dt.date(2025, 11, 28)] == COMPLETES
    assert kinds[dt.date(2025, 12, 1)] == FIRST
    assert kinds[dt.date(2025, 12, 31)] == COMPLETES


@pytest.mark.parametrize("nights", [4, 5, 6, 9, 25])
def test_the_nights_run_every_kind_in_order(nights):
    plan = plan_nights(nights)
    dates, kinds = [d for d, _ in plan], [k for _, k in plan[1:]]

    assert len(kinds) == nights
    assert dates[-1] <= DEFAULT_END
    sessions = nyse_sessions(dates[0], dates[-1])["date"].to_list()
    assert dates == [d for d in sessions if dates[0] <= d <= dates[-1]]  # consecutive sessions
    assert kinds == [dict(zip(sessions, session_kinds(sessions)))[d] for d in dates[1:]]
    at = kinds.index(COMPLETES)
    assert kinds[0] == MID and MID in kinds[:at]
    assert kinds[at + 1] == FIRST and kinds[at + 2] == MID


@pytest.mark.parametrize("nights, kinds", [(1, [COMPLETES]), (2, [MID, COMPLETES]), (3, [MID, COMPLETES, FIRST])])
def test_few_nights_still_reach_the_month_end(nights, kinds):
    assert [k for _, k in plan_nights(nights)[1:]] == kinds


def test_the_last_month_that_fits_is_taken():
    # A month completes on the 31st, but the nights after it would pass the end: November's.
    assert plan_nights(5, end=dt.date(2025, 12, 31))[3][0] == dt.date(2025, 11, 28)
    assert plan_nights(5, end=dt.date(2026, 1, 6))[3][0] == dt.date(2025, 12, 31)

"""The refresh's decisions (flows/plan.py), without a fetch, a warehouse or Prefect."""

import datetime as dt

from surgewatch.flows.plan import Request, plan

D = dt.date
STORED = {"IWM": D(2024, 5, 30), "QQQ": D(2024, 5, 30), "SPY": D(2024, 5, 30)}


def test_a_month_end_night_fetches_the_asked_tickers_from_what_is_stored():
    todo = plan(STORED, Request(("IWM", "SPY", "QQQ"), as_of=D(2024, 5, 31)))
    assert todo.universe == ("IWM", "SPY", "QQQ")
    assert (todo.refused, todo.fetch_whole, todo.new, todo.rewinding, todo.note) == ("", frozenset(), (), False, "")


def test_a_night_without_as_of_never_refuses():
    todo = plan({"IWM": D(2030, 1, 2)}, Request(("IWM",)))
    assert todo.universe == ("IWM",) and not todo.refused


def test_a_subset_refresh_runs_only_the_asked_tickers():
    todo = plan(STORED, Request(("SPY",), as_of=D(2024, 5, 31)))
    assert todo.universe == ("SPY",) and not todo.rewinding


def test_a_new_ticker_is_fetched_whole_beside_the_others_incrementally():
    todo = plan(STORED, Request(("IWM", "RUT")))
    assert todo.universe == ("IWM", "RUT")
    assert (todo.new, todo.fetch_whole) == (("RUT",), frozenset({"RUT"}))


def test_the_first_load_fetches_everything_whole():
    todo = plan({}, Request(("IWM", "SPY")))
    assert (todo.new, todo.fetch_whole) == (("IWM", "SPY"), frozenset({"IWM", "SPY"}))


def test_a_restatement_re_fetched_with_full_replaces_every_asked_history():
    todo = plan(STORED, Request(("IWM", "SPY"), full=True))
    assert todo.fetch_whole == frozenset({"IWM", "SPY"}) and todo.new == ()


def test_an_earlier_as_of_is_refused_naming_the_tickers_ahead_and_the_way_out():
    stored = STORED | {"RUT": D(2024, 5, 10)}
    todo = plan(stored, Request(("IWM", "RUT"), as_of=D(2024, 5, 20)))
    assert todo.universe == ()
    assert todo.refused == (
        "`as_of` 2024-05-20 is before the last stored session of IWM (2024-05-30): publishing it would mix "
        "dates in one version; pass `rewind` to cut every ticker back to 2024-05-20, or `tickers` RUT to "
        "bring only those up to it"
    )


def test_a_ticker_ahead_but_not_asked_does_not_refuse():
    todo = plan(STORED | {"RUT": D(2024, 5, 10)}, Request(("RUT",), as_of=D(2024, 5, 20)))
    assert todo.universe == ("RUT",) and not todo.refused and not todo.rewinding


def test_a_rewind_cuts_every_stored_ticker_back_and_says_so():
    todo = plan(STORED | {"RUT": D(2024, 5, 10)}, Request(("SPY",), as_of=D(2024, 5, 20), rewind=True))
    assert todo.universe == ("SPY", "IWM", "QQQ", "RUT")
    assert todo.cut_to == D(2024, 5, 20) and todo.rewinding and not todo.refused
    assert todo.note == "rewound SPY, IWM, QQQ, RUT to 2024-05-20 (stored sessions ran to 2024-05-30)"


def test_rewind_with_nothing_ahead_is_an_ordinary_night():
    todo = plan(STORED, Request(("SPY",), as_of=D(2024, 5, 31), rewind=True))
    assert todo.universe == ("SPY",) and not todo.rewinding and todo.note == ""

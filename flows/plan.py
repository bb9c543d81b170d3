"""What a refresh will do, decided before any fetch from what is stored and what was asked.

Pure: the refresh flow reads the stored state, calls `plan`, and executes the Plan.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """A refresh as asked: the tickers (in order), the night, and the two overrides."""

    tickers: tuple[str, ...]
    as_of: dt.date | None = None
    full: bool = False
    rewind: bool = False
    # Stored tickers the night rewrites from their whole stored history (a bulk
    # source's dividend re-derivation): read and recomputed whole, not from a window.
    rederive: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """The refresh to run, or why none runs (`refused`).

    universe: the tickers to fetch and publish, in order. fetch_whole: those fetched
    over their whole history (`--full`, or nothing stored yet). new: those the warehouse
    does not hold yet. incremental: those whose published month-ends a night builds on
    (stored, not fetched whole, no rewind); the flow recomputes the others from their
    whole history, and so any of these that turns out to need it (restated by the
    provider, published with other parameters, a window too short). rederive: stored
    tickers whose whole stored history the fetch rewrites (Request.rederive), so not
    incremental. cut_to: a rewind's date: stored sessions after it are dropped,
    every history is rewritten whole, and one failed ticker publishes nothing (it would
    keep its later sessions beside the others' rewound ones). note: what the published
    run reports.
    """

    universe: tuple[str, ...] = ()
    refused: str = ""
    fetch_whole: frozenset[str] = frozenset()
    new: tuple[str, ...] = ()
    cut_to: dt.date | None = None
    note: str = ""
    incremental: tuple[str, ...] = ()
    rederive: frozenset[str] = frozenset()

    @property
    def rewinding(self) -> bool:
        return self.cut_to is not None


def plan(last_sessions: Mapping[str, dt.date], request: Request) -> Plan:
    """The refresh `request` asks for, given each stored ticker's last session.

    An as_of before the last stored session of an asked ticker is refused unless
    rewind: then every stored ticker, not only the asked ones, is cut back to as_of
    and republished, so no version mixes dates. Otherwise the asked tickers run, each
    fetched from its last stored session (the sources' overlap notices restatements)
    or whole when nothing is stored or `full` is asked.
    """
    as_of = request.as_of
    universe = request.tickers
    ahead = {t: d for t, d in last_sessions.items() if as_of is not None and d > as_of}
    refused = {t: ahead[t] for t in universe if t in ahead}
    if refused and not request.rewind:
        return Plan(refused=_ahead_message(as_of, universe, refused))
    cut_to = as_of if request.rewind and ahead else None
    if cut_to is not None:
        universe = (*universe, *(t for t in sorted(last_sessions) if t not in universe))
    new = tuple(t for t in universe if t not in last_sessions)
    whole = frozenset(universe if request.full else new)
    rederive = frozenset(t for t in request.rederive if t in universe and t not in whole)
    return Plan(
        universe=universe,
        fetch_whole=whole,
        new=new,
        incremental=() if cut_to is not None else tuple(t for t in universe if t not in whole | rederive),
        rederive=rederive,
        cut_to=cut_to,
        note=f"rewound {', '.join(universe)} to {cut_to} (stored sessions ran to {max(ahead.values())})"
        if cut_to is not None
        else "",
    )


def _ahead_message(as_of: dt.date | None, universe: tuple[str, ...], ahead: dict[str, dt.date]) -> str:
    """Why an as_of before some tickers' stored sessions is refused, and what would run."""
    others = [t for t in universe if t not in ahead]
    named = ", ".join(f"{t} ({d})" for t, d in ahead.items())
    way_out = f"pass `rewind` to cut every ticker back to {as_of}"
    if others:
        way_out += f", or `tickers` {','.join(others)} to bring only those up to it"
    return (
        f"`as_of` {as_of} is before the last stored session of {named}: publishing it would mix dates "
        f"in one version; {way_out}"
    )

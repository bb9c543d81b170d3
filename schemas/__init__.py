"""Pandera models: the contract between stages.

Every stage's output is validated here before the next stage reads it; a failure raises
one ValidationFailed that names the ticker, the rows and the rule broken.
"""

from surgewatch.schemas import _pandera  # noqa: F401  (first: pandera's polars API without pandas)
from surgewatch.schemas.models import (
    DailyPrices,
    MonthEnd,
    MonthlyReturns,
    SignalEvents,
    SignalStats,
    SignalSummary,
)
from surgewatch.schemas.validate import validate, validate_each_ticker

__all__ = [
    "DailyPrices",
    "MonthEnd",
    "MonthlyReturns",
    "SignalEvents",
    "SignalStats",
    "SignalSummary",
    "validate",
    "validate_each_ticker",
]

"""Pure polars transforms, one per figure of SPEC §2, in the order data flows.

daily prices → month_ends → context_fields → monthly_returns → signal_events → horizon_summary
→ signal_stats.
No I/O, no clocks, no globals: the trading calendar arrives as a frame argument.
Every function takes many tickers at once (a ``ticker`` column) and stays vectorised.
"""

from surgewatch.transforms.context_fields import context_fields
from surgewatch.transforms.events import signal_events
from surgewatch.transforms.month_ends import month_ends
from surgewatch.transforms.outside import series_fields, ticker_fields
from surgewatch.transforms.quality import missing_sessions
from surgewatch.transforms.relative import event_paths, path_summary, relative_paths, relative_returns, returns_since
from surgewatch.transforms.returns import monthly_returns
from surgewatch.transforms.significance import horizon_figures, signal_stats
from surgewatch.transforms.summary import horizon_summary
from surgewatch.transforms.types import BASIS_COLUMN, Basis, Direction

__all__ = [
    "BASIS_COLUMN",
    "Basis",
    "Direction",
    "context_fields",
    "event_paths",
    "path_summary",
    "relative_paths",
    "relative_returns",
    "returns_since",
    "series_fields",
    "ticker_fields",
    "horizon_summary",
    "missing_sessions",
    "month_ends",
    "monthly_returns",
    "signal_events",
    "horizon_figures",
    "signal_stats",
]

"""How a fraction prints, the same in the terminal, the alerts and the report; the output formats."""

from typing import Literal

Format = Literal["table", "csv", "json"]


def percent(fraction: float, *, signed: bool = True, decimals: int = 2) -> str:
    """0.1234 → '+12.34%' (signed; a flat zero prints '+0.00%', never '-0.00%') or
    '12.34%' (unsigned, for shares such as a win rate)."""
    if signed:
        return f"{round(fraction * 100, decimals) + 0.0:+.{decimals}f}%"
    return f"{abs(fraction) * 100:.{decimals}f}%"


def threshold_percent(threshold: float) -> str:
    """0.1 → '10%': a threshold as people say it, no trailing zeros."""
    return f"{threshold * 100:g}%"

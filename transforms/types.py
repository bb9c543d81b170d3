"""Vocabulary shared by the transforms."""

from typing import Literal

from surgewatch.core.vocabulary import Direction

__all__ = ["BASIS_COLUMN", "Basis", "Direction"]

Basis = Literal["price", "total"]

# price: split-adjusted close as chart APIs return it; total: dividends reinvested.
BASIS_COLUMN: dict[str, str] = {"price": "close", "total": "adj_close"}

"""Vocabulary shared by the transforms."""

from surgewatch.core.vocabulary import Basis, Direction

__all__ = ["BASIS_COLUMN", "Basis", "Direction"]

# price: split-adjusted close as chart APIs return it; total: dividends reinvested.
BASIS_COLUMN: dict[str, str] = {"price": "close", "total": "adj_close"}

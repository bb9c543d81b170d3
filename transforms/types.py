"""Vocabulary shared by the transforms."""

from typing import Literal

Basis = Literal["price", "total"]
Direction = Literal["up", "down"]

# price: split-adjusted close as chart APIs return it; total: dividends reinvested.
BASIS_COLUMN: dict[str, str] = {"price": "close", "total": "adj_close"}

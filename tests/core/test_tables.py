"""One shape per table (surgewatch/core/tables.py): the migrated warehouse, the pandera models
and the sources' raw frame agree with it."""

import re
from pathlib import Path

import polars as pl
import pytest

from surgewatch.core import tables
from surgewatch.schemas import DailyPrices, MonthlyReturns, SignalEvents, SignalStats, SignalSummary
from surgewatch.sources.base import RAW_SCHEMA
from surgewatch.core.vocabulary import PRICE_COLUMNS, STATISTICS
from surgewatch.warehouse import Warehouse
from surgewatch.warehouse.schema import LINEAGE, RESULT_TABLES
from tests.factories import settings_for

# How the released DDL stores each polars type: integers in INTEGER or BIGINT (counts and
# horizons fit 32 bits; volume and seed need 64).
_STORED_AS = {
    pl.String(): {"VARCHAR"},
    pl.Date(): {"DATE"},
    pl.Boolean(): {"BOOLEAN"},
    pl.Float64(): {"DOUBLE"},
    pl.UInt32(): {"INTEGER"},
    pl.Int64(): {"INTEGER", "BIGINT"},
}

_MODELS = {
    "prices_daily": DailyPrices,
    "month_end": MonthlyReturns,
    "signal_events": SignalEvents,
    "signal_summary": SignalSummary,
    "signal_stats": SignalStats,
}
# Columns a frame carries but its table does not, and why: the events frame keeps the
# month's close (month_end stores it); the summary's kind is which frame a row came from.
_FRAME_ONLY = {"signal_events": {"close"}}
_TABLE_ONLY = {"signal_summary": {"kind"}}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Per table, column -> SQL type, as every migration leaves the warehouse."""
    home: Path = tmp_path_factory.mktemp("tables") / "home"
    with Warehouse.open(settings_for(home)) as wh:
        return {
            table: dict(wh.sql(f"DESCRIBE {table}").select("column_name", "column_type").iter_rows())
            for table in tables.TABLES
        }


def test_every_result_table_has_a_shape_but_the_alert_ledger_and_the_context_series():
    assert set(RESULT_TABLES) - set(tables.TABLES) == {"alerts", "context_series"}


@pytest.mark.parametrize("table", tables.TABLES)
def test_the_warehouse_stores_the_shape_and_lineage(table: str, stored: dict[str, dict[str, str]]):
    shape, columns = tables.TABLES[table], stored[table]
    assert set(columns) - set(shape) <= LINEAGE, f"{table} stores columns its shape lacks"
    assert set(shape) <= set(columns), f"{table} lacks columns of its shape"
    wrong = {c: (t, columns[c]) for c, t in shape.items() if columns[c] not in _STORED_AS[t]}
    assert not wrong, f"{table}: shape type vs stored type {wrong}"


@pytest.mark.parametrize("table", _MODELS)
def test_each_pandera_model_declares_the_shape(table: str):
    schema = _MODELS[table].to_schema()
    shape = {c: t for c, t in tables.TABLES[table].items() if c not in tables.PARAMETERS}
    declared = {name: column.dtype.type for name, column in schema.columns.items() if not column.regex}
    # Horizon columns are declared by pattern, since a study's horizons vary.
    by_pattern = {
        c: column.dtype.type
        for name, column in schema.columns.items()
        if column.regex
        for c in shape
        if re.search(name, c)
    }
    assert set(declared) - _FRAME_ONLY.get(table, set()) == set(shape) - set(by_pattern) - _TABLE_ONLY.get(table, set())
    assert {c: t for c, t in declared.items() if c in shape} | by_pattern == {
        c: t for c, t in shape.items() if c in declared or c in by_pattern
    }


def test_the_sources_return_the_price_shape():
    assert RAW_SCHEMA == tables.PRICES
    assert tuple(tables.PRICES.names()) == PRICE_COLUMNS


def test_result_columns_leave_out_the_study_parameters():
    assert tables.result_columns(tables.SIGNAL_SUMMARY) == ("ticker", "kind", "horizon", *STATISTICS)

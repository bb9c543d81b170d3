"""The warehouse's tables: their exact DDL as numbered migrations, and the facts about them
that DuckLake cannot enforce (keys, allowed values) or that the code needs (lineage).

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints, only NOT NULL, so the keys and
enumerations below are checked in Python before every write (see staging.py).
Column lists for writes are read back from the catalog, so a migration that adds a column
is picked up without touching the write code.
"""

from dataclasses import dataclass
from typing import get_args

from surgewatch.core.vocabulary import BAR_COLUMNS, DEFAULT_HORIZONS, RunStatus, drawdown_columns, forward_columns
from surgewatch.warehouse.catalog import ALIAS

_HORIZON_COLUMNS = (*forward_columns(DEFAULT_HORIZONS), *drawdown_columns(DEFAULT_HORIZONS))


def _columns(names: tuple[str, ...], width: int) -> str:
    """DDL lines `name  TYPE,` (DOUBLE but for volume), names padded to `width` as in the tables below."""
    return "\n".join(f"        {name:<{width}}{'BIGINT' if name == 'volume' else 'DOUBLE'}," for name in names)


@dataclass(frozen=True)
class Migration:
    """One schema step: its statements and the schema_version row run in one snapshot."""

    version: int
    name: str
    statements: tuple[str, ...]


_INITIAL = (
    """
    CREATE TABLE schema_version (
        version     INTEGER NOT NULL,
        name        VARCHAR NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL
    )
    """,
    f"""
    CREATE TABLE prices_daily (
        ticker      VARCHAR NOT NULL,
        date        DATE NOT NULL,
{_columns(BAR_COLUMNS, 12)}
        source      VARCHAR,
        fetched_at  TIMESTAMPTZ,
        run_id      VARCHAR NOT NULL
    )
    """,
    f"""
    CREATE TABLE month_end (
        ticker          VARCHAR NOT NULL,
        month           DATE NOT NULL,
        as_of           DATE,
        close           DOUBLE,
        complete        BOOLEAN,
        sessions        INTEGER,
        up_sessions     INTEGER,
        prior_drawdown  DOUBLE,
        move            DOUBLE,
{_columns(_HORIZON_COLUMNS, 16)}
        basis           VARCHAR,
        run_id          VARCHAR NOT NULL
    )
    """,
    f"""
    CREATE TABLE signal_events (
        ticker            VARCHAR NOT NULL,
        month             DATE NOT NULL,
        as_of             DATE,
        complete          BOOLEAN,
        move              DOUBLE,
{_columns(_HORIZON_COLUMNS, 18)}
        sessions          INTEGER,
        up_sessions       INTEGER,
        prior_drawdown    DOUBLE,
        first_crossed_on  DATE,
        threshold         DOUBLE,
        direction         VARCHAR,
        basis             VARCHAR,
        run_id            VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE signal_summary (
        ticker        VARCHAR NOT NULL,
        kind          VARCHAR NOT NULL,
        horizon       INTEGER NOT NULL,
        n             INTEGER,
        average       DOUBLE,
        median        DOUBLE,
        win_rate      DOUBLE,
        sharpe        DOUBLE,
        max_drawdown  DOUBLE,
        threshold     DOUBLE,
        direction     VARCHAR,
        basis         VARCHAR,
        run_id        VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE runs (
        run_id         VARCHAR NOT NULL,
        started_at     TIMESTAMPTZ,
        finished_at    TIMESTAMPTZ,
        status         VARCHAR NOT NULL,
        as_of          DATE,
        source         VARCHAR,
        tickers        VARCHAR[],
        failed         JSON,
        rows_ingested  JSON,
        restated       VARCHAR[],
        snapshot_id    BIGINT,
        message        VARCHAR
    )
    """,
    """
    CREATE TABLE alerts (
        ticker       VARCHAR NOT NULL,
        month        DATE NOT NULL,
        kind         VARCHAR NOT NULL,
        move         DOUBLE,
        as_of        DATE,
        status       VARCHAR NOT NULL,
        attempts     INTEGER NOT NULL,
        created_run  VARCHAR,
        sent_run     VARCHAR,
        sent_at      TIMESTAMPTZ,
        message      VARCHAR
    )
    """,
)

# SPEC §2 context fields prior_12m and up_share. Rows written before this step read
# NULL in them until the next refresh recomputes those rows (a value change, so written).
_CONTEXT_FIELDS = tuple(
    f"ALTER TABLE {table} ADD COLUMN {column} DOUBLE"
    for table in ("month_end", "signal_events")
    for column in ("prior_12m", "up_share")
)

# SPEC §2b: the signal-or-noise figures of the published study, one row per ticker ×
# horizon, with the B and seed they were drawn with and the study's lineage.
_SIGNAL_STATS = (
    """
    CREATE TABLE signal_stats (
        ticker               VARCHAR NOT NULL,
        horizon              INTEGER NOT NULL,
        n                    INTEGER,
        n_independent        INTEGER,
        average_independent  DOUBLE,
        excess               DOUBLE,
        ci_low               DOUBLE,
        ci_high              DOUBLE,
        placebo_p            DOUBLE,
        placebo_percentile   DOUBLE,
        win_p                DOUBLE,
        t_hac                DOUBLE,
        q_value              DOUBLE,
        resamples            INTEGER,
        seed                 BIGINT,
        threshold            DOUBLE,
        direction            VARCHAR,
        basis                VARCHAR,
        run_id               VARCHAR NOT NULL
    )
    """,
)

# SPEC §2b as it now reads: the sequential placebo test's number of sets, and the verdict.
_SEQUENTIAL_PLACEBO = (
    "ALTER TABLE signal_stats ADD COLUMN placebo_draws INTEGER",
    "ALTER TABLE signal_stats ADD COLUMN verdict VARCHAR",
)

# SPEC §2b: the chance band, the placebo draws' 5th-95th percentile means. Rows published
# before it hold nulls there; the next night recomputes them (study.update._stale_stats).
_CHANCE_BAND = (
    "ALTER TABLE signal_stats ADD COLUMN chance_low DOUBLE",
    "ALTER TABLE signal_stats ADD COLUMN chance_high DOUBLE",
)

# SPEC §2d: dated series from outside prices (a policy rate…), by name; `source` says
# where it came from (`csv:FILE` or `fred:ID`: the latter is refreshed nightly).
_CONTEXT_SERIES = (
    """
    CREATE TABLE context_series (
        name     VARCHAR NOT NULL,
        date     DATE NOT NULL,
        value    DOUBLE,
        source   VARCHAR NOT NULL,
        run_id   VARCHAR NOT NULL
    )
    """,
    # Data files in zstd from here on (DuckLake's lake-wide option, kept in the catalog): a
    # night's rewritten rows are about 11% smaller than in snappy, which keeps the night a
    # month completes within SPEC §4b's 3 MB since signal_stats gained the chance band.
    f"CALL {ALIAS}.set_option('parquet_compression', 'zstd')",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial tables", _INITIAL),
    Migration(2, "context fields prior_12m and up_share", _CONTEXT_FIELDS),
    Migration(3, "signal_stats: the signal-or-noise figures", _SIGNAL_STATS),
    Migration(4, "signal_stats: placebo_draws and verdict", _SEQUENTIAL_PLACEBO),
    Migration(5, "signal_stats: chance_low and chance_high", _CHANCE_BAND),
    Migration(6, "context_series: series from outside prices; data files in zstd", _CONTEXT_SERIES),
)
"""Every schema step ever released, in order. Append, never edit a released one."""

KEYS: dict[str, tuple[str, ...]] = {
    "prices_daily": ("ticker", "date"),
    "month_end": ("ticker", "month"),
    "signal_events": ("ticker", "month"),
    "signal_summary": ("ticker", "kind", "horizon"),
    "signal_stats": ("ticker", "horizon"),
    "alerts": ("ticker", "month", "kind"),
    "context_series": ("name", "date"),
}

ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("signal_summary", "kind"): frozenset({"events", "baseline"}),
    ("alerts", "kind"): frozenset({"provisional", "confirmed", "did_not_hold"}),
    # recorded: no alert target was configured, so nothing was sent (and nothing will be).
    ("alerts", "status"): frozenset({"pending", "sent", "failed", "recorded"}),
}

RUN_STATUSES = frozenset(get_args(RunStatus))

RESULT_TABLES = (
    "prices_daily",
    "month_end",
    "signal_events",
    "signal_summary",
    "signal_stats",
    "alerts",
    "context_series",
)
"""The tables `diff` compares; also the allow-list for table names built into SQL."""

LINEAGE = frozenset({"run_id", "source", "fetched_at", "created_run", "sent_run"})
"""Where a row came from, not what it says: a diff ignores these, so re-running a night
that changes no value shows no difference."""

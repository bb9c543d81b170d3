"""Claims an article makes beside its table (SPEC §3, §2d), each checked against the
same prices: a month to date (`month` claims: move, sessions, up sessions, prior
drawdown through as_of) or a return since a date (`since` claims, as `compare` computes
it), for the checked ticker or another one (the Russell 2000's correction is RUT's)."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

import surgewatch.transforms as tf
from surgewatch.core.errors import InputError
from surgewatch.core.params import StudyParams
from surgewatch.core.tickers import normalize_ticker
from surgewatch.study.published import audit_cell, read_table
from surgewatch.study.run import run_study

# What a month claim may be about, and which of those are fractions (given in percent,
# as the article prints them) rather than counts.
CLAIM_COLUMNS = {"move": True, "sessions": False, "up_sessions": False, "prior_drawdown": True}
CLAIM_KINDS = ("month", "since")
SINCE_TOLERANCE_PP = 0.5  # SPEC §2d: a return since a date is quoted to the point


def _date(path: Path, name: str, raw: object) -> date:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InputError(f"{path}: {name} {raw!r} is not a date (YYYY-MM-DD)") from None


def claim_rows(
    path: Path, ticker: str, prices: pl.DataFrame, prices_of: Callable[[str], pl.DataFrame], threshold: float
) -> list[list[object]]:
    """Each claim of the file beside its computed value (audit rows). Columns: as_of,
    published, and optionally kind (month, the default, or since), ticker (default:
    `ticker`, whose prices are `prices`; another one's come from prices_of), column (a
    month claim's: CLAIM_COLUMNS) and since (a since claim's date)."""
    claims = read_table(path, ["as_of", "published"])
    loaded = {ticker: prices}
    months: dict[tuple[str, date], pl.DataFrame] = {}
    rows = []
    for record in claims.iter_rows(named=True):
        kind = str(record.get("kind") or "month")
        if kind not in CLAIM_KINDS:
            raise InputError(f"{path}: unknown kind {kind!r} (one of {', '.join(CLAIM_KINDS)})")
        who = normalize_ticker(str(record.get("ticker") or ticker))
        if who not in loaded:
            loaded[who] = prices_of(who)
        as_of = _date(path, "as_of", record["as_of"])
        label = "" if who == ticker else f"{who} "
        if kind == "since":
            since = _date(path, "since", record.get("since"))
            ret = tf.returns_since(loaded[who], [who], since, as_of)["return"][0]
            column = f"{label}since {since}".strip()
            rows.append(
                audit_cell(
                    f"claim to {as_of}", f"{as_of:%Y-%m}", column, record["published"], ret, True, SINCE_TOLERANCE_PP
                )
            )
            continue
        column = str(record.get("column"))
        if column not in CLAIM_COLUMNS:
            raise InputError(f"{path}: unknown column {column!r} (one of {', '.join(CLAIM_COLUMNS)})")
        if (who, as_of) not in months:
            monthly = run_study(loaded[who], StudyParams(threshold=threshold), as_of=as_of).monthly
            months[who, as_of] = monthly.filter(pl.col("month") == as_of.replace(day=1))
        month = months[who, as_of]
        computed = month[column][0] if month.height else None
        row = audit_cell(
            f"claim to {as_of}",
            f"{as_of:%Y-%m}",
            f"{label}{column}",
            record["published"],
            computed,
            CLAIM_COLUMNS[column],
        )
        rows.append(row)
    return rows

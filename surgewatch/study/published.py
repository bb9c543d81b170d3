"""Published-vs-computed audit (SPEC §3): every published cell beside our figure.

Differences over the tolerance are flagged, never explained away; qualifying months the
table lacks are flagged too. What can be derived about their cause is said in notes
(never used to clear a flag). Published figures are percents; ours are fractions.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from surgewatch.core.errors import InputError
from surgewatch.core.params import StudyParams
from surgewatch.study.run import StudyResult, run_study
import surgewatch.transforms as tf
from surgewatch.core.vocabulary import DEFAULT_THRESHOLD, STATISTICS, drawdown_column, forward_column

TOLERANCE_PP = 0.05
HEADER_AUDIT = ["check", "month", "column", "published", "computed", "difference", "flag"]
_SUMMARY_STATS = {
    "average_pct": "average",
    "median_pct": "median",
    "win_rate_pct": "win_rate",
    "sharpe": "sharpe",
    "max_drawdown_pct": "max_drawdown",
}


@dataclass(frozen=True)
class Audit:
    """The comparison rows (HEADER_AUDIT order), whether any was flagged, and the notes
    on their cause that the rows themselves show."""

    rows: list[list[object]]
    notes: tuple[str, ...] = ()

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.rows if r[-1])


def published_summary_beside(table: Path) -> Path | None:
    """The published summary that goes with a published table: published_summary.csv in
    the same folder, when there is one (the convention of ../shared/data/reference)."""
    candidate = table.parent / "published_summary.csv"
    return candidate if candidate.is_file() else None


def read_table(path: Path, required: list[str]) -> pl.DataFrame:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        frame = pl.read_csv(path, infer_schema_length=None)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: not a readable CSV ({exc.__class__.__name__})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame


def _horizons(columns: list[str]) -> tuple[int, ...]:
    return tuple(sorted(int(c.split("_")[1].rstrip("m")) for c in columns if c.startswith("fwd_")))


def audit_published(
    prices: pl.DataFrame,
    table_path: Path,
    summary_path: Path | None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Audit:
    """Compare a published event table (month, move_pct, fwd_<h>m_pct…) and optionally
    its summary (statistic, fwd_<h>m…) with the study computed from prices (claims about
    a month to date or a return since a date: study.claims)."""
    table = read_table(table_path, ["month", "move_pct"])
    horizons = _horizons([c.removesuffix("_pct") for c in table.columns])
    if not horizons:
        raise InputError(f"{table_path}: no fwd_<h>m_pct columns")
    result = run_study(prices, StudyParams(threshold=threshold, horizons=horizons))
    monthly = result.monthly.with_columns(label=pl.col("month").dt.strftime("%Y-%m"))
    by_month = {r["label"]: r for r in monthly.iter_rows(named=True)}
    published_months = table["month"].cast(pl.Utf8).to_list()
    last_published = max(published_months)

    rows: list[list[object]] = []
    for record in table.iter_rows(named=True):
        month = str(record["month"])
        computed = by_month.get(month)
        if computed is None:
            rows.append(["event", month, "month", None, None, None, "no data for this month"])
            continue
        for column in ["move", *(forward_column(h) for h in horizons)]:
            rows.append(audit_cell("event", month, column, record.get(f"{column}_pct"), computed[column]))
        if computed["move"] is not None and computed["move"] < threshold:
            rows.append(
                [
                    "event",
                    month,
                    "move",
                    record["move_pct"],
                    computed["move"] * 100,
                    None,
                    f"not a {threshold:.0%} month in the data",
                ]
            )

    for event in result.events.iter_rows(named=True):
        month = event["month"].strftime("%Y-%m")
        if month not in published_months:
            status = "" if event["complete"] else " (partial)"
            rows.append(
                [
                    "missing",
                    month,
                    "move",
                    None,
                    event["move"] * 100,
                    None,
                    ("after the table ends" if month > last_published else "not in the table") + status,
                ]
            )

    notes: tuple[str, ...] = ()
    if summary_path is not None:
        summary_rows = _summary_rows(result, summary_path, horizons, last_published)
        notes = (_summary_note(table, horizons, summary_rows, rows, last_published),)
        rows += summary_rows
    return Audit(rows, notes)


def _summary_rows(
    result: StudyResult, summary_path: Path, horizons: tuple[int, ...], last_published: str
) -> list[list[object]]:
    """Our summary over every qualifying month through the table's last month (the
    definition), beside the published one."""
    published = read_table(summary_path, ["statistic"])
    events = result.events.filter(pl.col("month").dt.strftime("%Y-%m") <= last_published)
    ours = tf.horizon_summary(events, horizons)
    by_horizon = {r["horizon"]: r for r in ours.iter_rows(named=True)}
    label = f"summary ≤ {last_published}"
    rows = []
    for record in published.iter_rows(named=True):
        stat = _SUMMARY_STATS.get(str(record["statistic"]))
        if stat is None:
            raise InputError(f"{summary_path}: unknown statistic {record['statistic']!r}")
        for h in horizons:
            column = forward_column(h)
            if column in record:
                value = by_horizon.get(h, {}).get(stat)
                rows.append(audit_cell(label, stat, column, record[column], value, percent=stat != "sharpe"))
    return rows


def audit_cell(
    check: str,
    month: str,
    column: str,
    published: float | None,
    computed: float | None,
    percent: bool = True,
    tolerance: float = TOLERANCE_PP,
) -> list[object]:
    """One comparison row: the computed value (in percent when `percent`) beside the
    published one, flagged when they differ by more than `tolerance`."""
    ours = None if computed is None else computed * (100 if percent else 1)
    if published is None or ours is None:
        flag = "" if published is None and ours is None else "one side is missing"
        return [check, month, column, published, ours, None, flag]
    difference = ours - published
    flag = f"differs by {difference:+.2f}" if abs(difference) > tolerance + 1e-9 else ""
    return [check, month, column, published, ours, difference, flag]


def _summary_note(
    table: pl.DataFrame,
    horizons: tuple[int, ...],
    summary_rows: list[list[object]],
    event_rows: list[list[object]],
    last_published: str,
) -> str:
    """Whether the published summary is the summary of the table's own rows: if it is, its
    differences from ours come from the flagged cells and the missing months alone."""
    own_rows = table.select(
        pl.lit("published").alias("ticker"),
        *(pl.col(f"{forward_column(h)}_pct").cast(pl.Float64).truediv(100).alias(forward_column(h)) for h in horizons),
        *(pl.lit(None, dtype=pl.Float64).alias(drawdown_column(h)) for h in horizons),
    )
    own = {r["horizon"]: r for r in tf.horizon_summary(own_rows, horizons).iter_rows(named=True)}
    # A maximum drawdown needs the month-end paths, which a table of returns does not hold.
    disagree = []
    for _, stat, column, published, *_ in summary_rows:
        value = own[_horizons([str(column)])[0]][str(stat)]
        if published is None or value is None:
            continue
        if abs(value * (1 if stat == "sharpe" else 100) - float(published)) > TOLERANCE_PP + 1e-9:  # type: ignore[arg-type]  # a CSV number
            disagree.append(f"{stat} {column}")
    rows = f"its own {table.height} rows"
    if disagree:
        return f"the published summary is not the summary of {rows}: {', '.join(disagree)} differ"
    flagged = [str(r[1]) for r in event_rows if r[0] == "event" and r[-1]]
    missing = [str(r[1]) for r in event_rows if r[0] == "missing" and str(r[1]) <= last_published]
    causes = [
        f"the {len(flagged)} flagged cells ({', '.join(dict.fromkeys(flagged))})" if flagged else "",
        f"the missing {', '.join(missing)}" if missing else "",
    ]
    stats = [s for s in STATISTICS if s not in ("n", "max_drawdown")]
    return (
        f"the published summary ({', '.join(stats)}) equals the summary of {rows}: "
        f"the difference from ours comes from {' and '.join(c for c in causes if c) or 'nothing in the rows'}"
    )

"""The universe after a night's fetches: each fetch overlaid on its ticker's stored rows,
and what the warehouse must write for them."""

from dataclasses import dataclass

import polars as pl

from surgewatch.sources.incremental import Fetched
from surgewatch.sources.ingest import KEY, VALUES, merged_prices, new_prices


@dataclass(frozen=True)
class Ingested:
    """The universe after this run's fetches, and what the warehouse must write for it."""

    prices: pl.DataFrame
    to_write: pl.DataFrame
    replace_history: frozenset[str]
    rows_ingested: dict[str, int]
    restated: tuple[str, ...]


def ingested(stored: pl.DataFrame, fetches: list[Fetched]) -> Ingested:
    """Overlay each fetch on the stored prices of its ticker.

    A full-history fetch replaces the ticker's stored series; an incremental one adds
    the sessions it brought and overwrites the overlap. rows_ingested counts the rows
    that are new, changed or gone, so a re-run of the same night counts 0.

    Memory: a first load is all full-history fetches, tens of millions of rows at
    thousands of tickers. Their frames are concatenated without copying (pl.concat
    does not rechunk) in ticker order and serve as `prices` and `to_write` as they
    are; only a night that overlays stored rows makes a sorted copy. Rows equal to
    stored ones are found with a semi join, skipped when nothing is stored yet.
    """
    tickers = [f.ticker for f in fetches]
    whole = [f.ticker for f in fetches if f.full_history]
    empty = stored.head(0)
    # Each fetch is sorted by date (PriceSource), so in ticker order they are sorted by KEY.
    in_order = sorted(fetches, key=lambda f: f.ticker)
    replaced = pl.concat([f.prices for f in in_order if f.full_history] or [empty])
    overlay = pl.concat([f.prices for f in in_order if not f.full_history] or [empty])
    before = stored.filter(pl.col("ticker").is_in(tickers))
    kept_before = before.filter(~pl.col("ticker").is_in(whole))
    if kept_before.is_empty() and overlay.is_empty():
        after = replaced  # a first load: the fetched frames themselves, no sorted copy
    else:
        after = pl.concat([merged_prices(kept_before, overlay), replaced]).sort(KEY)
    changed = new_prices(kept_before, overlay)
    # Even an empty right side costs a join's row encoding of the left: skip it then.
    unchanged = (
        empty
        if before.is_empty()
        else replaced.join(before.select(*KEY, *VALUES), on=[*KEY, *VALUES], how="semi", nulls_equal=True)
    )
    gone = empty if before.is_empty() else before.join(after, on=KEY, how="anti")
    counts: dict[str, int] = {}
    for frame, sign in ((changed, 1), (gone, 1), (replaced, 1), (unchanged, -1)):
        for ticker, n in frame["ticker"].value_counts().iter_rows():
            counts[ticker] = counts.get(ticker, 0) + sign * n
    return Ingested(
        prices=after,
        to_write=pl.concat([changed, replaced]),
        replace_history=frozenset(whole),
        rows_ingested=dict.fromkeys(tickers, 0) | counts,
        restated=tuple(f.ticker for f in fetches if f.restated.height),
    )

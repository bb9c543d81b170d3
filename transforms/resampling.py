"""The random figures of SPEC §2b: bootstrap interval and random-month placebo test.

No Python loop over resamples: each draw is an index matrix with one row per resample.
Tickers that share a shape share the draws (one bootstrap draw per event count n, one
placebo draw per population size N), so the work is a handful of matrix operations
per shape, whatever the number of tickers.

How the generator is consumed (part of what a seed means; keep it fixed): every shape
has its own generators — ``numpy.random.default_rng([seed, 1, n])`` for the bootstrap
of n events, ``default_rng([seed, 2, N, r])`` for round r of the placebo sets of a
population of N months — so a ticker's figures depend only on its own returns, the seed
and B, never on which other tickers share the study.
- bootstrap (n): ``integers(0, n, size=(rows, n))`` for consecutive blocks of
  ``_DRAW_ROWS`` resamples, B rows in all (row b = the n positions resample b takes);
- placebo (N): rounds of ``ROUND`` sets (B in all, the last round shorter); in each, a
  partial Fisher–Yates shuffle of ``range(N)`` in every set at once — step k = 0, 1, …
  draws ``integers(k, N, size=rows)`` and swaps position k with the drawn one — so the
  first n positions of a set are a uniform n-subset of the N months, for every n; steps
  stop at the largest n still undecided. The test is sequential: a ticker stops drawing
  once ``AS_FAR`` sets were as far as its events (Besag & Clifford 1991).
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

CONFIDENCE = 0.90
# The chance band: where the mean of n random months falls CONFIDENCE of the time.
_CHANCE = ((1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2)
_BOOTSTRAP, _PLACEBO = 1, 2
_DRAW_ROWS = 2_048  # resamples drawn per block: part of what a seed means, keep it fixed
_CELLS = 1 << 18  # resample × ticker cells summed at once: bounds memory, not results
_SHUFFLE_CELLS = 1 << 21  # month × set cells shuffled side by side: a few MB, so the swaps stay in cache (fastest here)
_BLOCK = 32  # tickers per bootstrap product: every product has this shape (see bootstrap_ci)
# Resample means equal to the observed one up to float rounding count as ties (as in
# scipy.stats.permutation_test), so an exact tie never depends on summation order.
_TIE = 100 * np.finfo(np.float64).eps
# Besag–Clifford's h (SPEC §2b): a sequential test stops once this many sets were as far.
AS_FAR = 100
# Placebo sets drawn per round, each round from its own generator: part of what a seed
# means (keep it fixed); a p-value near 0.5 is decided inside the first round.
ROUND = 512
# Ticker-horizons from which the random figures use the compiled kernels: one ticker's
# four horizons (a `study` of one file) would spend more importing numba than they save.
COMPILED_FROM = 64


@dataclass(frozen=True)
class Returns:
    """Forward returns of many tickers in one flat array: ticker i's values are
    ``values[start[i] : start[i] + size[i]]``, in month order."""

    values: np.ndarray
    start: np.ndarray
    size: np.ndarray

    @staticmethod
    def stack(parts: "list[Returns]") -> "Returns":
        """The parts' tickers one after another (e.g. every horizon's), so that shapes are
        shared, and their draws made once, across all of them."""
        offsets = np.cumsum([0] + [len(part.values) for part in parts[:-1]])
        return Returns(
            np.concatenate([part.values for part in parts]),
            np.concatenate([part.start + offset for part, offset in zip(parts, offsets)]),
            np.concatenate([part.size for part in parts]),
        )

    def matrix(self, tickers: np.ndarray, length: int) -> np.ndarray:
        """(length × len(tickers)): column j = the first `length` values of tickers[j]."""
        return self.values[self.start[tickers][None, :] + np.arange(length)[:, None]]


def _use_kernels(ticker_horizons: int, compiled: bool | None) -> bool:
    """compiled as asked, else whether this many ticker-horizons reach COMPILED_FROM."""
    return ticker_horizons >= COMPILED_FROM if compiled is None else compiled


def _groups(sizes: np.ndarray, eligible: np.ndarray):
    """(size, tickers with that size) over the eligible tickers, sizes ascending."""
    for size in np.unique(sizes[eligible]):
        yield int(size), np.flatnonzero(eligible & (sizes == size))


def bootstrap_ci(
    events: Returns, resamples: int, seed: int, compiled: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per ticker: the 5th and 95th percentiles (linear interpolation) of B resample
    means, each resample n of the ticker's n event returns drawn with replacement.
    NaN where n < 2.

    mean_b = Σ_i c_bi · R_i / n with c_b the times resample b took return i, the draws
    made once per event count n and shared by every ticker with that n: one matrix
    product per block of _BLOCK tickers, always of that shape (the last block padded
    with zeros), since a product's last bits can depend on its shape; so a ticker's
    figures are those it has alone, whichever tickers (of whichever stacked part, e.g.
    horizon) share its block.
    compiled: the draws counted and the percentiles read by transforms.kernels (the same
    interval); by default when at least COMPILED_FROM ticker-horizons are resampled.
    """
    compiled = _use_kernels(len(events.size), compiled)
    low = np.full(events.size.shape, np.nan)
    high = low.copy()

    def one_size(n: int, tickers: np.ndarray) -> None:
        counts = _bootstrap_counts(n, resamples, seed, compiled)
        # One block and one product buffer per event count: a fresh 2.5 MB product per block
        # is a fresh mmap, its pages faulted in each time.
        block, sums = np.zeros((_BLOCK, n)), np.empty((_BLOCK, resamples))
        for i in range(0, len(tickers), _BLOCK):
            members = tickers[i : i + _BLOCK]
            block[len(members) :] = 0.0
            block[: len(members)] = events.matrix(members, n).T
            np.matmul(block, counts, out=sums)
            low[members], high[members] = percentiles(sums[: len(members)], _CHANCE, compiled, divisor=n)

    # Products this small are fastest on one BLAS thread (OpenBLAS's own threads cost ~20x
    # here); the cores go to the event counts instead, each drawing its own counts, the
    # dearest first so that the last ones left are small. A core holds one count's draws
    # at a time: all of them would be Σn·B floats (0.56 GB at 3,000 tickers × 4 horizons).
    sizes = sorted(_groups(events.size, events.size >= 2), key=lambda group: -group[0] * (len(group[1]) + 1))
    with threadpool_limits(limits=1, user_api="blas"):
        _in_threads(one_size, sizes)
    return low, high


def _bootstrap_counts(n: int, resamples: int, seed: int, compiled: bool = False) -> np.ndarray:
    """(n × resamples): row i = how often each resample of n took return i, drawn by
    ``default_rng([seed, kind, n])`` _DRAW_ROWS resamples at a time; compiled: drawn and
    counted by transforms.kernels.count_bounded from the generator's raw words (the same
    draws: numpy's steps for a scalar bound, one 32-bit half a try, whatever the blocks).
    Held resample by resample (the transpose of a C-order array), so a resample's n counts
    share cache lines."""
    rng = np.random.default_rng([seed, _BOOTSTRAP, n])
    by_resample = np.zeros((resamples, n))
    if compiled and n < 1 << 32:
        from surgewatch.transforms.kernels import count_bounded

        _from_raw_words(rng, resamples * n, lambda raw: count_bounded(raw, n, by_resample))
        return by_resample.T
    for first in range(0, resamples, _DRAW_ROWS):
        rows = min(_DRAW_ROWS, resamples - first)
        taken = rng.integers(0, n, size=(rows, n))
        taken += n * np.arange(rows)[:, None]
        by_resample[first : first + rows] = np.bincount(taken.ravel(), minlength=rows * n).reshape(rows, n)
    return by_resample.T


def _from_raw_words(rng: np.random.Generator, draws: int, kernel) -> None:
    """kernel(raw) over the fresh generator's raw words, a word per two draws and a few
    spare; with more words, from the start, in the rare case that rejections used them up
    (kernel returns < 0; it must start over from zero)."""
    raw = rng.bit_generator.random_raw((draws + 1) // 2 + 16)
    while kernel(raw) < 0:
        raw = np.concatenate([raw, rng.bit_generator.random_raw(draws // 2 + 16)])


def percentiles(
    values: np.ndarray, probabilities: tuple[float, ...], compiled: bool = False, divisor: float = 1.0
) -> tuple[np.ndarray, ...]:
    """Per row, np.quantile(row / divisor, p) with linear interpolation (numpy's rule and rounding:
    h = (B − 1)·p, x_⌊h⌋ + (x_⌊h⌋+1 − x_⌊h⌋)·(h − ⌊h⌋), from the upper neighbour when
    h − ⌊h⌋ ≥ 0.5). Sorts `values` in place (numpy's vectorised sort of a whole row beats
    its partition here: 2.6 ms against 3.7 for 32 rows of 10,000; the caller's matrix of
    means is not needed afterwards); compiled, reads the two neighbours from
    transforms.kernels.order_statistics instead (≈ 18 µs a row against the sort's 89).
    divisor (> 0): only the order statistics read are divided, the same values as those of
    the divided row (dividing keeps the order), so the bootstrap divides 4 sums a row, not B."""
    size = values.shape[1]
    cuts = [((size - 1) * p, int(np.floor((size - 1) * p))) for p in probabilities]
    ranks = sorted({rank for _, k in cuts for rank in (k, min(k + 1, size - 1))})
    if compiled:
        from surgewatch.transforms.kernels import order_statistics

        picked = order_statistics(values, np.array(ranks, np.int64))
        at = {rank: picked[:, q] / divisor for q, rank in enumerate(ranks)}
    else:
        values.sort(axis=1)
        at = {rank: values[:, rank] / divisor for rank in ranks}
    return tuple(_between(at[k], at[min(k + 1, size - 1)], h - k) for h, k in cuts)


def _between(below: np.ndarray, above: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """np.quantile's linear step from the order statistic below h to the one above, t =
    h − ⌊h⌋ of the way, as numpy rounds it: from the upper neighbour when t ≥ 0.5."""
    diff = above - below
    return np.where(t >= 0.5, above - diff * (1 - t), below + diff * t)


def _in_threads(work, tasks: list) -> None:
    """work(*task) for every task, on as many threads as the machine has cores: numpy's
    element-wise loops and partitions release the GIL, and the tasks write disjoint rows."""
    if len(tasks) < 2:
        for task in tasks:
            work(*task)
        return
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for _ in pool.map(lambda task: work(*task), tasks):
            pass


def placebo_rounds(
    shapes: list[tuple[int, int]], round_: int, rows: int, seed: int, compiled: bool = False
) -> list[np.ndarray]:
    """Round `round_` of several populations side by side: per (size N, length) a
    (length × rows) array whose column b is the first `length` positions of a uniform
    random permutation of range(N), by a partial Fisher–Yates shuffle of every column at
    once, drawn by ``default_rng([seed, kind, N, round_])`` — so the sets a ticker sees
    depend only on its N, the seed and how many sets it needed, never on the other
    populations of the batch. Side by side only spares Python's loop per step.

    Only what the swaps touched is stored: moved[c, p] = 1 + the value position p of
    column c holds, 0 while it still holds p (np.zeros costs no writes, where a full
    range(N) per column would cost N × rows of them), so each step is two gathers and one
    scatter; the draws are the plain shuffle's, in the same order (step k of a
    population draws ``integers(k, N, size=rows)``; the generator gives the same
    numbers drawn for every step at once). compiled: the swaps by transforms.kernels
    (the same sets).
    """
    out: list[np.ndarray] = [np.empty((0, rows), np.int32)] * len(shapes)
    order = sorted(range(len(shapes)), key=lambda i: -shapes[i][1])  # longest first: a step's columns lead
    batches: list[list[int]] = [[]]
    for i in order:
        batch = batches[-1]
        if batch and (len(batch) + 1) * rows * max(shapes[b][0] for b in (*batch, i)) > _SHUFFLE_CELLS:
            batches.append(batch := [])
        batch.append(i)
    for batch in batches:
        for i, sets in zip(batch, _shuffle_side_by_side([shapes[i] for i in batch], round_, rows, seed, compiled)):
            out[i] = sets
    return out


def _sets_by_size(
    shapes: list[tuple[int, int]], round_: int, rows: int, seed: int, compiled: bool
) -> dict[int, np.ndarray]:
    """placebo_rounds by population size (each size is one population of the test)."""
    return {size: sets for (size, _), sets in zip(shapes, placebo_rounds(shapes, round_, rows, seed, compiled))}


def _shuffle_side_by_side(
    shapes: list[tuple[int, int]], round_: int, rows: int, seed: int, compiled: bool
) -> list[np.ndarray]:
    """placebo_rounds of populations in order of falling length, in one array."""
    sizes = np.array([size for size, _ in shapes])
    lengths = np.array([length for _, length in shapes])
    longest = int(lengths.max(initial=0))
    column_size = np.repeat(sizes, rows)
    drawn = np.zeros((longest, len(column_size)), np.int64)
    for i, (size, length) in enumerate(shapes):
        rng = np.random.default_rng([seed, _PLACEBO, size, round_])
        steps = drawn[:length, i * rows : (i + 1) * rows]
        if compiled:
            _integers_rising(rng, size, steps)
        else:
            steps[:] = rng.integers(np.arange(length)[:, None], size, size=(length, rows))
    sets = np.empty((longest, len(column_size)), np.int32)
    if compiled:
        from surgewatch.transforms.kernels import partial_shuffles

        partial_shuffles(drawn, column_size, np.repeat(lengths, rows), sets)
        return [sets[:length, i * rows : (i + 1) * rows] for i, length in enumerate(lengths)]
    base = np.cumsum(column_size) - column_size  # where each column's positions start in `moved`
    moved = np.zeros(int(column_size.sum()), np.int32)
    for k in range(longest):
        width = rows * int(np.searchsorted(-lengths, -k, side="left"))  # columns of populations longer than k
        j = drawn[k, :width]
        at = base[:width] + j
        here, there = moved[base[:width] + k], moved[at]
        sets[k, :width] = np.where(there > 0, there - 1, j)
        moved[at] = np.where(here > 0, here, k + 1)
    return [sets[:length, i * rows : (i + 1) * rows] for i, length in enumerate(lengths)]


def _integers_rising(rng: np.random.Generator, high: int, out: np.ndarray) -> None:
    """out = rng.integers(np.arange(len(out))[:, None], high, size=out.shape), rng fresh,
    by transforms.kernels.bounded_integers over the generator's raw words (numpy's
    per-element loop for array bounds costs 15 ns a draw; this ≈ 3.5, raw words included)."""
    from surgewatch.transforms.kernels import bounded_integers

    if high >= 1 << 32:  # numpy's 64-bit steps: never a population of months
        out[:] = rng.integers(np.arange(len(out))[:, None], high, size=out.shape)
        return
    _from_raw_words(rng, out.size, lambda raw: bounded_integers(raw, high, out))


@dataclass(frozen=True)
class _Tally:
    """The sequential test's running counts for the tickers of one population size N,
    in order of falling n (so the k-th drawn month adds to a leading block of columns)."""

    values: np.ndarray  # N × tickers: each ticker's returns in month order
    n: np.ndarray  # events per ticker
    mu: np.ndarray  # mean of the population
    distance: np.ndarray  # |observed − mu|, less the tie allowance
    ceiling: np.ndarray  # observed, plus the tie allowance
    as_far: np.ndarray
    below: np.ndarray
    drawn: np.ndarray
    # The lowest / highest `tail` set means drawn so far, per ticker (rows: tickers; inf
    # where fewer were drawn): all the chance band's percentiles read, since a ticker
    # draws at most B sets. Compiled, a row holds a round more than that (its first
    # `held` values, as many as `limit` let in; the rest unwritten) and is cut back to the
    # tail only when full: most tickers decide within their first round and are never cut.
    low: np.ndarray
    high: np.ndarray
    tail: int
    held: np.ndarray  # tickers × 2 (low, high): values in the row, compiled
    limit: np.ndarray  # tickers × 2: a value not below it cannot enter (inf before a cut)
    compiled: bool  # add's loops by transforms.kernels (the same figures)

    def add(self, live: np.ndarray, samples: np.ndarray, decided: np.ndarray, lo: int, hi: int) -> None:
        """Count the round's sets (samples: length × rows) for live[lo:hi]; mark who stopped."""
        block, rows = live[lo:hi], samples.shape[1]
        counts = self.n[block]
        # C order: indexing the columns leaves numpy's result in F order, whose rows numba
        # cannot add as vectors (0.9 ns an add instead of 0.3).
        columns = np.ascontiguousarray(self.values[:, block])
        sums = np.zeros((rows, len(block)))
        if self.compiled:
            from surgewatch.transforms.kernels import add_set_sums, count_sets

            add_set_sums(columns, np.ascontiguousarray(samples), counts, sums)
            count_sets(
                sums,
                counts,
                block,
                self.mu,
                self.distance,
                self.ceiling,
                self.as_far,
                self.below,
                self.drawn,
                self.low,
                self.high,
                self.held,
                self.limit,
                decided[lo:hi],
                AS_FAR,
                self.tail,
            )
            return
        for k in range(int(counts[0])):
            width = int(np.searchsorted(-counts, -k, side="left"))  # tickers with n > k
            sums[:, :width] += columns[samples[k], :width]
        means = sums / counts
        far = np.cumsum(np.abs(means - self.mu[block]) >= self.distance[block], axis=0) + self.as_far[block]
        low = np.cumsum(means <= self.ceiling[block], axis=0) + self.below[block]
        hit = far[-1] >= AS_FAR
        stop = np.where(hit, np.argmax(far >= AS_FAR, axis=0), rows - 1)
        pick = np.arange(len(block))
        self.as_far[block], self.below[block] = far[stop, pick], low[stop, pick]
        self.drawn[block] += stop + 1
        decided[lo:hi] = hit
        taken = np.arange(rows)[:, None] <= stop
        for kept, new in ((self.low, np.where(taken, means, np.inf)), (self.high, np.where(taken, -means, np.inf))):
            merged = np.concatenate([kept[block], new.T], axis=1)
            merged.partition(self.tail - 1, axis=1)  # in place: np.partition would copy it first
            kept[block] = merged[:, : self.tail]

    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """The 5th and 95th percentiles of each ticker's L drawn means (np.quantile's
        linear rule), read off the tails: rank r ascending of L is low's r-th smallest,
        or high's (L − 1 − r)-th."""
        size = self.drawn
        cuts = []
        for p in _CHANCE:
            k = np.floor((size - 1) * p).astype(np.int64)
            cuts.append((k, np.minimum(k + 1, size - 1), (size - 1) * p - k))
        (k, k1, _), (m, m1, _) = cuts
        if self.compiled:
            from surgewatch.transforms.kernels import held_ranks

            low = held_ranks(self.low, self.held[:, 0], np.stack([k, k1], axis=1))
            high = -held_ranks(self.high, self.held[:, 1], np.stack([size - 1 - m1, size - 1 - m], axis=1))[:, ::-1]
        else:
            rows = np.arange(len(size))[:, None]
            low = np.sort(self.low, axis=1)[rows, np.stack([k, k1], axis=1)]
            high = -np.sort(self.high, axis=1)[rows, np.stack([size - 1 - m, size - 1 - m1], axis=1)]
        # Columns: the order statistic below each percentile, then the one above.
        return _between(low[:, 0], low[:, 1], cuts[0][2]), _between(high[:, 0], high[:, 1], cuts[1][2])


@dataclass
class _Population:
    """The tickers of one population size N in the sequential test, in order of falling n."""

    size: int
    tickers: np.ndarray
    tally: _Tally
    live: np.ndarray  # positions in tickers of those still undecided, in the same order


def placebo(
    population: Returns, n: np.ndarray, observed: np.ndarray, resamples: int, seed: int, compiled: bool | None = None
):
    """Per ticker, the sequential random-month test (Besag & Clifford 1991): sets of n
    months drawn without replacement from its N months (population), set after set;
    with mean_b a set's mean and μ_A the population mean, a set is *as far* when
    |mean_b − μ_A| ≥ |observed − μ_A|. Drawing stops once AS_FAR sets were as far, or
    after B = resamples sets. With L sets drawn and k as far:
    placebo_p = k / L when drawing stopped early, else (1 + k) / (B + 1);
    placebo_percentile = #{b ≤ L : mean_b ≤ observed} / L; placebo_draws = L;
    chance_low, chance_high = the 5th and 95th percentiles of mean_1 … mean_L (linear
    interpolation, as np.quantile). NaN where n = 0 or n = N.

    Returns (placebo_p, placebo_percentile, placebo_draws, chance_low, chance_high). Sets come in rounds of ROUND
    (the last one shorter) and a round is drawn only for the tickers still undecided;
    the stopping set is found inside its round, so the figures do not depend on ROUND
    beyond what a seed means. compiled: sum the sets with transforms.kernels (the same
    figures); by default when at least COMPILED_FROM ticker-horizons are tested.
    """
    compiled = _use_kernels(len(n), compiled)
    p_value = np.full(n.shape, np.nan)
    percentile = p_value.copy()
    draws = np.zeros(n.shape, np.int64)
    chance_low, chance_high = p_value.copy(), p_value.copy()
    tail = int(np.ceil((resamples - 1) * _CHANCE[0])) + 2
    width = tail + ROUND if compiled else tail

    def tails(rows: int) -> np.ndarray:
        # Compiled, a row is read only up to its `held` values: left unwritten, the pages
        # of the rows that never fill (most) are never touched (2 × 97 MB at 12,000 rows).
        return np.empty((rows, width)) if compiled else np.full((rows, width), np.inf)

    big_n = population.size
    groups: list[_Population] = []
    for size, tickers in _groups(big_n, (n > 0) & (n < big_n)):
        tickers = tickers[np.argsort(-n[tickers], kind="stable")]
        values = population.matrix(tickers, size)
        mu = values.mean(axis=0)
        target = observed[tickers]
        zeros = np.zeros(len(tickers), np.int64)
        tally = _Tally(
            values,
            n[tickers],
            mu,
            np.abs(target - mu) * (1 - _TIE),
            target + _TIE * np.abs(target),
            zeros,
            zeros.copy(),
            zeros.copy(),
            tails(len(tickers)),
            tails(len(tickers)),
            tail,
            np.zeros((len(tickers), 2), np.int64),
            np.full((len(tickers), 2), np.inf),
            compiled,
        )
        groups.append(_Population(size, tickers, tally, np.arange(len(tickers))))
    # A round's sets are drawn while the round before is counted, for that round's shapes:
    # a population's live tickers only fall, and so does its longest n, and a shorter
    # length's sets are the first rows of a longer one's (placebo_rounds), so the sets are
    # those a round drawn for its own shapes gets.
    with ThreadPoolExecutor(max_workers=1) as ahead:
        upcoming = None
        for round_, first in enumerate(range(0, resamples, ROUND)):
            active = [group for group in groups if len(group.live)]
            if not active:
                break
            rows = min(ROUND, resamples - first)
            # Every population's round at once: its live ticker with the most events sets its length.
            shapes = [(group.size, int(group.tally.n[group.live[0]])) for group in active]
            drawn = _sets_by_size(shapes, round_, rows, seed, compiled) if upcoming is None else upcoming.result()
            later = min(ROUND, resamples - first - ROUND)
            upcoming = ahead.submit(_sets_by_size, shapes, round_ + 1, later, seed, compiled) if later > 0 else None
            tasks, decided = [], []
            step = max(1, _CELLS // rows)
            for group, (_, length) in zip(active, shapes):
                samples = drawn[group.size][:length]
                decided.append(np.zeros(len(group.live), bool))
                tasks += [
                    (group.tally, group.live, samples, decided[-1], lo, lo + step)
                    for lo in range(0, len(group.live), step)
                ]
            _in_threads(lambda tally, *task: tally.add(*task), tasks)
            for group, stopped in zip(active, decided):
                group.live = group.live[~stopped]
    for group in groups:
        tickers, tally = group.tickers, group.tally
        early = tally.as_far >= AS_FAR
        p_value[tickers] = np.where(
            early, tally.as_far / np.maximum(tally.drawn, 1), (1 + tally.as_far) / (resamples + 1)
        )
        percentile[tickers] = tally.below / tally.drawn
        draws[tickers] = tally.drawn
        chance_low[tickers], chance_high[tickers] = tally.band()
    return p_value, percentile, draws, chance_low, chance_high


def placebo_means(population: np.ndarray, n: int, resamples: int, seed: int) -> np.ndarray:
    """B random-month means for one ticker with these N months (in month order) and n
    events, for drawing the distribution the observed mean is compared with: the same
    rounds `placebo` draws, so its first placebo_draws means are the sets the published
    test used. Empty where n = 0 or n = N (no test)."""
    size = len(population)
    if not 0 < n < size:
        return np.empty(0)
    values = np.asarray(population, dtype=np.float64)
    rounds = [
        placebo_rounds([(size, n)], round_, min(ROUND, resamples - first), seed)[0]
        for round_, first in enumerate(range(0, resamples, ROUND))
    ]
    return values[np.concatenate(rounds, axis=1)].mean(axis=0)

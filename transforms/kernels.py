"""Compiled inner loops of the random figures (SPEC §2b), where `make bench` showed numpy's
per-step overhead dominating: each is checked bit for bit against the numpy loop it
replaces (tests/transforms/test_kernels.py), so a seed gives the same figures either way.

numba is imported with this module (~0.6 s), so transforms.resampling imports it only for
studies large enough to repay that (COMPILED_FROM). The compiled code is cached beside the
module (numba's cache=True): a machine's first such study compiles it (~8 s), later ones
load it.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def add_set_sums(columns: np.ndarray, samples: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> None:
    """sums[r, j] += Σ_{k < counts[j]} columns[samples[k, r], j], adding in order of k, as
    the numpy loop ``sums[:, :width] += columns[samples[k], :width]`` does; counts must
    not increase with j, so step k adds to a leading block of columns. Releases the GIL."""
    width = columns.shape[1]
    for k in range(samples.shape[0]):
        while width > 0 and counts[width - 1] <= k:
            width -= 1
        if width == 0:
            break
        for r in range(samples.shape[1]):
            source = columns[samples[k, r]]
            target = sums[r]
            for j in range(width):
                target[j] += source[j]


@numba.njit(cache=True, nogil=True)
def partial_shuffles(drawn: np.ndarray, size: np.ndarray, length: np.ndarray, sets: np.ndarray) -> None:
    """Column c of sets = the first length[c] positions of range(size[c]) after the partial
    Fisher–Yates shuffle whose step k swaps position k with drawn[k, c] (≥ k): sets[k, c]
    is the value position k holds after step k. The columns are independent, so one after
    another gives what resampling._shuffle_side_by_side's steps over all columns give."""
    moved = np.zeros(size.max(), np.int64)  # 1 + the value a touched position holds, 0 if untouched
    for c in range(drawn.shape[1]):
        for k in range(length[c]):
            j = drawn[k, c]
            here, there = moved[k], moved[j]
            sets[k, c] = there - 1 if there > 0 else j
            moved[j] = here if here > 0 else k + 1
        for k in range(length[c]):  # untouched again for the next column
            moved[k] = 0
            moved[drawn[k, c]] = 0


@numba.njit(cache=True, nogil=True)
def bounded_integers(raw: np.ndarray, high: int, out: np.ndarray) -> int:
    """out[k, c] = what ``rng.integers(np.arange(rows)[:, None], high, size=out.shape)``
    gives (high < 2³²), from raw = that fresh generator's ``bit_generator.random_raw``
    words (_lemire); returns the 32-bit halves used, or -1 if raw ran out."""
    j, half = 0, False
    for k in range(out.shape[0]):
        span = np.uint64(high - k)
        threshold = _threshold(span)
        for c in range(out.shape[1]):
            drawn, j, half = _lemire(raw, j, half, span, threshold)
            if drawn < 0:
                return -1
            out[k, c] = k + drawn
    return 2 * j - half


@numba.njit(cache=True, nogil=True)
def count_bounded(raw: np.ndarray, n: int, by_resample: np.ndarray) -> int:
    """by_resample[r, i] = how often resample r took return i, its n draws being what
    ``rng.integers(0, n, size=(rows, n))`` gives, call after call, from raw = that fresh
    generator's random_raw words (_lemire: PCG64 keeps a word's spare half between calls,
    so the blocks of rows do not matter); returns the halves used, or -1 if raw ran out."""
    by_resample[:] = 0.0
    span = np.uint64(n)
    threshold = _threshold(span)
    j, half = 0, False
    for r in range(by_resample.shape[0]):
        row = by_resample[r]
        for _ in range(n):
            drawn, j, half = _lemire(raw, j, half, span, threshold)
            if drawn < 0:
                return -1
            row[drawn] += 1.0
    return 2 * j - half


@numba.njit(cache=True, nogil=True, inline="always")
def _threshold(span: np.uint64) -> np.uint64:
    """Lemire's rejection bound for draws onto span values: (2³² − span) mod span."""
    return (np.uint64(0xFFFFFFFF) - (span - np.uint64(1))) % span


@numba.njit(cache=True, nogil=True, inline="always")
def _lemire(raw: np.ndarray, j: int, half: bool, span: np.uint64, threshold: np.uint64) -> tuple[np.int64, int, bool]:
    """One of numpy's bounded draws onto 0 … span − 1 (span ≤ 2³²): a try is a 32-bit half
    of a raw word, the low half first (PCG64's next_uint32; half: the high half of
    raw[j − 1] is next), Lemire's multiply-shift, the try rejected while the product's low
    32 bits are below threshold. → (draw, j, half); draw −1 when raw ran out."""
    mask = np.uint64(0xFFFFFFFF)
    while True:
        if half:
            word = raw[j - 1] >> np.uint64(32)
        else:
            if j == raw.shape[0]:
                return np.int64(-1), j, half
            word = raw[j] & mask
            j += 1
        half = not half
        product = word * span
        if (product & mask) >= threshold:
            return np.int64(product >> np.uint64(32)), j, half


@numba.njit(cache=True, nogil=True)
def count_sets(
    sums: np.ndarray,
    counts: np.ndarray,
    block: np.ndarray,
    mu: np.ndarray,
    distance: np.ndarray,
    ceiling: np.ndarray,
    as_far: np.ndarray,
    below: np.ndarray,
    drawn: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    held: np.ndarray,
    limit: np.ndarray,
    decided: np.ndarray,
    enough: int,
    tail: int,
) -> None:
    """resampling._Tally.add's counting of one round for the tickers block[j] (sums[:, j]
    their set sums, counts[j] their n): set by set, mean = sum / n; as_far +1 when
    |mean − mu| ≥ distance, below +1 when mean ≤ ceiling; stop at the set where as_far
    reaches `enough` (decided), else take the whole round. low / high: the means /
    negated means of the sets taken are added to the row's first held[t, side] values;
    a full row is cut back to its `tail` smallest, whose largest becomes the limit a
    value must be below to enter, so the row's `tail` smallest are those of every set
    drawn (the numpy loop's kept multiset)."""
    rows = sums.shape[0]
    for j in range(block.shape[0]):
        t = block[j]
        far, under, stop = as_far[t], below[t], rows - 1
        for r in range(rows):
            mean = sums[r, j] / counts[j]
            far += abs(mean - mu[t]) >= distance[t]
            under += mean <= ceiling[t]
            if far >= enough:
                stop = r
                break
        as_far[t], below[t] = far, under
        drawn[t] += stop + 1
        decided[j] = far >= enough
        for side in range(2):
            row = low[t] if side == 0 else high[t]
            sign = 1.0 - 2.0 * side  # × ±1 is exact: the mean or its negation
            size, bound = held[t, side], limit[t, side]
            for r in range(stop + 1):
                value = sign * (sums[r, j] / counts[j])
                if not value < bound:
                    continue
                if size == row.shape[0]:
                    size, bound = tail, _nth(row, tail - 1)  # the row's tail smallest now lead
                    if not value < bound:
                        continue
                row[size] = value
                size += 1
            held[t, side], limit[t, side] = size, bound


@numba.njit(cache=True, nogil=True)
def held_ranks(kept: np.ndarray, held: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """out[i, q] = kept[i, : held[i]] sorted ascending, at rank ranks[i, q] (ranks[i]
    ascending, possibly equal)."""
    out = np.empty(ranks.shape)
    for i in range(kept.shape[0]):
        out[i] = _select(kept[i, : held[i]].copy(), ranks[i])
    return out


@numba.njit(cache=True, nogil=True)
def order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """out[i, q] = values[i] sorted ascending, at rank ranks[q] (0-based; ranks ascending),
    as np.sort(values, axis=1)[:, ranks]. Ranks in the lower half are read from the
    row's values ≤ a low pivot, those in the upper half from its values ≥ a high one
    (≈ 8% of a row each), selected in place (_nth); a sample of the row sets the pivots
    just past the ranks. A pivot that keeps too few values (a rare sample) falls back to
    the whole row."""
    rows, size = values.shape
    out = np.empty((rows, ranks.shape[0]))
    lower = ranks < size // 2
    low_ranks, high_ranks = ranks[lower], ranks[~lower]
    low_top = low_ranks[-1] if low_ranks.shape[0] else -1  # the low side needs more than this many values
    high_need = size - high_ranks[0] if high_ranks.shape[0] else 0  # the high side this many
    tails, low, high = np.empty(size), np.empty(size), np.empty(size)
    step = max(1, size // 256)
    for i in range(rows):
        row = values[i]
        sample = row[::step].copy()
        m = sample.shape[0]
        margin = 4 + m // 64
        low_pivot = _nth(sample, min(m - 1, (low_top + 1) * m // size + margin))
        high_pivot = _nth(sample, max(0, m - 1 - (high_need * m // size + margin)))
        # One store a value (the loop's cost): both tails into one buffer, split after.
        kept = 0
        for x in row:
            tails[kept] = x
            kept += (x <= low_pivot) | (x >= high_pivot)
        kept_low = kept_high = 0
        for x in tails[:kept]:
            low[kept_low] = x
            kept_low += x <= low_pivot
            high[kept_high] = x
            kept_high += x >= high_pivot
        if kept_low <= low_top:
            low[:] = row
            kept_low = size
        if kept_high < high_need:
            high[:] = row
            kept_high = size
        out[i, : low_ranks.shape[0]] = _select(low[:kept_low], low_ranks)
        out[i, low_ranks.shape[0] :] = _select(high[:kept_high], high_ranks - (size - kept_high))
    return out


@numba.njit(cache=True, nogil=True)
def _select(part: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values of part at these ranks (ascending, possibly equal), rearranging part:
    selected at the highest rank, then the values below it at the next, and so on; a rank
    just below the one before it is the maximum of the values left (the lower of a
    percentile's two neighbours), found without a selection."""
    out = np.empty(ranks.shape[0])
    for q in range(ranks.shape[0] - 1, -1, -1):
        if q + 1 < ranks.shape[0] and ranks[q] == ranks[q + 1]:
            out[q] = out[q + 1]
            continue
        if part.shape[0] == ranks[q] + 1:
            out[q] = part.max()
            continue
        out[q] = _nth(part, ranks[q])
        part = part[: ranks[q]]
    return out


@numba.njit(cache=True, nogil=True)
def _nth(part: np.ndarray, k: int) -> float:
    """The value of rank k of part (0-based), rearranging part in place so that the k
    values before it are ≤ it and those after ≥ it: quickselect on the median of three,
    each step a branchless partition (numba's np.partition, which copies and branches
    on every comparison, took 4× as long on the bootstrap's tails). A step that moves
    little (many values equal to the pivot) also sets the equal ones apart, so ties
    cannot stall it; the last few values are put in order by insertion."""
    lo, hi = 0, part.shape[0]
    while hi - lo > 16:
        x, y, z = part[lo], part[(lo + hi) >> 1], part[hi - 1]
        pivot = max(min(x, y), min(max(x, y), z))
        below = _lead(part, lo, hi, pivot, True)
        if k < below:
            hi = below
        elif below - lo >= (hi - lo) >> 3:
            lo = below
        else:
            equal = _lead(part, below, hi, pivot, False)
            if k < equal:
                return pivot
            lo = equal
    for i in range(lo + 1, hi):
        x = part[i]
        j = i - 1
        while j >= lo and part[j] > x:
            part[j + 1] = part[j]
            j -= 1
        part[j + 1] = x
    return part[k]


@numba.njit(cache=True, nogil=True)
def _lead(part: np.ndarray, lo: int, hi: int, pivot: float, strict: bool) -> int:
    """Rearranges part[lo:hi] so its values < pivot (strict) or ≤ pivot come first and
    returns where they end: Lomuto's partition with the branch turned into arithmetic
    (every value is swapped; the end moves on when it belongs in front)."""
    end = lo
    for i in range(lo, hi):
        x = part[i]
        part[i] = part[end]
        part[end] = x
        end += (x < pivot) if strict else (x <= pivot)
    return end

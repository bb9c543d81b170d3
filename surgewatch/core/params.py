"""What a study asks (threshold, direction, basis, horizons, resamples, seed), checked once
where it is made: the study, the alerts and the warehouse's writer take it whole."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from surgewatch.core.errors import InputError
from surgewatch.core.vocabulary import DEFAULT_HORIZONS, DEFAULT_THRESHOLD, Basis, Direction

MAX_RESAMPLES = 100_000  # the draws hold B × N indices per shape: bound the memory a typo can ask for


@dataclass(frozen=True)
class StudyParams:
    """What a study asks: threshold crossed in which direction, on which basis, how far ahead."""

    threshold: float = DEFAULT_THRESHOLD
    direction: Direction = "up"
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    basis: Basis = "price"
    resamples: int = 10_000  # B of SPEC §2b
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise InputError(f"threshold must be > 0, got {self.threshold}")
        if self.direction not in get_args(Direction):
            raise InputError(f"direction must be up or down, got {self.direction!r}")
        if self.basis not in get_args(Basis):
            raise InputError(f"basis must be price or total, got {self.basis!r}")
        if not self.horizons or any(not isinstance(h, int) or h < 1 for h in self.horizons):
            raise InputError(f"horizons must be positive whole months, got {list(self.horizons)}")
        if (
            isinstance(self.resamples, bool)
            or not isinstance(self.resamples, int)
            or not 1 <= self.resamples <= MAX_RESAMPLES
        ):
            raise InputError(f"resamples must be a whole number from 1 to {MAX_RESAMPLES:,}, got {self.resamples!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed must be a whole number >= 0, got {self.seed!r}")


def parse_horizons(raw: str | Sequence[int]) -> tuple[int, ...]:
    """'1,3,6,12' → (1, 3, 6, 12); InputError naming the first bad value."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    horizons = []
    for part in parts:
        text = str(part).strip()
        if not text.isdigit() or int(text) < 1:
            raise InputError(f"horizon must be a positive whole number of months, got {text!r}")
        horizons.append(int(text))
    if not horizons:
        raise InputError("no horizons given")
    return tuple(sorted(set(horizons)))

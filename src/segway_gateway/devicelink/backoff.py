"""Randomised exponential back-off, so clients that lost one broker do not return in step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """ "Full jitter": the n-th wait is uniform in [0, min(cap, base · 2ⁿ)].

    A broker restart drops every vehicle at the same instant; waits drawn
    this way spread their returns over the whole window instead of a wave.
    """

    base: float = 1.0
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempts, 30))
        self.attempts += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """After a successful connection: the next loss starts from `base` again."""
        self.attempts = 0

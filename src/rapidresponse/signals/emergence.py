"""New-key emergence: a key never or rarely seen before that suddenly gathers events.

A per-key seasonal detector has nothing to stand on for a key it has never seen: its first
counts *become* its baseline. ``NewKeyDetector`` instead asks how surprising the last few
minutes are for a key with this little history, using a global prior over how active keys
are. The key's rate has a Gamma prior worth ``prior_minutes`` of observation at
``prior_rate`` events a minute (how busy a typical new key is); the key's own history
(events and minutes, discounted with ``half_life_minutes`` so memory stays O(1)) updates it.
The count in the last ``window`` minutes is scored under the posterior predictive, a negative
binomial: ``-log10 P(X >= count)`` divided by ``surprise_full_scale``, clipped to [0, 1].

It stays silent unless the window holds at least ``min_count`` events (one or two stray
events are never an emergence) and while the key's history says it is already an established
key (posterior rate above ``established_rate``): those belong to the seasonal count
detector. History excludes the window being scored, so a surge cannot explain itself away.

``Strongest`` runs several detectors on the same stream and reports the highest score, e.g.
``Strongest([count_detector(), NewKeyDetector()])``.

Pure: no clock or I/O; state is a few numbers and a fixed ring of ``window`` counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipy import stats  # type: ignore[import-untyped]  # no stubs pinned (scipy-stubs)

from rapidresponse.signals.detectors import StreamingDetector


@dataclass
class NewKeyDetector:
    """Scores bursts of events on keys with little or no history (see the module docstring)."""

    prior_rate: float = 0.01
    prior_minutes: float = 1440.0
    half_life_minutes: float = 7 * 1440.0
    window: int = 10
    min_count: int = 5
    established_rate: float = 0.1
    surprise_full_scale: float = 8.0
    seen: float = 0.0
    exposure: float = 0.0
    recent: list[int] = field(default_factory=list)
    head: int = 0
    in_window: int = 0
    rows: int = 0

    def __post_init__(self) -> None:
        if self.window < 1 or self.prior_rate <= 0 or self.prior_minutes <= 0:
            raise ValueError("window, prior_rate and prior_minutes must be positive")
        if not self.recent:
            self.recent = [0] * self.window
        self._keep = 0.5 ** (1.0 / self.half_life_minutes)

    def posterior_rate(self) -> float:
        """The key's expected events per minute from the prior and its history so far."""
        shape = self.prior_rate * self.prior_minutes + self.seen
        return shape / (self.prior_minutes + self.exposure)

    def update(self, t: float, value: float) -> float:
        count = max(0, round(value)) if math.isfinite(value) else 0
        # The oldest window slot leaves the window and enters the (discounted) history.
        leaving = self.recent[self.head]
        self.recent[self.head] = count
        self.head = (self.head + 1) % self.window
        self.in_window += count - leaving
        self.rows += 1
        if self.rows > self.window:  # the first slots to leave were never real minutes
            self.seen = self.seen * self._keep + leaving
            self.exposure = self.exposure * self._keep + 1.0
        total = self.in_window
        if total < self.min_count or self.posterior_rate() > self.established_rate:
            return 0.0
        shape = self.prior_rate * self.prior_minutes + self.seen
        scale_minutes = self.prior_minutes + self.exposure
        # Gamma(shape, rate=scale_minutes) on the per-minute rate, summed over the window:
        # NB with n = shape and p = scale_minutes / (scale_minutes + window).
        p = scale_minutes / (scale_minutes + self.window)
        log_sf = float(stats.nbinom.logsf(total - 1, shape, p))
        surprise = max(0.0, -log_sf / math.log(10.0))
        return min(1.0, surprise / self.surprise_full_scale)

    def memory_items(self) -> int:
        return self.window + 6


@dataclass
class Strongest:
    """Several detectors on one stream; the score is the highest of theirs."""

    detectors: Sequence[StreamingDetector]

    def update(self, t: float, value: float) -> float:
        return max(d.update(t, value) for d in self.detectors)

    def memory_items(self) -> int:
        return sum(d.memory_items() for d in self.detectors)

"""Streaming anomaly detectors: pure, see only the past, O(1) time and bounded memory per row.

Every detector is fed ``update(t, value)`` once per row, in order (``t`` in epoch seconds), and
returns a score in [0, 1] before it sees the next row. Nothing here reads a clock, a file or a
database; state is plain numbers and fixed-size numpy buffers, so a detector's memory does not
grow however long the stream (``memory_items()`` reports it; the tests hold it constant).

Components, and why each is here:

- ``Ewma``: exponentially weighted mean and variance. O(1), no buffer; the short-memory
  baseline for counts and the scale estimate for prediction errors. Plain arithmetic.
- ``HourOfWeekBaseline``: one ``Ewma`` per hour of the week (168 slots). Abuse and reporting
  traffic follows the week (weekday evenings are not Sunday mornings); a per-slot baseline
  stops the weekly rhythm itself from looking anomalous. Plain arithmetic.
- ``Cusum``: tabular CUSUM (Page 1954) on standardised residuals, two-sided by default; a
  one-sided (increases only), capped, graded mode for counts. A slow ramp never produces one
  surprising point, but its residuals keep the same sign; CUSUM accumulates that drift.
  ``ruptures`` offers offline change-point search (PELT, binary segmentation), which needs the
  whole series and re-solves as it grows: not streaming, so not used.
- ``poisson_surprise``: ``-log10 P(X >= count)`` under Poisson or, when the variance exceeds
  the mean, the negative binomial with the same mean. Uses ``scipy.stats.poisson.logsf`` /
  ``scipy.stats.nbinom.logsf`` (log survival functions, exact far into the tail, where
  ``1 - cdf`` would round to 0).
- ``ContextNovelty``: the idea of Numenta's CAD OSE (contextual anomaly detector): quantise the
  recent values and ask whether this short pattern has been seen before. New shapes (a flat
  line where the series always oscillates, a jump to a level never visited) score high even
  when each value alone is ordinary. Keys are bounded by construction (bins ** order).
- ``AnomalyLikelihood``: Numenta's post-processing of raw scores. A raw score is only
  interesting relative to how raw scores usually look on this stream: it compares the mean
  of the last few raw scores with the mean and spread of a long trailing window (Gaussian
  tail via ``scipy.special.ndtr``-equivalent ``math.erfc``), then log-scales the tail
  probability into [0, 1]. This turns noisy per-row errors into a calibrated, comparable score.
- ``RestGate``: suppression of repeated alarms by a sliding maximum: a score passes only if
  it beats every raw score of the last ``rest`` rows. Kept as an alternative gate; its flaw
  on NAB is that a slowly rising score passes on each new high.
- ``AlarmGate``: one alarm per anomaly. A crossing of ``level`` fires; the gate then stays
  quiet until ``min_quiet`` rows have passed *and* the score has fallen below ``level``
  (a genuinely new anomaly), unless a score ``margin`` above the last alarm arrives (with the
  log-scaled likelihood, a margin of 1.0 disables that override). NAB counts only the
  earliest detection in a window and charges every false positive, so repeats only cost.
- ``PatternResonance``: ARTime's idea (fuzzy adaptive resonance theory) on a stream: windows
  of the series, normalised by the range of its first rows only, are matched against learned
  prototypes; one that resonates with none (within the vigilance) is a new shape. Fixed
  capacity, least recently used prototype replaced. numpy arrays, plain arithmetic.
- ``value_detector()``: the ensemble for arbitrary real-valued series (measured on NAB): a
  one-step prediction error, the context novelty and a level shift (mean of the last 20 rows
  against the 300-row window), each passed through its own anomaly likelihood; the strongest
  wins; a pattern new to ``PatternResonance`` scores just above the alarm level; the score is
  lowered by ``0.1 * log10(rows / 500)`` past row 500 (an alarm needs a tail ten times rarer
  per decade of history, so chance alarms grow like log(rows)); then the alarm gate.
- ``count_detector()``: for per-minute event counts: an hour-of-day profile (interpolated
  between hour centres) times today's level relative to it gives the expected count; the
  summed counts of short windows (1 and 10 minutes) are scored by their negative-binomial
  tail, with an overdispersion learned per window from capped residuals against the
  expectation; a one-sided CUSUM against a slow (one-day) reference scores ramps, graded.
  Silent for its first day of rows; counts far above expectation feed the baselines capped.

``river`` (online ML) has streaming EWMA/quantile statistics and a half-space-trees detector;
the pieces needed here are a few lines of arithmetic each and river is not installed, so it is
not used. numpy supplies the fixed-size ring buffers; scipy the count tail probabilities.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]  # no stubs pinned (scipy-stubs)

FloatArray = npt.NDArray[np.float64]

WEEK_SECONDS = 7 * 24 * 3600
HOUR_SECONDS = 3600
VALUE_LIMIT = 1e150


class StreamingDetector(Protocol):
    """A detector fed one row at a time; returns a score in [0, 1] for that row."""

    def update(self, t: float, value: float) -> float: ...

    def memory_items(self) -> int: ...


# --- Small pure components ----------------------------------------------------------------


@dataclass
class Ewma:
    """Exponentially weighted mean and variance (West's incremental form)."""

    alpha: float = 0.05
    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    def update(self, x: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            diff = x - self.mean
            incr = self.alpha * diff
            self.mean += incr
            self.var = (1.0 - self.alpha) * (self.var + diff * incr)
        self.n += 1

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def memory_items(self) -> int:
        return 3


@dataclass
class HourOfWeekBaseline:
    """One EWMA per hour of the week (UTC), falling back to one per hour of the day.

    A weekly slot is trusted once it has seen ``min_observations`` values (an hour of
    per-minute counts); until then the hour-of-day slot stands in, so a daily rhythm is learned
    within the first days rather than the first weeks.
    """

    alpha: float = 0.02
    min_observations: int = 60
    slots: list[Ewma] = field(default_factory=list)
    daily: list[Ewma] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.slots:
            self.slots = [Ewma(self.alpha) for _ in range(168)]
        if not self.daily:
            self.daily = [Ewma(self.alpha) for _ in range(24)]

    @staticmethod
    def slot(t: float) -> int:
        # The epoch began on a Thursday; shift so slot 0 is Monday 00:00 UTC.
        return int(((t + 3 * 86400) % WEEK_SECONDS) // HOUR_SECONDS)

    def expected(self, t: float) -> float | None:
        """The weekly slot's mean, else the daily slot's, or None before either is trusted."""
        weekly = self.slots[self.slot(t)]
        if weekly.n >= self.min_observations:
            return weekly.mean
        daily = self.daily[self.slot(t) % 24]
        return daily.mean if daily.n >= self.min_observations else None

    def update(self, t: float, x: float) -> None:
        slot = self.slot(t)
        self.slots[slot].update(x)
        self.daily[slot % 24].update(x)

    def memory_items(self) -> int:
        return sum(s.memory_items() for s in self.slots) + sum(d.memory_items() for d in self.daily)


@dataclass
class Cusum:
    """Tabular CUSUM (Page 1954) on standardised residuals ``z``; two-sided by default.

    ``k`` is the allowance (half the shift, in standard deviations, worth detecting); ``h`` the
    decision level. ``update`` returns the larger of the two sums divided by ``h`` (>= 1 means
    alarm); after an alarm both sums restart so one shift alarms once.

    ``one_sided`` keeps only the upper sum (increases; a drop never alarms). With
    ``restart=False`` the sums are capped at ``h`` instead of restarting, so the result is a
    graded level in [0, 1] that stays at 1 while the shift lasts and drains once it ends.
    """

    k: float = 0.5
    h: float = 5.0
    high: float = 0.0
    low: float = 0.0
    one_sided: bool = False
    restart: bool = True

    def update(self, z: float) -> float:
        self.high = max(0.0, self.high + z - self.k)
        if not self.one_sided:
            self.low = max(0.0, self.low - z - self.k)
        level = max(self.high, self.low) / self.h
        if level >= 1.0:
            if self.restart:
                self.high = self.low = 0.0
            else:
                self.high, self.low = min(self.high, self.h), min(self.low, self.h)
                level = 1.0
        return level

    def memory_items(self) -> int:
        return 2


def poisson_surprise(count: int, expected: float, dispersion: float = 1.0) -> float:
    """``-log10 P(X >= count)``: Poisson for dispersion <= 1, else negative binomial.

    The negative binomial has mean ``expected`` and variance ``dispersion * expected``. A count
    at or below zero is never surprising (0.0).
    """
    if count <= 0:
        return 0.0
    mu = max(expected, 1e-9)
    if dispersion <= 1.0:
        log_sf = float(stats.poisson.logsf(count - 1, mu))
    else:
        # Mean mu, variance dispersion * mu: n = mu / (dispersion - 1), p = 1 / dispersion.
        n = mu / (dispersion - 1.0)
        log_sf = float(stats.nbinom.logsf(count - 1, n, 1.0 / dispersion))
    return max(0.0, -log_sf / math.log(10.0))


@dataclass
class RingBuffer:
    """The last ``size`` values, with O(1) running sum and sum of squares."""

    size: int
    data: FloatArray = field(init=False)
    head: int = 0
    count: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    _since_refresh: int = 0

    def __post_init__(self) -> None:
        self.data = np.zeros(self.size, dtype=np.float64)

    def push(self, x: float) -> None:
        if self.count == self.size:
            old = float(self.data[self.head])
            self.total -= old
            self.total_sq -= old * old
        else:
            self.count += 1
        self.data[self.head] = x
        self.head = (self.head + 1) % self.size
        self.total += x
        self.total_sq += x * x
        self._since_refresh += 1
        if self._since_refresh >= 4 * self.size:
            # Running sums drift with rounding; recompute now and then (amortised O(1)).
            view = self.values()
            self.total = float(view.sum())
            self.total_sq = float(np.dot(view, view))
            self._since_refresh = 0

    def values(self) -> FloatArray:
        return self.data if self.count == self.size else self.data[: self.count]

    def last(self, k: int) -> FloatArray:
        """The most recent ``k`` values (fewer if not yet filled), oldest first."""
        k = min(k, self.count)
        idx = (self.head - k + np.arange(k)) % self.size
        return self.data[idx]

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def std(self) -> float:
        if self.count < 2:
            return 0.0
        m = self.mean
        return math.sqrt(max(self.total_sq / self.count - m * m, 0.0))

    def memory_items(self) -> int:
        return int(self.data.size) + 4


def _gaussian_tail(z: float) -> float:
    """P(Z >= z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass
class AnomalyLikelihood:
    """Numenta-style anomaly likelihood of a stream of raw scores (log-scaled to [0, 1]).

    The last ``short`` raw scores are averaged and compared with the mean and standard
    deviation of the last ``long`` raw scores; the Gaussian tail probability ``q`` of that
    average becomes ``log(q) / log(floor)`` clipped to [0, 1], so a tail of 1e-5 reads 0.5
    with the default floor 1e-10.
    """

    long: int = 2000
    short: int = 8
    floor: float = 1e-10
    min_std: float = 1e-3
    history: RingBuffer = field(init=False)
    recent: RingBuffer = field(init=False)

    def __post_init__(self) -> None:
        self.history = RingBuffer(self.long)
        self.recent = RingBuffer(self.short)

    def update(self, raw: float) -> float:
        self.recent.push(raw)
        h = self.history
        score = 0.0
        if h.count >= min(self.long, 50):
            std = max(h.std, self.min_std)
            z = (self.recent.mean - h.mean) / std
            q = max(_gaussian_tail(z), self.floor)
            score = min(1.0, math.log(q) / math.log(self.floor))
        h.push(raw)
        return score

    def memory_items(self) -> int:
        return self.history.memory_items() + self.recent.memory_items()


@dataclass
class ContextNovelty:
    """How new is the current short pattern of quantised values (CAD OSE's idea).

    Values are quantised into ``bins`` levels over the range seen so far; for each ``k`` in
    ``orders`` the key is the last ``k`` levels. Each order scores 1 for a never-seen pattern
    and ``1 / (1 + seen)`` otherwise; the result is their mean. At most ``sum(bins ** k)``
    keys exist, so memory is bounded.
    """

    bins: int = 10
    orders: tuple[int, ...] = (1, 2, 3)
    lo: float = math.inf
    hi: float = -math.inf
    levels: deque[int] = field(default_factory=deque)
    seen: dict[tuple[int, ...], int] = field(default_factory=dict)

    def level(self, x: float) -> int:
        span = self.hi - self.lo
        if span <= 0:
            return 0
        return min(int((x - self.lo) / span * self.bins), self.bins - 1)

    def update(self, x: float) -> float:
        self.lo = min(self.lo, x)
        self.hi = max(self.hi, x)
        self.levels.append(self.level(x))
        longest = max(self.orders)
        if len(self.levels) > longest:
            self.levels.popleft()
        total = 0.0
        recent = tuple(self.levels)
        for k in self.orders:
            if len(recent) < k:
                continue
            key = (k, *recent[-k:])
            n = self.seen.get(key, 0)
            self.seen[key] = n + 1
            total += 1.0 / (1.0 + n)
        return total / len(self.orders)

    def memory_items(self) -> int:
        return 2 + len(self.levels) + 2 * len(self.seen)


@dataclass
class PatternResonance:
    """Fuzzy ART over short windows of the normalised series (ARTime's idea, streaming).

    The last ``width`` values, mapped into [0, 1] by the range of the first ``learn_rows``
    rows (values outside it clip; later rows never move the range), are complement-coded and
    compared with the learned prototypes. The candidates with the best choice value are
    tried in turn; the first whose match (the fuzzy overlap, a fraction of ``width``) reaches
    ``vigilance`` resonates and learns the pattern at ``learn_rate``. A pattern that resonates
    with none becomes a new prototype and ``created`` is set for that row: the series did
    something it has not done before. At most ``capacity`` prototypes are kept (the least
    recently resonating is replaced), so memory is fixed. ``update`` returns 1 minus the best
    match.
    """

    width: int = 8
    vigilance: float = 0.7
    learn_rate: float = 0.1
    capacity: int = 256
    learn_rows: int = 150
    candidates: int = 5
    rows: int = 0
    lo: float = math.inf
    hi: float = -math.inf
    created: bool = False
    count: int = 0
    recent: deque[float] = field(default_factory=deque)
    protos: FloatArray = field(init=False)
    used: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.protos = np.ones((self.capacity, 2 * self.width), dtype=np.float64)
        self.used = np.zeros(self.capacity, dtype=np.float64)

    def normalise(self, x: float) -> float:
        span = self.hi - self.lo
        # The learned range fills the middle 60%: excursions beyond it still register.
        u = 0.5 if span <= 0 else 0.2 + 0.6 * (x - self.lo) / span
        return min(1.0, max(0.0, u))

    def update(self, x: float) -> float:
        self.rows += 1
        self.created = False
        if self.rows <= self.learn_rows:
            self.lo = min(self.lo, x)
            self.hi = max(self.hi, x)
        self.recent.append(self.normalise(x))
        if len(self.recent) > self.width:
            self.recent.popleft()
        if len(self.recent) < self.width:
            return 0.0
        v = np.fromiter(self.recent, dtype=np.float64, count=self.width)
        item = np.concatenate((v, 1.0 - v))
        novelty = 1.0
        if self.count:
            w = self.protos[: self.count]
            overlap = np.minimum(w, item).sum(axis=1)
            match = overlap / self.width
            choice = overlap / (0.01 + w.sum(axis=1))
            novelty = 1.0 - float(match.max())
            for j in np.argsort(-choice)[: self.candidates]:
                if match[j] >= self.vigilance:
                    w[j] = self.learn_rate * np.minimum(w[j], item) + (1.0 - self.learn_rate) * w[j]
                    self.used[j] = self.rows
                    return novelty
        self.created = True
        j = self.count if self.count < self.capacity else int(np.argmin(self.used))
        self.protos[j] = item
        self.used[j] = self.rows
        self.count = min(self.count + 1, self.capacity)
        return novelty

    def memory_items(self) -> int:
        return int(self.protos.size + self.used.size) + len(self.recent) + 6


@dataclass
class RestGate:
    """Silence repeats of one event, whatever threshold is applied afterwards.

    A score passes only if it beats every raw score of the last ``rest`` rows (mode "peak"),
    or only if all of them stayed below ``base`` (mode "base", CAD OSE's rule); otherwise 0.
    The sliding maximum is a monotonic deque: amortised O(1), at most ``rest`` entries.
    """

    rest: int = 150
    base: float = 0.5
    mode: str = "peak"
    row: int = 0
    maxima: deque[tuple[int, float]] = field(default_factory=deque)

    def update(self, score: float) -> float:
        q = self.maxima
        while q and q[0][0] <= self.row - self.rest:
            q.popleft()
        recent = q[0][1] if q else 0.0
        if self.mode == "peak":
            out = score if score > recent else 0.0
        else:
            out = score if recent < self.base else 0.0
        while q and q[-1][1] <= score:
            q.pop()
        q.append((self.row, score))
        self.row += 1
        return out

    def memory_items(self) -> int:
        return 2 + 2 * len(self.maxima)


@dataclass
class AlarmGate:
    """One alarm per anomaly: fire on a crossing, then stay quiet until a new anomaly.

    A score at or above ``level`` fires when the gate is armed and passes through unchanged;
    every other row reads 0. After an alarm the gate disarms: it re-arms once ``quiet`` rows
    have passed (``quiet`` grows with the rows seen, ``quiet_fraction`` of them, never below
    ``min_quiet``) *and* the score has fallen back below ``level`` since the alarm. Inside
    the quiet period only a score ``margin`` above the last alarm's fires again (a much
    rarer event than the one already reported), which keeps a slowly rising score from
    re-firing on each new high.
    """

    level: float = 0.5
    min_quiet: int = 100
    quiet_fraction: float = 0.0
    margin: float = 0.2
    row: int = 0
    last_alarm: int = -(10**9)
    last_score: float = 0.0
    fell: bool = True

    def update(self, score: float) -> float:
        self.row += 1
        quiet = max(self.min_quiet, int(self.quiet_fraction * self.row))
        if score < self.level:
            self.fell = True
            return 0.0
        rested = self.row - self.last_alarm >= quiet and self.fell
        if rested or score >= self.last_score + self.margin:
            self.last_alarm, self.last_score, self.fell = self.row, score, False
            return score
        return 0.0

    def memory_items(self) -> int:
        return 4


# --- The detectors ------------------------------------------------------------------------


@dataclass
class DetectorState:
    """Everything a value detector carries between rows (all fixed-size)."""

    window: RingBuffer
    short: RingBuffer
    diffs: Ewma
    novelty: ContextNovelty
    likelihoods: list[AnomalyLikelihood]
    gate: RestGate | AlarmGate
    resonance: PatternResonance
    previous: float | None = None
    rows: int = 0

    def memory_items(self) -> int:
        return (
            self.window.memory_items()
            + self.short.memory_items()
            + self.diffs.memory_items()
            + self.novelty.memory_items()
            + sum(lk.memory_items() for lk in self.likelihoods)
            + self.gate.memory_items()
            + self.resonance.memory_items()
            + 2
        )


@dataclass(frozen=True)
class ValueDetectorConfig:
    window: int = 300
    level_short: int = 20
    diff_alpha: float = 0.02
    likelihood_long: int = 1000
    likelihood_short: int = 3
    bins: int = 10
    orders: tuple[int, ...] = (1, 2, 3)
    # "alarm": AlarmGate (one alarm per anomaly); "peak" / "base": the older RestGate modes.
    gate_mode: str = "alarm"
    alarm_level: float = 0.5
    min_quiet: int = 100
    quiet_fraction: float = 0.0
    alarm_margin: float = 1.0
    rest: int = 150
    gate_base: float = 0.5
    warmup: int = 30
    use_window: bool = False
    use_diff: bool = True
    use_novelty: bool = True
    use_level: bool = True
    # The score minus tighten * log10(rows / tighten_from) once past tighten_from rows: the
    # alarm needs a tail ~10x rarer per decade of history, so chance alarms grow like
    # log(rows), not like rows.
    tighten: float = 0.1
    tighten_from: int = 500
    # A pattern that resonates with no ART prototype (after art_after rows) scores art_event
    # before the tightening: an alarm while the history is short, not once it has grown.
    art_event: float = 0.51
    art_after: int = 300
    art_width: int = 8
    art_vigilance: float = 0.7
    art_learn_rate: float = 0.1
    art_capacity: int = 256
    art_learn_rows: int = 150


class ValueDetector:
    """The ensemble for real-valued series; see the module docstring."""

    def __init__(self, config: ValueDetectorConfig) -> None:
        self.config = config
        c = config
        gate: RestGate | AlarmGate
        if c.gate_mode == "alarm":
            gate = AlarmGate(c.alarm_level, c.min_quiet, c.quiet_fraction, c.alarm_margin)
        else:
            gate = RestGate(c.rest, c.gate_base, c.gate_mode)
        self.state = DetectorState(
            window=RingBuffer(c.window),
            short=RingBuffer(c.level_short),
            diffs=Ewma(c.diff_alpha),
            novelty=ContextNovelty(c.bins, c.orders),
            likelihoods=[
                AnomalyLikelihood(c.likelihood_long, c.likelihood_short) for _ in range(4)
            ],
            gate=gate,
            resonance=PatternResonance(
                c.art_width, c.art_vigilance, c.art_learn_rate, c.art_capacity, c.art_learn_rows
            ),
        )

    def raw_scores(self, value: float) -> tuple[float, float, float, float]:
        """The four raw errors for this row, from state before the row; updates state."""
        s = self.state
        w = s.window
        scale = max(w.std, 1e-9 + 1e-6 * abs(w.mean))
        window_err = abs(value - w.mean) / scale if w.count >= 2 else 0.0
        diff_err = 0.0
        if s.previous is not None:
            d = abs(value - s.previous)
            if s.diffs.n:
                diff_err = d / max(s.diffs.mean, 1e-9 + 1e-6 * abs(value))
            s.diffs.update(d)
        novelty = s.novelty.update(value)
        # A level shift: the mean of the last ``level_short`` rows against the long window.
        # Each row of a shift may be ordinary; their average is not.
        s.short.push(value)
        level_err = abs(s.short.mean - w.mean) / scale if w.count >= 2 else 0.0
        w.push(value)
        s.previous = value
        s.resonance.update(value)
        # Squash unbounded errors so one wild value cannot dominate the likelihood's spread.
        return (
            math.tanh(window_err / 4.0),
            math.tanh(diff_err / 8.0),
            novelty,
            math.tanh(level_err / 4.0),
        )

    def update(self, t: float, value: float) -> float:
        c = self.config
        s = self.state
        s.rows += 1
        if not math.isfinite(value):
            return 0.0
        # Beyond 1e150 squares overflow the running sums; no real metric lives there.
        value = max(-VALUE_LIMIT, min(VALUE_LIMIT, value))
        raws = self.raw_scores(value)
        used = (c.use_window, c.use_diff, c.use_novelty, c.use_level)
        score = 0.0
        for raw, likelihood, on in zip(raws, s.likelihoods, used, strict=True):
            lk = likelihood.update(raw)
            if on:
                score = max(score, lk)
        if c.art_event and s.resonance.created and s.rows > c.art_after:
            score = max(score, c.art_event)
        if s.rows <= c.warmup:
            score = 0.0
        if c.tighten and s.rows > c.tighten_from and score > 0.0:
            score = max(0.0, score - c.tighten * math.log10(s.rows / c.tighten_from))
        return s.gate.update(score)

    def memory_items(self) -> int:
        return self.state.memory_items()

    def memory_bound(self) -> int:
        """The most ``memory_items()`` can ever be: buffers are fixed, the rest is capped."""
        c = self.config
        keys = int(sum(c.bins**k for k in c.orders))
        s = self.state
        fixed = (
            s.window.memory_items()
            + s.short.memory_items()
            + sum(lk.memory_items() for lk in s.likelihoods)
        )
        gate = s.gate.memory_items() if isinstance(s.gate, AlarmGate) else 2 + 2 * c.rest
        art = (2 * c.art_width + 1) * c.art_capacity + c.art_width + 6
        return fixed + s.diffs.memory_items() + 2 + max(c.orders) + 2 * keys + gate + art + 2


def value_detector(**overrides: Any) -> StreamingDetector:
    """The NAB-grade ensemble detector for real-valued series (one configuration for all)."""
    return ValueDetector(ValueDetectorConfig(**overrides))


@dataclass(frozen=True)
class CountDetectorConfig:
    # Rows of history before the detector scores anything: a day of minutes, so every hour of
    # the day has been seen once. Keys younger than that are NewKeyDetector's job.
    warmup: int = 1440
    # Hour-of-day profile: each slot a running mean over about this many rows of its hour.
    profile_memory: float = 180.0
    # Hour-of-week profile, preferred once both neighbouring slots hold a full hour. Off by
    # default: one or two weeks give a slot one or two hours of data, noisier than the
    # hour-of-day slot times today's level (measured on bench/detection_sim.py).
    weekly: bool = False
    weekly_memory: float = 120.0
    min_weekly_observations: int = 60
    # Today's level relative to the profile: fast for spikes, slow for the ramp reference.
    fast_memory: float = 60.0
    slow_memory: float = 1440.0
    # Windows (minutes) whose summed counts are scored against the fast or slow expectation.
    fast_windows: tuple[int, ...] = (1, 10)
    slow_windows: tuple[int, ...] = ()
    dispersion_memory: float = 2880.0
    max_dispersion: float = 2.0
    min_rate: float = 0.01
    # Counts above expected + clip_sd standard deviations update the baselines at that cap.
    clip_sd: float = 4.0
    cusum: bool = True
    cusum_k: float = 0.5
    # The CUSUM scores its statistic / cusum_h; exp(-2 k h) is the chance a null walk
    # ever climbs to h, so k=0.5, h=18.4 matches a surprise of 8 decades.
    cusum_h: float = 18.4
    surprise_full_scale: float = 8.0


class CountDetector:
    """Per-minute event counts: seasonal expectation, overdispersed window surprise, CUSUM.

    Expectation: an hour-of-day profile (optionally hour-of-week, ``weekly``), interpolated
    between hour centres, times today's level relative to it: a fast ratio (about an hour)
    for spikes, a slow one (about a day) as the reference for ramps, which a ramp cannot drag
    along with it. Counts far above expectation update the baselines only up to a cap, so an
    incident does not become its own baseline within minutes. A near-silent key is expected
    to stay near-silent (``min_rate`` only keeps the arithmetic finite).

    Surprise: for each window the summed count is scored under a negative binomial with the
    summed expectation ``M`` as mean and variance ``M + a * M**2``; ``a`` is learned per
    window from residuals against the expectation (bounded, residuals capped), so it covers
    the noise and the error of the expectation itself (a day running 10 % busy), which is
    what short and long windows differ in. ``-log10 P(X >= x)`` / ``surprise_full_scale``.
    Ramps: a one-sided (increase) CUSUM on residuals against the slow reference, read as
    its statistic / ``cusum_h``: a graded score, not 1 on alarm, and a drop never scores.
    The score is the larger, clipped to [0, 1], and 0 for the first ``warmup`` rows.
    """

    def __init__(self, config: CountDetectorConfig) -> None:
        c = config
        self.config = c
        self.rows = 0
        self.daily_mean = [0.0] * 24
        self.daily_n = [0] * 24
        self.weekly_mean = [0.0] * 168
        self.weekly_n = [0] * 168
        self.overall = 0.0
        # Ratio levels: EWMA of (capped) counts over EWMA of the profile on the same rows.
        self.fast_counts = self.fast_profile = 0.0
        self.slow_counts = self.slow_profile = 0.0
        # (length, against the slow reference) per window; the CUSUM residual is a
        # one-minute window against the slow reference.
        windows = [(w, False) for w in c.fast_windows] + [(w, True) for w in c.slow_windows]
        self.cusum_window = (1, True) in windows
        if not self.cusum_window:
            windows.append((1, True))
        self.cusum_index = windows.index((1, True))
        self.windows = windows
        self.span = max(w for w, _ in windows)
        self.ring_counts = [0.0] * self.span
        self.ring_fast = [0.0] * self.span
        self.ring_slow = [0.0] * self.span
        self.head = 0
        self.sums = [[0.0, 0.0] for _ in windows]  # per window: counts, expected
        # Per window: EWMA of (residual**2 - count) and of expected**2 (their ratio is ``a``).
        self.excess = [0.0] * len(windows)
        self.scale = [0.0] * len(windows)
        self.dispersion_n = 0
        self.cusum = Cusum(c.cusum_k, c.cusum_h, one_sided=True, restart=False)

    # --- expectation -----------------------------------------------------------------

    def _slot_value(self, hour_of_week: int) -> float:
        c = self.config
        if c.weekly and self.weekly_n[hour_of_week] >= c.min_weekly_observations:
            return self.weekly_mean[hour_of_week]
        day = hour_of_week % 24
        return self.daily_mean[day] if self.daily_n[day] else self.overall

    def profile(self, t: float) -> float:
        """The seasonal profile at ``t``: slot means interpolated between hour centres.

        Interpolation follows a smooth daily curve within the hour; where the rhythm steps
        (a busy hour next to a quiet one) it would expect too little at the start of the busy
        hour, so the profile is never below the mean of the hour ``t`` falls in.
        """
        hours = ((t + 3 * 86400) % WEEK_SECONDS) / HOUR_SECONDS - 0.5
        below = math.floor(hours)
        frac = hours - below
        lo = self._slot_value(below % 168)
        hi = self._slot_value((below + 1) % 168)
        own = hi if frac >= 0.5 else lo
        return max(own, (1.0 - frac) * lo + frac * hi)

    def _levels(self, t: float) -> tuple[float, float, float]:
        shape = self.profile(t)
        fast = self.fast_counts / self.fast_profile if self.fast_profile > 0 else 1.0
        slow = self.slow_counts / self.slow_profile if self.slow_profile > 0 else 1.0
        return shape, shape * fast, shape * slow

    def expected(self, t: float) -> tuple[float, float] | None:
        """(expected count for spikes, reference for ramps), or None before any data."""
        if not self.rows:
            return None
        _, fast, slow = self._levels(t)
        return fast, slow

    # --- scoring ---------------------------------------------------------------------

    def _dispersion(self, i: int) -> float:
        if self.scale[i] <= 0:
            return 0.0
        return min(self.config.max_dispersion, max(0.0, self.excess[i] / self.scale[i]))

    @staticmethod
    def _surprise(total: float, mean: float, dispersion: float) -> float:
        """``-log10 P(X >= total)`` for a negative binomial with variance M + a M**2."""
        count = round(total)
        if count <= 0 or count <= mean:
            return 0.0
        # Cheap guard: well inside the body the tail is at most ~1.5 decades; skip scipy.
        if (count - mean) ** 2 < 4.0 * (mean + dispersion * mean * mean):
            return 0.0
        if dispersion < 1e-6:
            log_sf = float(stats.poisson.logsf(count - 1, mean))
        else:
            n = 1.0 / dispersion
            log_sf = float(stats.nbinom.logsf(count - 1, n, n / (n + mean)))
        return max(0.0, -log_sf / math.log(10.0))

    def update(self, t: float, value: float) -> float:
        c = self.config
        count = float(max(0, round(value))) if math.isfinite(value) else 0.0
        count = min(count, 1e12)
        self.rows += 1
        shape, fast, slow = self._levels(t) if self.rows > 1 else (count, count, count)
        fast, slow = max(fast, c.min_rate), max(slow, c.min_rate)

        # Slide the windows: the row ``w`` back leaves window ``w``.
        span, head = self.span, self.head
        for (w, use_slow), sums in zip(self.windows, self.sums, strict=True):
            j = (head - w) % span
            sums[0] += count - self.ring_counts[j]
            sums[1] += (slow if use_slow else fast) - (
                self.ring_slow[j] if use_slow else self.ring_fast[j]
            )
        self.ring_counts[head], self.ring_fast[head], self.ring_slow[head] = count, fast, slow
        self.head = (head + 1) % span

        surprise = 0.0
        if self.rows > c.warmup:
            for i, (total, mean) in enumerate(self.sums):
                if i == self.cusum_index and not self.cusum_window:
                    continue  # the CUSUM's residual, not a window of its own
                surprise = max(surprise, self._surprise(total, mean, self._dispersion(i)))
        score = surprise / c.surprise_full_scale
        if self.rows > c.warmup:
            a_slow = self._dispersion(self.cusum_index)
            z = (count - slow) / math.sqrt(slow + a_slow * slow * slow)
            ramp = self.cusum.update(max(-4.0, min(4.0, z)))
            if c.cusum:
                score = max(score, ramp)

        self._learn_dispersion()
        # Baselines learn capped counts (once trusted), so an incident is learned slowly.
        learned = count
        if self.rows > c.warmup:
            a_fast = self._dispersion(0)
            learned = min(count, fast + c.clip_sd * math.sqrt(fast + a_fast * fast * fast) + 1.0)
        self._learn_levels(t, learned, shape)
        return min(1.0, max(0.0, score))

    def _learn_dispersion(self) -> None:
        c = self.config
        self.dispersion_n += 1
        alpha = max(1.0 / c.dispersion_memory, 1.0 / self.dispersion_n)
        for i, (total, mean) in enumerate(self.sums):
            a = self._dispersion(i) if self.dispersion_n > 60 else c.max_dispersion
            var = mean + a * mean * mean
            # A capped residual: one incident cannot teach the window that anything goes.
            resid2 = min((total - mean) ** 2, 36.0 * var + 1.0)
            self.excess[i] += alpha * (resid2 - total - self.excess[i])
            self.scale[i] += alpha * (mean * mean - self.scale[i])

    def _learn_levels(self, t: float, count: float, shape: float) -> None:
        c = self.config
        slot = HourOfWeekBaseline.slot(t)
        day = slot % 24
        self.daily_n[day] += 1
        alpha = max(1.0 / c.profile_memory, 1.0 / self.daily_n[day])
        self.daily_mean[day] += alpha * (count - self.daily_mean[day])
        self.weekly_n[slot] += 1
        alpha = max(1.0 / c.weekly_memory, 1.0 / self.weekly_n[slot])
        self.weekly_mean[slot] += alpha * (count - self.weekly_mean[slot])
        alpha = max(1.0 / c.slow_memory, 1.0 / self.rows)
        self.overall += alpha * (count - self.overall)
        af = max(1.0 / c.fast_memory, 1.0 / self.rows)
        self.fast_counts += af * (count - self.fast_counts)
        self.fast_profile += af * (shape - self.fast_profile)
        self.slow_counts += alpha * (count - self.slow_counts)
        self.slow_profile += alpha * (shape - self.slow_profile)

    def memory_items(self) -> int:
        return (
            2 * (24 + 168) + 6 + 3 * self.span + 4 * len(self.windows) + self.cusum.memory_items()
        )

    def memory_bound(self) -> int:
        return self.memory_items()


def count_detector(**overrides: Any) -> StreamingDetector:
    """The detector for per-minute event counts (non-negative integers, weekly seasonal)."""
    return CountDetector(CountDetectorConfig(**overrides))


DetectorFactory = Callable[..., StreamingDetector]

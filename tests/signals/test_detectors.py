"""Streaming detectors: no look-ahead, bounded memory, scores in [0, 1], the components."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from rapidresponse.signals.detectors import (
    AlarmGate,
    AnomalyLikelihood,
    ContextNovelty,
    Cusum,
    Ewma,
    HourOfWeekBaseline,
    PatternResonance,
    RestGate,
    RingBuffer,
    count_detector,
    poisson_surprise,
    value_detector,
)

MINUTE = 60.0
T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC


def run(detector_factory: object, values: list[float], step: float = 300.0) -> list[float]:
    detector = detector_factory()  # type: ignore[operator]
    return [detector.update(T0 + i * step, v) for i, v in enumerate(values)]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(finite, min_size=2, max_size=120), st.integers(min_value=1, max_value=119))
def test_value_detector_has_no_look_ahead(values: list[float], cut: int) -> None:
    cut = min(cut, len(values) - 1)
    full = run(value_detector, values)
    prefix = run(value_detector, values[:cut])
    assert prefix == full[:cut]


@given(st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=120))
def test_count_detector_has_no_look_ahead(counts: list[int]) -> None:
    full = run(count_detector, [float(c) for c in counts], MINUTE)
    prefix = run(count_detector, [float(c) for c in counts[:-1]], MINUTE)
    assert prefix == full[:-1]


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=200))
def test_scores_stay_in_unit_interval_whatever_the_input(values: list[float]) -> None:
    for score in run(value_detector, values):
        assert 0.0 <= score <= 1.0
    counts = [abs(v) if math.isfinite(v) else 0.0 for v in values]
    for score in run(count_detector, [min(c, 1e9) for c in counts], MINUTE):
        assert 0.0 <= score <= 1.0


def _memory_after(factory: object, n: int) -> tuple[int, int]:
    rng = np.random.default_rng(7)
    detector = factory()  # type: ignore[operator]
    values = rng.uniform(0.0, 100.0, n)
    values[:2] = (0.0, 100.0)  # the range is known from the start
    for i, v in enumerate(values):
        detector.update(T0 + i * MINUTE, float(v))
    return int(detector.memory_items()), int(detector.memory_bound())


@pytest.mark.parametrize("factory", [value_detector, count_detector])
def test_memory_is_bounded_however_long_the_stream(factory: object) -> None:
    short, bound = _memory_after(factory, 20_000)
    long, same_bound = _memory_after(factory, 100_000)
    assert bound == same_bound
    assert short <= bound
    assert long <= bound
    # Fixed-size state: the buffers are as large after 10^5 rows as after 2 * 10^4.
    assert abs(long - short) <= 2 * 150 + 2


def test_context_novelty_keys_are_bounded_by_construction() -> None:
    novelty = ContextNovelty(bins=4, orders=(1, 2))
    rng = np.random.default_rng(1)
    for v in rng.normal(size=5000):
        novelty.update(float(v))
    assert len(novelty.seen) <= 4 + 4**2


@given(
    st.integers(min_value=0, max_value=400),
    st.floats(min_value=0.05, max_value=300.0),
    st.floats(min_value=1.0, max_value=20.0),
)
def test_poisson_surprise_matches_scipy(count: int, expected: float, dispersion: float) -> None:
    got = poisson_surprise(count, expected, dispersion)
    if count == 0:
        assert got == 0.0
        return
    if dispersion <= 1.0:
        sf = stats.poisson.sf(count - 1, expected)
    else:
        n = expected / (dispersion - 1.0)
        sf = stats.nbinom.sf(count - 1, n, 1.0 / dispersion)
    if sf > 1e-300:
        assert got == pytest.approx(-math.log10(sf), rel=1e-6, abs=1e-9)
    assert got >= 0.0


def test_overdispersion_makes_the_same_count_less_surprising() -> None:
    assert poisson_surprise(30, 10.0, 1.0) > poisson_surprise(30, 10.0, 4.0) > 0.0
    assert poisson_surprise(5, 10.0) < 0.5


def test_ewma_tracks_a_level_and_its_spread() -> None:
    e = Ewma(alpha=0.05)
    rng = np.random.default_rng(3)
    for v in rng.normal(50.0, 2.0, 5000):
        e.update(float(v))
    assert e.mean == pytest.approx(50.0, abs=0.8)
    assert e.std == pytest.approx(2.0, rel=0.3)


def test_hour_of_week_slots_start_monday_midnight_utc() -> None:
    b = HourOfWeekBaseline(min_observations=2)
    assert b.slot(T0) == 0
    assert b.slot(T0 + 3600 * 24 * 6 + 3600 * 23) == 167
    assert b.expected(T0) is None
    b.update(T0, 10.0)
    b.update(T0 + 86400, 30.0)  # Tuesday, same hour of day: the daily slot now has 2 values
    assert b.expected(T0 + 2 * 86400) == pytest.approx(10.4)  # EWMA of 10 then 30
    b.update(T0 + 7 * 86400, 10.0)  # the Monday slot now trusted: the weekly value wins
    assert b.expected(T0 + 14 * 86400) == 10.0
    assert b.expected(T0 + 3600) is None


def test_cusum_catches_a_slow_ramp_that_no_single_point_reveals() -> None:
    rng = np.random.default_rng(5)
    c = Cusum(k=0.5, h=8.0)
    noise = rng.normal(0.0, 1.0, 2000)
    assert max(c.update(float(z)) for z in noise) < 1.0
    # A drift of 0.004 sd per row: after 500 rows the level has moved by 2 sd, never a 4-sd point.
    ramp = rng.normal(0.0, 1.0, 500) + 0.004 * np.arange(500)
    levels = [c.update(float(z)) for z in ramp]
    assert max(levels) >= 1.0


def test_ring_buffer_keeps_the_last_values_and_their_moments() -> None:
    r = RingBuffer(4)
    for v in range(10):
        r.push(float(v))
    assert sorted(r.values().tolist()) == [6.0, 7.0, 8.0, 9.0]
    assert r.last(2).tolist() == [8.0, 9.0]
    assert r.mean == pytest.approx(7.5)
    assert r.std == pytest.approx(float(np.std([6, 7, 8, 9])))


def test_anomaly_likelihood_is_high_only_when_raw_scores_jump() -> None:
    lk = AnomalyLikelihood(long=200, short=3)
    rng = np.random.default_rng(2)
    quiet = [lk.update(float(v)) for v in rng.uniform(0.0, 0.2, 400)]
    loud = [lk.update(1.0) for _ in range(3)]
    assert max(quiet[100:]) < 0.5
    assert loud[-1] > 0.9


def test_rest_gate_lets_one_alarm_through_per_event() -> None:
    gate = RestGate(rest=10)
    out = [gate.update(s) for s in [0.1, 0.9, 0.9, 0.8, 0.95, 0.1] + [0.0] * 10 + [0.9]]
    assert out[1] == 0.9
    assert out[2] == out[3] == 0.0
    assert out[4] == 0.95  # a stronger signal still gets through
    assert out[-1] == 0.9  # after the rest period a new event alarms again


def test_count_detector_flags_a_spike_in_seasonal_counts() -> None:
    rng = np.random.default_rng(11)
    minutes = 14 * 24 * 60
    hours = (np.arange(minutes) // 60) % 24
    rate = 5.0 + 20.0 * (np.sin(hours / 24 * 2 * np.pi) > 0)  # busy half of each day
    counts = rng.poisson(rate).astype(float)
    spike_at = minutes - 300
    counts[spike_at] = rate[spike_at] * 4 + 20
    scores = run(count_detector, counts.tolist(), MINUTE)
    assert scores[spike_at] == pytest.approx(1.0)
    # Ordinary minutes, seasonal swings included, stay well below it after the first week.
    ordinary = np.delete(np.asarray(scores[7 * 24 * 60 :]), spike_at - 7 * 24 * 60)
    assert np.quantile(ordinary, 0.999) < 0.6


def test_count_detector_catches_a_slow_ramp() -> None:
    rng = np.random.default_rng(12)
    flat = rng.poisson(20.0, 3000).astype(float)
    ramp = rng.poisson(20.0 + np.linspace(0, 8, 600)).astype(float)
    scores = run(count_detector, [*flat.tolist(), *ramp.tolist()], MINUTE)
    assert max(scores[1000:3000]) < 1.0
    assert max(scores[3000:]) >= 1.0


def test_one_sided_cusum_ignores_drops_and_grades_a_rise() -> None:
    c = Cusum(k=0.5, h=10.0, one_sided=True, restart=False)
    assert max(c.update(-4.0) for _ in range(500)) == 0.0  # a drop never alarms
    levels = [c.update(1.5) for _ in range(12)]  # each row adds 1.0 above the allowance
    assert levels[:3] == pytest.approx([0.1, 0.2, 0.3])  # graded, not 0/1
    assert levels[-1] == 1.0  # capped at h while the rise lasts ...
    assert max(c.update(-1.0) for _ in range(7)) < 1.0  # ... and draining once it ends
    assert c.update(-1.0) == pytest.approx(0.0, abs=1e-9)


def test_count_detector_is_silent_for_its_first_day() -> None:
    counts = [0.0] * 1000 + [500.0] * 440  # a surge inside the first day: not its job
    assert max(run(count_detector, counts, MINUTE)) == 0.0


def test_a_quiet_key_never_alarms_for_being_quiet() -> None:
    # The old detector floored the expectation at 0.5/min: every silent minute looked like a
    # drop, and the lower CUSUM alarmed every ~40 minutes forever.
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.01, 14 * 1440).astype(float)
    scores = run(count_detector, counts.tolist(), MINUTE)
    assert max(scores) < 0.75


def test_a_drop_in_a_busy_key_does_not_alarm() -> None:
    rng = np.random.default_rng(6)
    counts = [*rng.poisson(50.0, 3 * 1440).tolist(), *[0] * 600]
    scores = run(count_detector, [float(c) for c in counts], MINUTE)
    assert max(scores[3 * 1440 :]) == 0.0


def test_count_detector_scores_are_graded_by_how_far_above_expected() -> None:
    rng = np.random.default_rng(8)
    base = rng.poisson(20.0, 2 * 1440).astype(float).tolist()
    peaks = []
    for extra in (12.0, 20.0, 35.0, 60.0):
        detector = count_detector()
        for i, v in enumerate(base):
            detector.update(T0 + i * MINUTE, v)
        peaks.append(detector.update(T0 + len(base) * MINUTE, 20.0 + extra))
    assert peaks == sorted(peaks)
    assert 0.0 < peaks[0] < 0.75 < peaks[-1]


def test_value_detector_scores_a_spike_above_the_ordinary_rows() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    values = 10.0 + np.sin(np.arange(n) / 288 * 2 * np.pi) + rng.normal(0.0, 0.1, n)
    values[2500] += 5.0
    scores = np.asarray(run(value_detector, values.tolist()))
    # The short average behind the likelihood peaks on the spike or the row after it.
    assert scores[2500:2502].max() == scores[600:].max()
    assert scores[2500:2502].max() > 0.9


def test_alarm_gate_fires_once_on_a_rising_score() -> None:
    gate = AlarmGate(level=0.5, min_quiet=10, margin=1.0)
    rising = [0.1, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    out = [gate.update(s) for s in rising]
    assert out == [0.0, 0.55, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_alarm_gate_rearms_only_after_quiet_rows_and_a_fall() -> None:
    gate = AlarmGate(level=0.5, min_quiet=5, margin=1.0)
    assert gate.update(0.8) == 0.8
    # Still high after the quiet period: the same anomaly, not a new one.
    assert [gate.update(0.8) for _ in range(8)] == [0.0] * 8
    assert gate.update(0.1) == 0.0
    assert gate.update(0.7) == 0.7  # it fell, and the quiet period is over: a new anomaly
    gate.update(0.1)
    assert gate.update(0.9) == 0.0  # fell, but inside the quiet period


def test_alarm_gate_quiet_period_can_grow_with_the_rows_seen() -> None:
    gate = AlarmGate(level=0.5, min_quiet=5, quiet_fraction=0.5)
    for _ in range(100):
        gate.update(0.0)
    assert gate.update(0.9) == 0.9
    gate.update(0.0)
    later = [gate.update(0.9 if i % 2 else 0.0) for i in range(40)]
    assert max(later) == 0.0  # 50 rows of quiet after 100 seen, not the minimum 5


def test_alarm_gate_lets_a_far_stronger_score_through_the_quiet_period() -> None:
    gate = AlarmGate(level=0.3, min_quiet=100, margin=0.4)
    assert gate.update(0.35) == 0.35
    assert gate.update(0.5) == 0.0
    assert gate.update(0.8) == 0.8


def test_value_detector_alarms_once_on_a_level_shift_of_ordinary_values() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    values = 50.0 + rng.normal(0.0, 1.0, n)
    values[2000:] += 1.5  # each shifted value is within 2 sd of the old level
    scores = np.asarray(run(value_detector, values.tolist()))
    alarms = np.flatnonzero(scores[2000:] > 0.0)
    assert len(alarms) >= 1
    assert alarms[0] < 100
    assert scores[2000:].max() > scores[600:2000].max()


def test_pattern_resonance_learns_a_repeating_shape_and_flags_a_new_one() -> None:
    art = PatternResonance(width=8, vigilance=0.7, capacity=64, learn_rows=150)
    wave = [math.sin(i / 24 * 2 * math.pi) for i in range(2400)]
    created = []
    for x in wave:
        art.update(x)
        created.append(art.created)
    assert not any(created[1200:])  # a daily rhythm seen for days is nothing new
    # Vigilance 0.7 lets a window differ by up to 0.3 on average (normalised): only a shape
    # far from every learned one is new, here a violent oscillation where the series was smooth.
    for i in range(40):
        art.update(3.0 if i % 2 else -3.0)
        created.append(art.created)
    assert any(created[2400:])
    assert art.count <= 64


def test_pattern_resonance_range_is_fixed_after_its_learning_rows() -> None:
    art = PatternResonance(learn_rows=10)
    for x in range(10):
        art.update(float(x))
    art.update(1000.0)
    assert (art.lo, art.hi) == (0.0, 9.0)
    assert art.normalise(1000.0) == 1.0
    assert art.normalise(-1000.0) == 0.0


def test_value_detector_alarms_tighten_as_the_history_grows() -> None:
    rng = np.random.default_rng(5)
    values = (10.0 + rng.normal(0.0, 1.0, 12_000)).tolist()
    values[11_000] += 30.0
    fixed = np.asarray(run(lambda: value_detector(tighten=0.0, art_event=0.0), values))
    tight = np.asarray(run(lambda: value_detector(art_event=0.0), values))
    # The same stream: fewer chance alarms late on, the clear spike still caught.
    assert np.count_nonzero(tight[3000:11_000]) < np.count_nonzero(fixed[3000:11_000])
    assert tight[11_000:11_003].max() > 0.0

"""Detection evaluation: alert rule, matching arithmetic, baseline, and one end-to-end run."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from rapidresponse.signals.detectors import count_detector
from rapidresponse.sim.crisis import (
    MINUTES_PER_DAY,
    Injection,
    KeyProfile,
    Label,
    Scenario,
    Streams,
    simulate,
)
from rapidresponse.sim.evaluation import (
    alert_minutes,
    evaluate,
    evaluate_scores,
    score_keys,
    sweep,
    threshold_for_false_alert_rate,
    trailing_zscores,
)

START = datetime(2025, 4, 7, tzinfo=UTC)
DAY = MINUTES_PER_DAY


def hand_made(minutes: int = 2 * DAY, warmup: int = 0) -> tuple[Scenario, Streams, np.ndarray]:
    """Three keys; a burst on key 0 at 1000-1030 and a ramp on key 1 at 1500-1800."""
    keys = tuple(KeyProfile(f"k{i}", 1.0) for i in range(3))
    injections = (
        Injection("k0", "burst", 1000, 30, 5.0),
        Injection("k1", "ramp", 1500, 300, 2.0),
    )
    scenario = Scenario(START, minutes, keys, injections, warmup_minutes=warmup)
    labels = (Label(0, "k0", "burst", 1000, 1030), Label(1, "k1", "ramp", 1500, 1800))
    streams = Streams(np.zeros((3, minutes), dtype=np.int64), labels)
    return scenario, streams, np.zeros((3, minutes))


def test_one_alert_until_the_score_rests_below_threshold_for_the_cooldown() -> None:
    scores = np.zeros(40)
    scores[[5, 6, 8, 12, 30]] = 1.0
    # 5 opens; 6 and 8 continue it (gaps of 0 and 1 quiet minutes < 3); 12 follows three
    # quiet minutes (9, 10, 11) and so opens a new alert; so does 30.
    assert alert_minutes(scores, 0.5, 3).tolist() == [5, 12, 30]
    assert alert_minutes(scores, 0.5, 0).tolist() == [5, 6, 8, 12, 30]
    assert alert_minutes(scores, 1.5, 3).tolist() == []


def test_time_to_detect_is_first_alert_minus_onset() -> None:
    scenario, streams, scores = hand_made()
    scores[0, 1007] = 1.0
    scores[0, 1020] = 1.0  # same alert, later: not the first
    report = evaluate_scores(scores, streams, scenario, 0.5, cooldown_minutes=60)
    burst = report.detections[0]
    assert burst.first_alert == 1007
    assert burst.time_to_detect == 7
    assert report.by_shape["burst"].median_ttd == 7.0
    assert report.by_shape["burst"].recall == 1.0
    assert report.by_shape["ramp"].recall == 0.0
    assert report.by_shape["ramp"].median_ttd is None
    assert report.recall == 0.5
    assert report.false_alerts == 0


def test_alerts_outside_injections_are_false_and_charged_per_key_day() -> None:
    scenario, streams, scores = hand_made()
    scores[2, 100] = 1.0  # a key with no injection
    scores[0, 900] = 1.0  # the injected key, but before its onset
    scores[1, 1800 + 59] = 1.0  # inside the grace period after the ramp ends: a detection
    scores[0, 1030 + 61] = 1.0  # past the grace period: false
    report = evaluate_scores(scores, streams, scenario, 0.5, cooldown_minutes=0, grace_minutes=60)
    assert report.false_alerts == 3
    assert report.key_days == pytest.approx(3 * 2.0)
    assert report.false_alerts_per_key_day == pytest.approx(0.5)
    assert report.detections[1].time_to_detect == 300 + 59
    assert report.detections[0].detected is False  # the 900 alert was open-and-closed before


def test_warmup_alerts_are_counted_apart() -> None:
    scenario, streams, scores = hand_made(warmup=DAY // 2)
    scores[2, 10] = 1.0
    scores[2, DAY] = 1.0
    report = evaluate_scores(scores, streams, scenario, 0.5, cooldown_minutes=60)
    assert (report.warmup_alerts, report.false_alerts) == (1, 1)
    assert report.key_days == pytest.approx(3 * 1.5)


def test_sweep_and_false_alert_budget_pick_thresholds_from_one_score_matrix() -> None:
    scenario, streams, scores = hand_made()
    scores[2, [100, 300, 500]] = [0.3, 0.6, 0.9]
    scores[0, 1002] = 0.95
    reports = sweep(scores, streams, scenario, [0.2, 0.5, 0.8, 0.99], cooldown_minutes=10)
    assert [r.false_alerts for r in reports] == [3, 2, 1, 0]
    assert [r.detected for r in reports] == [1, 1, 1, 0]
    best = threshold_for_false_alert_rate(
        scores, streams, scenario, 1 / 6, [0.2, 0.5, 0.8, 0.99], cooldown_minutes=10
    )
    assert best is not None
    assert best.threshold == 0.8
    assert best.detected == 1


def test_trailing_zscores_use_only_the_previous_window() -> None:
    counts = np.array([[2, 2, 4, 4, 10, 0]])
    z = trailing_zscores(counts, window=4, min_sd=0.0)
    # Row 4 against rows 0-3: mean 3, sd 1; row 5 against rows 1-4: mean 5, sd 3.
    assert z[0, :4].tolist() == [0.0] * 4
    assert z[0, 4] == pytest.approx(7.0)
    assert z[0, 5] == pytest.approx(-5.0 / 3.0)
    floored = trailing_zscores(np.array([[0, 0, 0, 0, 2]]), window=4, min_sd=1.0)
    assert floored[0, 4] == pytest.approx(2.0)


class Recorder:
    """Scores 1 when the count is at least 5; records the times it was fed."""

    def __init__(self, log: list[float]) -> None:
        self.log = log

    def update(self, t: float, value: float) -> float:
        self.log.append(t)
        return 1.0 if value >= 5 else 0.0

    def memory_items(self) -> int:
        return 0


def test_detectors_are_fed_every_minute_in_order_one_per_key() -> None:
    log: list[float] = []
    counts = np.array([[0, 0, 7, 0], [0, 9, 0, 0]])
    scores = score_keys(counts, 1000.0, lambda: Recorder(log))
    assert scores.tolist() == [[0, 0, 1, 0], [0, 1, 0, 0]]
    assert log == [1000.0, 1060.0, 1120.0, 1180.0] * 2
    late = score_keys(counts, 1000.0, lambda: Recorder(log), start_at_first_event=True)
    assert late.tolist() == [[0, 0, 1, 0], [0, 1, 0, 0]]
    assert np.all(score_keys(np.zeros((1, 4), dtype=np.int64), 0.0, lambda: Recorder(log)) == 0)


def test_count_detector_finds_a_large_burst_within_minutes() -> None:
    keys = (
        KeyProfile("busy", 5.0, diurnal_amplitude=0.4, overdispersion=0.05),
        KeyProfile("calm", 2.0, diurnal_amplitude=0.4, overdispersion=0.05),
    )
    onset = 7 * DAY + 600
    burst = Injection("busy", "burst", onset, 30, 10.0)
    scenario = Scenario(START, 8 * DAY, keys, (burst,), warmup_minutes=7 * DAY)
    streams = simulate(scenario, np.random.default_rng(4))
    report = evaluate(streams, scenario, count_detector, threshold=0.9, cooldown_minutes=60)
    (detection,) = report.detections
    assert detection.detected
    assert detection.time_to_detect is not None
    assert detection.time_to_detect <= 3
    assert report.by_shape["burst"].recall == 1.0

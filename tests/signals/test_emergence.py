"""New-key emergence: a quiet or unseen key that gathers events fast is flagged, others not."""

from __future__ import annotations

import numpy as np

from rapidresponse.signals.detectors import count_detector
from rapidresponse.signals.emergence import NewKeyDetector, Strongest

MINUTE = 60.0


def feed(detector: NewKeyDetector | Strongest, counts: list[int]) -> list[float]:
    return [detector.update(i * MINUTE, float(c)) for i, c in enumerate(counts)]


def test_a_key_silent_for_days_that_rises_is_flagged_within_minutes() -> None:
    scores = feed(NewKeyDetector(), [0] * (5 * 1440) + [1, 2, 2, 3, 3, 4])
    assert max(scores[: 5 * 1440]) == 0.0
    assert scores[-4] > 0.5  # 5 events in the window: first possible moment
    assert scores[-1] == 1.0


def test_a_brand_new_key_is_judged_by_the_global_prior() -> None:
    # The detector is created at the key's first event: no history at all.
    scores = feed(NewKeyDetector(), [2, 3, 3, 4])
    assert scores[0] == 0.0  # fewer than min_count events so far
    assert scores[1] > 0.5
    # A busier prior (new keys usually get 2 events a minute) makes the same counts ordinary.
    busy = feed(NewKeyDetector(prior_rate=2.0, established_rate=5.0), [2, 3, 3, 4])
    assert max(busy) < 0.1


def test_stray_events_on_a_quiet_key_never_fire() -> None:
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.02, 14 * 1440).tolist()
    assert max(feed(NewKeyDetector(), counts)) == 0.0


def test_established_keys_are_left_to_the_seasonal_detector() -> None:
    rng = np.random.default_rng(1)
    counts = [*rng.poisson(2.0, 3 * 1440).tolist(), 40, 40, 40]
    scores = feed(NewKeyDetector(), counts)
    # Its first minutes look like a new key's (nothing is known yet); once its history says
    # it is busy, even a surge is not an emergence.
    assert max(scores[:10]) == 1.0
    assert max(scores[1440:]) == 0.0


def test_memory_is_a_fixed_ring_however_long_the_stream() -> None:
    detector = NewKeyDetector(window=10)
    feed(detector, [0] * 20)
    before = detector.memory_items()
    feed(detector, [1] * 5000)
    assert detector.memory_items() == before
    assert len(detector.recent) == 10


def test_strongest_reports_the_highest_score() -> None:
    quiet = [0] * (3 * 1440)
    combined = feed(Strongest([count_detector(), NewKeyDetector()]), [*quiet, 3, 3, 3])
    alone = feed(NewKeyDetector(), [*quiet, 3, 3, 3])
    assert combined[-1] >= alone[-1] == 1.0


def test_strongest_is_silent_on_a_quiet_key_until_it_emerges() -> None:
    # The count detector must not fire on a near-silent key just for being below its floor:
    # the engine would hold one alert open on it forever and miss the real emergence.
    rng = np.random.default_rng(9)
    quiet = rng.poisson(0.0005, 4 * 1440).tolist()
    rise = [1, 2, 3, 4, 5, 6, 7, 8]
    scores = feed(Strongest([count_detector(), NewKeyDetector()]), [*quiet, *rise])
    assert max(scores[: len(quiet)]) < 0.75
    assert max(scores[len(quiet) :]) == 1.0

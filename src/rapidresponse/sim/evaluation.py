"""Detection evaluation on simulated crises: recall, false alerts per key-day, time to detect.

The steps are separate so a benchmark can score once and then try many thresholds:

1. ``score_keys`` runs one fresh streaming detector per key over every minute in order (a
   detector only ever sees the past) and keeps its scores (keys x minutes). With
   ``start_at_first_event`` a key's detector is created at the key's first event, as a live
   system does for keys it has never seen (scores before that are 0).
2. ``alert_minutes`` turns one key's scores into alerts: a score >= threshold raises an alert
   unless the key's previous alert is still open; an alert closes once the score has stayed
   below the threshold for ``cooldown_minutes`` in a row.
3. ``evaluate_scores`` matches alerts to the labelled injections. An alert on the injected key
   in ``[onset, end + grace)`` detects it; time to detect = first such alert - onset (minutes).
   Every other alert is false. Alerts before ``from_minute`` (the scenario's warm-up by
   default) are counted apart as warm-up alerts and are not charged as false alerts: nobody
   deploys a detector on the day it is created. False alerts per key-day = false alerts /
   (keys x scored days).

``evaluate`` chains 1 to 3; ``sweep`` re-reads one score matrix at several thresholds and
``threshold_for_false_alert_rate`` picks the lowest threshold within a false-alert budget, so
detectors are compared at the same false-alert rate. ``trailing_zscores`` is the simple
baseline (each count's z-score against the key's previous 24 hours), vectorised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rapidresponse.signals.detectors import StreamingDetector
from rapidresponse.sim.crisis import MINUTES_PER_DAY, SHAPES, Label, Scenario, Streams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DEFAULT_GRACE_MINUTES = 60


DetectorFactory = Callable[[], StreamingDetector]


@dataclass(frozen=True)
class Detection:
    """One injection's outcome: the first alert that matched it, if any."""

    label: Label
    first_alert: int | None

    @property
    def detected(self) -> bool:
        return self.first_alert is not None

    @property
    def time_to_detect(self) -> int | None:
        return None if self.first_alert is None else self.first_alert - self.label.onset


@dataclass(frozen=True)
class ShapeFigures:
    injections: int
    detected: int
    recall: float | None
    median_ttd: float | None
    p90_ttd: float | None


@dataclass(frozen=True)
class Report:
    threshold: float
    cooldown_minutes: int
    grace_minutes: int
    injections: int
    detected: int
    recall: float | None
    by_shape: dict[str, ShapeFigures]
    alerts: int
    false_alerts: int
    warmup_alerts: int
    key_days: float
    false_alerts_per_key_day: float
    median_ttd: float | None
    p90_ttd: float | None
    detections: tuple[Detection, ...]

    def as_dict(self, detections: bool = False) -> dict[str, Any]:
        """JSON-ready figures (rounded); per-injection rows only when asked."""
        out: dict[str, Any] = {
            "threshold": round(self.threshold, 6),
            "cooldown_minutes": self.cooldown_minutes,
            "grace_minutes": self.grace_minutes,
            "injections": self.injections,
            "detected": self.detected,
            "recall": _round(self.recall),
            "by_shape": {
                shape: {
                    "injections": f.injections,
                    "detected": f.detected,
                    "recall": _round(f.recall),
                    "median_ttd_minutes": _round(f.median_ttd),
                    "p90_ttd_minutes": _round(f.p90_ttd),
                }
                for shape, f in self.by_shape.items()
            },
            "alerts": self.alerts,
            "false_alerts": self.false_alerts,
            "warmup_alerts": self.warmup_alerts,
            "key_days": round(self.key_days, 2),
            "false_alerts_per_key_day": round(self.false_alerts_per_key_day, 5),
            "median_ttd_minutes": _round(self.median_ttd),
            "p90_ttd_minutes": _round(self.p90_ttd),
        }
        if detections:
            out["detections"] = [
                {
                    "key": d.label.key,
                    "shape": d.label.shape,
                    "onset": d.label.onset,
                    "end": d.label.end,
                    "first_alert": d.first_alert,
                    "ttd_minutes": d.time_to_detect,
                }
                for d in self.detections
            ]
        return out


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


# --- 1. Scores ----------------------------------------------------------------------------


def score_keys(
    counts: npt.NDArray[np.integer[Any]],
    start_epoch: float,
    make_detector: DetectorFactory,
    *,
    start_at_first_event: bool = False,
) -> npt.NDArray[np.float32]:
    """Scores (float32, keys x minutes) of one fresh detector per key row, fed in order."""
    n, m = counts.shape
    out = np.zeros((n, m), dtype=np.float32)
    stamps = (start_epoch + 60.0 * np.arange(m)).tolist()
    for k in range(n):
        row = counts[k]
        first = 0
        if start_at_first_event:
            seen = np.flatnonzero(row > 0)
            if not len(seen):
                continue
            first = int(seen[0])
        detector = make_detector()
        update = detector.update
        values = row[first:].tolist()
        out[k, first:] = [update(t, float(v)) for t, v in zip(stamps[first:], values, strict=True)]
    return out


def trailing_zscores(
    counts: npt.NDArray[np.integer[Any]], window: int = MINUTES_PER_DAY, min_sd: float = 1.0
) -> FloatArray:
    """Each count's z-score against the mean and sd of the key's previous ``window`` minutes.

    Only earlier rows count; rows before a full window score 0. The sd is floored at
    ``min_sd`` counts so that on a quiet key one stray event is not "three sigma".
    """
    x = counts.astype(np.float64)
    n, m = x.shape
    c1 = np.zeros((n, m + 1))
    c2 = np.zeros((n, m + 1))
    np.cumsum(x, axis=1, out=c1[:, 1:])
    np.cumsum(x * x, axis=1, out=c2[:, 1:])
    z = np.zeros((n, m))
    if m <= window:
        return z
    i = np.arange(window, m)
    mean = (c1[:, i] - c1[:, i - window]) / window
    var = (c2[:, i] - c2[:, i - window]) / window - mean * mean
    sd = np.maximum(np.sqrt(np.maximum(var, 0.0)), min_sd)
    z[:, window:] = (x[:, window:] - mean) / sd
    return z


# --- 2. Alerts ----------------------------------------------------------------------------


def alert_minutes(
    scores: npt.NDArray[np.floating[Any]], threshold: float, cooldown: int
) -> IntArray:
    """Minutes at which one key raises an alert (see the module docstring for the rule)."""
    above = np.flatnonzero(np.asarray(scores) >= threshold)
    if not len(above):
        return above.astype(np.int64)
    # Minutes between consecutive above-threshold rows, minus one, are the rows below it; a
    # run of at least ``cooldown`` of those closes the alert, so the next row above opens one.
    gaps = np.diff(above) - 1
    opens = np.concatenate(([True], gaps >= max(cooldown, 0)))
    return above[opens].astype(np.int64)


# --- 3. Matching --------------------------------------------------------------------------


def evaluate_scores(
    scores: npt.NDArray[np.floating[Any]],
    streams: Streams,
    scenario: Scenario,
    threshold: float,
    cooldown_minutes: int = 60,
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
    from_minute: int | None = None,
) -> Report:
    """Alerts from ``scores`` at ``threshold``, matched against ``streams.labels``."""
    start = scenario.warmup_minutes if from_minute is None else from_minute
    n, m = scores.shape
    by_key: dict[int, list[Label]] = {}
    for label in streams.labels:
        by_key.setdefault(label.key_index, []).append(label)
    first_alert: dict[Label, int] = {}
    alerts = false_alerts = warmup_alerts = 0
    for k in range(n):
        minutes = alert_minutes(scores[k], threshold, cooldown_minutes)
        alerts += len(minutes)
        labels = by_key.get(k, [])
        explained = np.zeros(len(minutes), dtype=bool)
        for label in labels:
            inside = (minutes >= label.onset) & (minutes < label.end + grace_minutes)
            if inside.any():
                first_alert[label] = int(minutes[inside][0])
            explained |= inside
        early = minutes < start
        warmup_alerts += int((early & ~explained).sum())
        false_alerts += int((~early & ~explained).sum())
    detections = tuple(Detection(lb, first_alert.get(lb)) for lb in streams.labels)
    key_days = n * max(m - start, 0) / MINUTES_PER_DAY
    shapes = [s for s in SHAPES if any(d.label.shape == s for d in detections)]
    ttds = [d.time_to_detect for d in detections if d.time_to_detect is not None]
    median, p90 = _quantiles(ttds)
    found = sum(d.detected for d in detections)
    return Report(
        threshold=float(threshold),
        cooldown_minutes=cooldown_minutes,
        grace_minutes=grace_minutes,
        injections=len(detections),
        detected=found,
        recall=found / len(detections) if detections else None,
        by_shape={s: _shape_figures([d for d in detections if d.label.shape == s]) for s in shapes},
        alerts=alerts,
        false_alerts=false_alerts,
        warmup_alerts=warmup_alerts,
        key_days=key_days,
        false_alerts_per_key_day=false_alerts / key_days if key_days else 0.0,
        median_ttd=median,
        p90_ttd=p90,
        detections=detections,
    )


def _quantiles(values: Sequence[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    a = np.asarray(values, dtype=np.float64)
    return float(np.median(a)), float(np.percentile(a, 90))


def _shape_figures(detections: Sequence[Detection]) -> ShapeFigures:
    ttds = [d.time_to_detect for d in detections if d.time_to_detect is not None]
    median, p90 = _quantiles(ttds)
    return ShapeFigures(
        injections=len(detections),
        detected=len(ttds),
        recall=len(ttds) / len(detections) if detections else None,
        median_ttd=median,
        p90_ttd=p90,
    )


def evaluate(
    streams: Streams,
    scenario: Scenario,
    make_detector: DetectorFactory,
    threshold: float,
    cooldown_minutes: int = 60,
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
) -> Report:
    """Score every key with a fresh detector from ``make_detector``, then match alerts."""
    scores = score_keys(streams.counts, scenario.start_epoch, make_detector)
    return evaluate_scores(scores, streams, scenario, threshold, cooldown_minutes, grace_minutes)


def sweep(
    scores: npt.NDArray[np.floating[Any]],
    streams: Streams,
    scenario: Scenario,
    thresholds: Iterable[float],
    cooldown_minutes: int = 60,
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
) -> list[Report]:
    """One report per threshold, from one score matrix."""
    return [
        evaluate_scores(scores, streams, scenario, t, cooldown_minutes, grace_minutes)
        for t in thresholds
    ]


def threshold_for_false_alert_rate(
    scores: npt.NDArray[np.floating[Any]],
    streams: Streams,
    scenario: Scenario,
    budget: float,
    candidates: Iterable[float],
    cooldown_minutes: int = 60,
    grace_minutes: int = DEFAULT_GRACE_MINUTES,
) -> Report | None:
    """The report at the lowest candidate threshold with false alerts/key-day <= ``budget``."""
    for t in sorted(candidates):
        report = evaluate_scores(scores, streams, scenario, t, cooldown_minutes, grace_minutes)
        if report.false_alerts_per_key_day <= budget:
            return report
    return None

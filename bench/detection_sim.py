"""Detection on simulated crises: recall, false alerts per key-day and time to detect.

Simulates a seeded scenario (``sim/crisis.py``: many keys, seasonal overdispersed counts,
holidays, injected burst / viral / ramp / new-key incidents after a 7-day warm-up), runs one
detector per key over every minute (``sim/evaluation.py``) and prints JSON:

- ``count_detector``, ``NewKeyDetector`` alone and ``Strongest`` of the two (the max of their
  scores, what the engine runs) at ``--threshold`` (default 0.75, the engine's);
- the baseline, measured in the same run on the same streams: the trailing 24-hour z-score
  (count against the mean and sd of the key's previous 1440 minutes, sd floored at 1), at the
  textbook rule z >= 3 and at the lowest z whose false alerts per key-day do not exceed
  Strongest's at ``--threshold``;
- at a false-alert budget (``--budget``, default 0.1 per key-day: what a team can triage):
  count_detector, Strongest and the baseline each at their lowest threshold within it, so
  recall is compared at the same false-alert rate (ratios).

``--min-count`` (default 0) also requires that many events in the alerting minute, as the
engine does (``DetectionSettings.min_count``); it is applied to every detector alike.

Usage: python bench/detection_sim.py [--keys 500] [--days 21] [--injections 60] [--seed 7]
[--threshold 0.75] [--budget 0.1] [--min-count 0] [--cooldown 60] [--grace 60] [--workers N]
The count detector is pure Python (about 15 us a row); keys are split over ``--workers``
processes (default: all cores).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from rapidresponse.signals.detectors import count_detector
from rapidresponse.signals.emergence import NewKeyDetector
from rapidresponse.sim import crisis, evaluation


def _score_chunk(args: tuple[np.ndarray, float, str]) -> np.ndarray:
    counts, start_epoch, which = args
    factory = count_detector if which == "count" else NewKeyDetector
    return evaluation.score_keys(counts, start_epoch, factory)


def score_parallel(counts: np.ndarray, start_epoch: float, which: str, workers: int) -> np.ndarray:
    if workers <= 1:
        return _score_chunk((counts, start_epoch, which))
    # Interleaved chunks balance busy and quiet keys across processes.
    parts = [np.arange(i, len(counts), workers * 4) for i in range(workers * 4)]
    out = np.zeros(counts.shape, dtype=np.float32)
    with ProcessPoolExecutor(workers) as pool:
        jobs = [(counts[p], start_epoch, which) for p in parts]
        for p, scores in zip(parts, pool.map(_score_chunk, jobs), strict=True):
            out[p] = scores
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--injections", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.75)
    parser.add_argument("--budget", type=float, default=0.1)
    parser.add_argument("--min-count", type=int, default=0)
    parser.add_argument("--cooldown", type=int, default=60)
    parser.add_argument("--grace", type=int, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    scenario = crisis.make_scenario(args.keys, args.days, args.injections, args.seed)
    streams = crisis.simulate(scenario, np.random.default_rng(args.seed))
    timings["simulate_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    ours = score_parallel(streams.counts, scenario.start_epoch, "count", args.workers)
    timings["count_detector_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    new_key = score_parallel(streams.counts, scenario.start_epoch, "new_key", args.workers)
    timings["new_key_detector_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    z = evaluation.trailing_zscores(streams.counts)
    timings["baseline_s"] = round(time.perf_counter() - started, 2)

    if args.min_count > 0:
        quiet = streams.counts < args.min_count
        ours, new_key, z = (np.where(quiet, 0.0, s) for s in (ours, new_key, z))
    strongest_scores = np.maximum(ours, new_key)

    def report(scores: np.ndarray, threshold: float) -> evaluation.Report:
        return evaluation.evaluate_scores(
            scores, streams, scenario, threshold, args.cooldown, args.grace
        )

    def within(scores: np.ndarray, budget: float, baseline: bool) -> evaluation.Report | None:
        candidates = np.arange(3.0, 80.0, 0.25) if baseline else np.arange(0.3, 1.0001, 0.005)
        return evaluation.threshold_for_false_alert_rate(
            scores, streams, scenario, budget, candidates, args.cooldown, args.grace
        )

    def figures(r: evaluation.Report | None) -> dict[str, Any] | None:
        return r.as_dict() if r is not None else None

    def ratio(a: evaluation.Report | None, b: evaluation.Report | None) -> float | None:
        if a is None or b is None or a.recall is None or not b.recall:
            return None
        return round(a.recall / b.recall, 2)

    count_report = report(ours, args.threshold)
    strongest = report(strongest_scores, args.threshold)
    matched_strongest = within(z, strongest.false_alerts_per_key_day, baseline=True)
    count_budget = within(ours, args.budget, baseline=False)
    strongest_budget = within(strongest_scores, args.budget, baseline=False)
    baseline_budget = within(z, args.budget, baseline=True)

    out: dict[str, Any] = {
        "scenario": {
            "keys": args.keys,
            "days": args.days,
            "injections": args.injections,
            "seed": args.seed,
            "warmup_days": scenario.warmup_minutes // crisis.MINUTES_PER_DAY,
            "rows": int(streams.counts.size),
            "events_simulated": streams.events,
            "min_count": args.min_count,
        },
        "count_detector": count_report.as_dict(),
        "new_key_detector": report(new_key, args.threshold).as_dict(),
        "strongest_count_and_new_key": strongest.as_dict(),
        "baseline": {
            "detector": "trailing 24 h z-score (sd floored at 1 count)",
            "z_3": report(z, 3.0).as_dict(),
            "at_strongest_false_alert_rate": figures(matched_strongest),
        },
        "recall_ratio_strongest_vs_baseline_same_false_alerts": ratio(strongest, matched_strongest),
        "at_false_alert_budget": {
            "budget_per_key_day": args.budget,
            "count_detector": figures(count_budget),
            "strongest_count_and_new_key": figures(strongest_budget),
            "baseline": figures(baseline_budget),
            "recall_ratio_count_vs_baseline": ratio(count_budget, baseline_budget),
            "recall_ratio_strongest_vs_baseline": ratio(strongest_budget, baseline_budget),
        },
        "timings": timings,
        "workers": args.workers,
        "rows_per_second_count_detector": round(
            streams.counts.size / max(timings["count_detector_s"], 1e-9)
        ),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

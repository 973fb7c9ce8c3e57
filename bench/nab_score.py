"""NAB benchmark: score the `rapidresponse` detector on the NAB corpus with NAB's rules.

Prints JSON: the normalised score of each profile (standard, reward_low_FP_rate,
reward_low_FN_rate) at the threshold optimised for that profile over the whole corpus, the
thresholds, and, measured in the same run with the same scorer, a windowed-Gaussian baseline
(NAB's published "Windowed Gaussian": the tail probability of each value under the mean and
standard deviation of the previous W values), plus the null detector (0 by construction) and
the perfect detector (100) as sanity checks of the scorer.

Usage: python bench/nab_score.py [--data DIR] [--results DIR] [--window W]
(default data: ../shared/data/nab; without --results the detector is run into a temp dir).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import special

from rapidresponse.signals import nab

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"


def windowed_gaussian(values: np.ndarray, window: int = 6400) -> np.ndarray:
    """Score each row by how far it lies in the tail of the previous ``window`` values.

    Score = 1 - two-sided Gaussian tail probability; only earlier rows are used (a row's
    own value never enters its mean), and the first rows score 0.
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    c1 = np.concatenate(([0.0], np.cumsum(x)))
    c2 = np.concatenate(([0.0], np.cumsum(x * x)))
    i = np.arange(n)
    lo = np.maximum(0, i - window)
    count = (i - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c1[i] - c1[lo]) / count
        var = (c2[i] - c2[lo]) / count - mean * mean
        std = np.sqrt(np.maximum(var, 0.0))
        z = np.abs(x - mean) / std
    z = np.where((count >= 2) & (std > 0), z, 0.0)
    return 1.0 - special.erfc(z / math.sqrt(2.0))


def baseline_files(data_dir: Path, window: int) -> list[nab.FileEvents]:
    all_windows = nab.load_windows(data_dir)
    files = []
    for key in nab.corpus_files(data_dir):
        stamps, values = nab.read_series(data_dir / key)
        scores = windowed_gaussian(values, window)
        files.append(nab.file_events(scores, nab.window_rows(stamps, all_windows.get(key, []))))
    return files


def profile_scores(files: list[nab.FileEvents]) -> tuple[dict[str, float], dict[str, float]]:
    scores: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for name, profile in nab.PROFILES.items():
        score, threshold = nab.score_corpus(files, profile)
        scores[name] = round(score, 2)
        thresholds[name] = round(threshold, 6)
    return scores, thresholds


def constant_files(files: list[nab.FileEvents], left_edges: bool) -> list[nab.FileEvents]:
    """The null detector (all 0) or the perfect one (1 at each window's first scored row)."""
    out = []
    for f in files:
        scores = np.zeros(len(f.scores))
        if left_edges:
            for k in range(f.n_windows):
                rows = np.flatnonzero(f.window == k)
                if len(rows):
                    scores[rows[0]] = 1.0
        out.append(nab.FileEvents(scores, f.weight, f.window, f.n_windows))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--window", type=int, default=6400, help="baseline window (rows)")
    args = parser.parse_args()

    run: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results = args.results
        if results is None:
            results = Path(tmp)
            run = nab.run_nab(args.data, results)
        files = nab.load_results(results, args.data)
    scores, thresholds = profile_scores(files)

    started = time.perf_counter()
    base_files = baseline_files(args.data, args.window)
    base_scores, base_thresholds = profile_scores(base_files)
    base_seconds = round(time.perf_counter() - started, 2)

    null_scores, _ = profile_scores(constant_files(files, left_edges=False))
    perfect_scores, _ = profile_scores(constant_files(files, left_edges=True))
    print(
        json.dumps(
            {
                "detector": "rapidresponse",
                "files": len(files),
                "windows": sum(f.n_windows for f in files),
                "scores": scores,
                "thresholds": thresholds,
                "run": run,
                "baseline": {
                    "detector": f"windowed_gaussian(W={args.window})",
                    "scores": base_scores,
                    "thresholds": base_thresholds,
                    "seconds": base_seconds,
                },
                "ratio_standard": round(scores["standard"] / base_scores["standard"], 2)
                if base_scores["standard"]
                else None,
                "null": null_scores,
                "perfect": perfect_scores,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

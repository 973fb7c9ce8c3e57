"""The Numenta Anomaly Benchmark (NAB): run a detector over a corpus, and score results.

Two halves, kept apart on purpose:

- ``run_nab`` reads a NAB-layout corpus (``<category>/<file>.csv`` with ``timestamp,value``),
  feeds every row, in order and once, to a fresh ``value_detector()`` and writes NAB-format
  results files. The detector never sees labels or windows: the ``label`` column is computed
  from ``combined_windows.json`` only after a file has been scored, for NAB's own tools.
- The scoring functions (``file_events``, ``score_at_threshold``, ``optimise_threshold``,
  ``normalised_score``) implement NAB's published rules on plain numpy arrays: probation,
  earliest-detection-per-window with the scaled sigmoid, sigmoid-discounted false positives
  after a window, a cost per missed window, one threshold per profile chosen to maximise the
  corpus total, and normalisation so the null detector scores 0 and the perfect one 100.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rapidresponse.signals.detectors import value_detector

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 5000


@dataclass(frozen=True)
class Profile:
    """NAB's application profile: the weight of a true positive, a false positive, a miss."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def probation_rows(n_rows: int) -> int:
    """Rows at the head of a file that are never scored (the detector's learning period)."""
    return min(math.floor(PROBATION_FRACTION * n_rows), math.floor(PROBATION_FRACTION * 5000))


def scaled_sigmoid(y: float) -> float:
    """NAB's weight for a detection at relative position ``y`` (-1 left edge, 0 right edge).

    Past a window, ``y`` is the distance beyond its right edge in window lengths; beyond 3
    the detection counts as a full false positive.
    """
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


@dataclass(frozen=True)
class FileEvents:
    """One file's scorable rows, reduced to what NAB's sweep needs.

    ``weight`` is the unweighted sweep value of a detection at that row: inside a window the
    scaled sigmoid normalised so the left edge is worth exactly 1; outside, the (negative)
    false-positive value. ``window`` is the window's index in the file, or -1 outside.
    """

    scores: FloatArray
    weight: FloatArray
    window: IntArray
    n_windows: int


def file_events(
    anomaly_scores: Sequence[float] | FloatArray,
    windows: Sequence[tuple[int, int]],
) -> FileEvents:
    """Per-row NAB weights for one file; ``windows`` are inclusive row-index pairs in order."""
    scores = np.asarray(anomaly_scores, dtype=np.float64)
    n = len(scores)
    weight = np.empty(n, dtype=np.float64)
    window = np.full(n, -1, dtype=np.int64)
    idx = np.arange(n, dtype=np.float64)
    sig = np.vectorize(scaled_sigmoid, otypes=[np.float64])
    # Before the first window every detection is a full false positive.
    weight[:] = -1.0
    for k, (left, right) in enumerate(windows):
        width = float(right - left + 1)
        inside = slice(left, right + 1)
        position = -(right - idx[inside] + 1.0) / width
        weight[inside] = sig(position) / MAX_TP
        window[inside] = k
        nxt = windows[k + 1][0] if k + 1 < len(windows) else n
        after = slice(right + 1, nxt)
        if nxt > right + 1:
            # NAB divides by (width - 1): a one-row window would divide by zero, so guard it.
            past = np.abs(right - idx[after]) / max(width - 1.0, 1.0)
            weight[after] = sig(past)
    keep = slice(probation_rows(n), n)
    scored_windows = window[keep]
    return FileEvents(scores[keep].copy(), weight[keep].copy(), scored_windows.copy(), len(windows))


def _events(files: Iterable[FileEvents], profile: Profile) -> tuple[FloatArray, FloatArray, float]:
    """Every (score, change in total) event of the threshold sweep, and the no-detection base."""
    ev_scores: list[FloatArray] = []
    ev_deltas: list[FloatArray] = []
    base = 0.0
    for f in files:
        base -= profile.fn * f.n_windows
        outside = f.window < 0
        ev_scores.append(f.scores[outside])
        ev_deltas.append(f.weight[outside] * profile.fp)
        for k in range(f.n_windows):
            rows = f.window == k
            if not rows.any():
                continue
            s = f.scores[rows]
            w = f.weight[rows] * profile.tp
            order = np.argsort(-s, kind="stable")
            best = np.maximum.accumulate(w[order])
            before = np.concatenate(([-profile.fn], best[:-1]))
            ev_scores.append(s[order])
            ev_deltas.append(best - before)
    if not ev_scores:
        return np.empty(0), np.empty(0), base
    return np.concatenate(ev_scores), np.concatenate(ev_deltas), base


def sweep(files: Sequence[FileEvents], profile: Profile) -> tuple[FloatArray, FloatArray]:
    """Corpus score at every candidate threshold (the distinct scores, descending).

    A row is a detection when its score is >= the threshold. The first entry is threshold
    +inf (nothing detected).
    """
    scores, deltas, base = _events(files, profile)
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    total = base + np.cumsum(deltas[order])
    # The total at threshold u counts every event with score >= u: the end of each tie group.
    last_of_group = np.ones(len(s), dtype=bool)
    if len(s) > 1:
        last_of_group[:-1] = s[:-1] != s[1:]
    thresholds = np.concatenate(([np.inf], s[last_of_group]))
    totals = np.concatenate(([base], total[last_of_group]))
    return thresholds, totals


def score_at_threshold(files: Sequence[FileEvents], profile: Profile, threshold: float) -> float:
    """The corpus's raw NAB score for one threshold: earliest detection per window, FPs, misses."""
    total = 0.0
    for f in files:
        hit = f.scores >= threshold
        fp = hit & (f.window < 0)
        total += float(np.sum(f.weight[fp])) * profile.fp
        for k in range(f.n_windows):
            rows = np.flatnonzero(hit & (f.window == k))
            if len(rows):
                total += float(f.weight[rows[0]]) * profile.tp
            else:
                total -= profile.fn
    return total


def optimise_threshold(files: Sequence[FileEvents], profile: Profile) -> tuple[float, float]:
    """The threshold maximising the corpus score for a profile, and that raw score."""
    thresholds, totals = sweep(files, profile)
    best = int(np.argmax(totals))
    return float(thresholds[best]), float(totals[best])


def null_and_perfect(files: Sequence[FileEvents], profile: Profile) -> tuple[float, float]:
    """Raw scores of the detector that never fires and the one firing at each left edge."""
    n_windows = sum(f.n_windows for f in files)
    return -profile.fn * n_windows, profile.tp * n_windows


def normalised_score(raw: float, files: Sequence[FileEvents], profile: Profile) -> float:
    """``100 * (S - S_null) / (S_perfect - S_null)``."""
    null, perfect = null_and_perfect(files, profile)
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)


def score_corpus(files: Sequence[FileEvents], profile: Profile) -> tuple[float, float]:
    """A profile's normalised corpus score (optimal threshold) and that threshold."""
    threshold, raw = optimise_threshold(files, profile)
    return normalised_score(raw, files, profile), threshold


# --- Corpus files ----------------------------------------------------------------------------


def read_series(path: Path) -> tuple[list[str], FloatArray]:
    """A NAB data file's timestamps (as written) and values."""
    stamps: list[str] = []
    values: list[float] = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            stamps.append(row[0])
            values.append(float(row[1]))
    return stamps, np.asarray(values, dtype=np.float64)


def epoch_seconds(stamps: Sequence[str]) -> FloatArray:
    """UTC epoch seconds of NAB timestamps (``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    return np.asarray(stamps, dtype="datetime64[us]").astype(np.int64).astype(np.float64) / 1e6


def window_rows(stamps: Sequence[str], windows: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Inclusive row-index bounds of each window given as timestamp pairs."""
    t = np.asarray(stamps, dtype="datetime64[us]")
    rows: list[tuple[int, int]] = []
    for start, end in windows:
        left = int(np.searchsorted(t, np.datetime64(start, "us"), side="left"))
        right = int(np.searchsorted(t, np.datetime64(end, "us"), side="right")) - 1
        if right >= left:
            rows.append((left, right))
    return rows


def corpus_files(data_dir: Path) -> list[str]:
    """Keys ``<category>/<file>.csv`` of every data file, sorted."""
    return sorted(
        f"{p.parent.name}/{p.name}" for p in data_dir.glob("*/*.csv") if p.parent.name != "results"
    )


def load_windows(data_dir: Path) -> dict[str, list[list[str]]]:
    path = data_dir / "combined_windows.json"
    if not path.exists():
        return {}
    loaded: dict[str, list[list[str]]] = json.loads(path.read_text())
    return loaded


def score_series(t: FloatArray, values: FloatArray) -> FloatArray:
    """Scores of a fresh ``value_detector()`` fed the series row by row."""
    detector = value_detector()
    out = np.empty(len(values), dtype=np.float64)
    for i in range(len(values)):
        out[i] = detector.update(float(t[i]), float(values[i]))
    return out


def results_path(results_dir: Path, detector: str, key: str) -> Path:
    category, name = key.split("/", 1)
    return results_dir / detector / category / f"{detector}_{name}"


def _run_file(args: tuple[Path, Path, str, str, list[list[str]]]) -> int:
    data_dir, results_dir, detector, key, windows = args
    stamps, values = read_series(data_dir / key)
    scores = score_series(epoch_seconds(stamps), values)
    # Labels only now, after every score exists, so they cannot reach the detector.
    labels = np.zeros(len(stamps), dtype=np.int64)
    for left, right in window_rows(stamps, windows):
        labels[left : right + 1] = 1
    write_results(results_path(results_dir, detector, key), stamps, values, scores, labels)
    return len(stamps)


def write_results(
    path: Path,
    stamps: Sequence[str],
    values: FloatArray,
    scores: FloatArray,
    labels: IntArray,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for row in zip(stamps, values.tolist(), scores.tolist(), labels.tolist(), strict=True):
            writer.writerow(row)


def run_nab(
    data_dir: Path,
    results_dir: Path,
    detector: str = "rapidresponse",
    progress: Callable[[str], None] | None = None,
    workers: int = 2,
) -> dict[str, object]:
    """Run ``value_detector()`` over every file of a NAB corpus; write NAB-format results.

    Returns ``{"detector", "files", "rows", "seconds", "results_dir"}``. ``progress`` is called
    with each file's key once it is written. Files run in ``workers`` processes (1: in-process).
    """
    started = time.perf_counter()
    keys = corpus_files(data_dir)
    all_windows = load_windows(data_dir)
    jobs = [(data_dir, results_dir, detector, k, all_windows.get(k, [])) for k in keys]
    rows = 0
    if workers <= 1:
        for job in jobs:
            rows += _run_file(job)
            if progress is not None:
                progress(job[3])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for job, n in zip(jobs, pool.map(_run_file, jobs), strict=True):
                rows += n
                if progress is not None:
                    progress(job[3])
    return {
        "detector": detector,
        "files": len(keys),
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 2),
        "results_dir": str(results_dir / detector),
    }


def load_results(
    results_dir: Path, data_dir: Path, detector: str = "rapidresponse"
) -> list[FileEvents]:
    """Every results file of a detector, with its windows, ready for scoring."""
    all_windows = load_windows(data_dir)
    files: list[FileEvents] = []
    for key in corpus_files(data_dir):
        path = results_path(results_dir, detector, key)
        stamps: list[str] = []
        scores: list[float] = []
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                stamps.append(row["timestamp"])
                scores.append(float(row["anomaly_score"]))
        windows = window_rows(stamps, all_windows.get(key, []))
        files.append(file_events(scores, windows))
    return files

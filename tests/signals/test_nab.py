"""NAB scoring rules on small hand-made examples; the runner's results files and CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from rapidresponse.signals import nab
from rapidresponse.signals.cli import detect_app

STANDARD = nab.PROFILES["standard"]


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert nab.probation_rows(1000) == 150
    assert nab.probation_rows(4032) == 604
    assert nab.probation_rows(100_000) == 750


def test_scaled_sigmoid_weights_the_window_edges() -> None:
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(3.5) == -1.0
    assert nab.scaled_sigmoid(0.5) == pytest.approx(2 / (1 + math.exp(2.5)) - 1)


def _file(n: int, detections: list[int], windows: list[tuple[int, int]]) -> nab.FileEvents:
    scores = np.zeros(n)
    scores[detections] = 1.0
    return nab.file_events(scores, windows)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    # 1000 rows: probation 150. Window rows 500..599 (100 rows).
    early = _file(1000, [500], [(500, 599)])
    both = _file(1000, [500, 550, 599], [(500, 599)])
    assert nab.score_at_threshold([early], STANDARD, 0.5) == pytest.approx(1.0)
    assert nab.score_at_threshold([both], STANDARD, 0.5) == pytest.approx(1.0)
    late = _file(1000, [599], [(500, 599)])
    assert nab.score_at_threshold([late], STANDARD, 0.5) == pytest.approx(
        nab.scaled_sigmoid(-1 / 100) / nab.MAX_TP
    )
    middle = _file(1000, [550], [(500, 599)])
    assert 0.0 < nab.score_at_threshold([late], STANDARD, 0.5) < 0.1
    assert nab.score_at_threshold([middle], STANDARD, 0.5) == pytest.approx(
        nab.scaled_sigmoid(-50 / 100) / nab.MAX_TP
    )


def test_a_missed_window_costs_the_fn_weight() -> None:
    missed = _file(1000, [], [(500, 599)])
    assert nab.score_at_threshold([missed], STANDARD, 0.5) == -1.0
    assert nab.score_at_threshold([missed], nab.PROFILES["reward_low_FN_rate"], 0.5) == -2.0


def test_false_positive_after_a_window_costs_less_than_one_before_it() -> None:
    before = _file(1000, [300], [(500, 599)])
    just_after = _file(1000, [610], [(500, 599)])
    far_after = _file(1000, [850], [(500, 599)])
    fp = STANDARD.fp
    s_before = nab.score_at_threshold([before], STANDARD, 0.5) + 1.0
    s_just = nab.score_at_threshold([just_after], STANDARD, 0.5) + 1.0
    s_far = nab.score_at_threshold([far_after], STANDARD, 0.5) + 1.0
    assert s_before == pytest.approx(-fp)
    assert s_just == pytest.approx(nab.scaled_sigmoid(11 / 99) * fp)
    assert s_before < s_far < s_just < 0.0
    low_fp = nab.score_at_threshold([before], nab.PROFILES["reward_low_FP_rate"], 0.5)
    assert low_fp + 1.0 == pytest.approx(-0.22)


def test_probation_rows_are_not_scored() -> None:
    in_probation = _file(1000, [10, 149], [(500, 599)])
    assert nab.score_at_threshold([in_probation], STANDARD, 0.5) == -1.0
    first_scored = _file(1000, [150], [(500, 599)])
    assert nab.score_at_threshold([first_scored], STANDARD, 0.5) == pytest.approx(-1.11)


def test_normalisation_null_is_0_and_perfect_is_100() -> None:
    windows = [(300, 349), (700, 799)]
    null = _file(1000, [], windows)
    perfect = _file(1000, [300, 700], windows)
    for profile in nab.PROFILES.values():
        assert nab.score_corpus([null], profile)[0] == 0.0
        assert nab.score_corpus([perfect], profile)[0] == pytest.approx(100.0)


@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=200, max_size=200),
    st.sampled_from(list(nab.PROFILES.values())),
)
def test_the_threshold_sweep_finds_the_best_threshold(
    scores: list[float], profile: nab.Profile
) -> None:
    files = [
        nab.file_events(scores[:120], [(40, 59), (90, 99)]),
        nab.file_events(scores[120:], [(50, 69)]),
        nab.file_events(scores[::-1], []),
    ]
    threshold, best = nab.optimise_threshold(files, profile)
    assert nab.score_at_threshold(files, profile, threshold) == pytest.approx(best)
    for t in [*set(scores), 2.0]:
        assert nab.score_at_threshold(files, profile, t) <= best + 1e-9


def _corpus(root: Path, windows: dict[str, list[list[str]]] | None) -> Path:
    rng = np.random.default_rng(0)
    for category, name in [("realA", "one.csv"), ("artB", "two.csv")]:
        path = root / category / name
        path.parent.mkdir(parents=True)
        values = rng.normal(10.0, 1.0, 400)
        values[300] = 30.0
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "value"])
            for i, v in enumerate(values):
                w.writerow([f"2014-04-01 {i // 60:02d}:{i % 60:02d}:00", f"{v:.4f}"])
    if windows is not None:
        (root / "combined_windows.json").write_text(json.dumps(windows))
    return root


WINDOWS = {
    "realA/one.csv": [["2014-04-01 04:50:00.000000", "2014-04-01 05:10:00.000000"]],
    "artB/two.csv": [],
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_nab_writes_nab_format_results(tmp_path: Path) -> None:
    data = _corpus(tmp_path / "data", WINDOWS)
    summary = nab.run_nab(data, tmp_path / "results", workers=1)
    assert summary["files"] == 2
    assert summary["rows"] == 800
    out = tmp_path / "results" / "rapidresponse" / "realA" / "rapidresponse_one.csv"
    rows = _read(out)
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == 400
    labelled = [i for i, r in enumerate(rows) if r["label"] == "1"]
    assert labelled == list(range(290, 311))
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    assert (tmp_path / "results" / "rapidresponse" / "artB" / "rapidresponse_two.csv").exists()
    files = nab.load_results(tmp_path / "results", data)
    assert [f.n_windows for f in files] == [0, 1]  # sorted keys: artB before realA


def test_labels_never_influence_scores(tmp_path: Path) -> None:
    with_labels = _corpus(tmp_path / "a", WINDOWS)
    without = _corpus(tmp_path / "b", None)
    nab.run_nab(with_labels, tmp_path / "ra", workers=1)
    nab.run_nab(without, tmp_path / "rb", workers=2)
    rel = Path("rapidresponse") / "realA" / "rapidresponse_one.csv"
    a = [r["anomaly_score"] for r in _read(tmp_path / "ra" / rel)]
    b = [r["anomaly_score"] for r in _read(tmp_path / "rb" / rel)]
    assert a == b


def test_cli_runs_the_corpus_and_says_where_results_went(tmp_path: Path) -> None:
    data = _corpus(tmp_path / "data", WINDOWS)
    result = CliRunner().invoke(detect_app, ["nab", str(data), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "2 files, 800 rows" in result.output
    assert (tmp_path / "out" / "rapidresponse" / "realA" / "rapidresponse_one.csv").exists()


def test_cli_rejects_a_missing_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(detect_app, ["nab", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code == 2
    assert "no such corpus directory" in result.output

"""Windowed counting: window assignment, watermarks, late events, heavy hitters, bounded memory."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.signals.counting import (
    ClosedWindow,
    CounterConfig,
    KeyColumn,
    KeyFamily,
    WindowedCounter,
)
from rapidresponse.signals.schema import Signal, SignalKind, decode_ndjson_batch, signal_to_event

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z, a window boundary
MIN = 60.0


def sig(t: float, *hashtags: str, region: str = "DE", weight: float = 1.0, **kw: object) -> Signal:
    return Signal(
        id=f"e{t}",
        source="//test",
        kind=SignalKind.USER_REPORT,
        event_time=t,
        harm_type=HarmType.HATE_SPEECH,
        region=region,
        content_id="c",
        hashtags=tuple(hashtags),
        weight=weight,
        **kw,  # type: ignore[arg-type]
    )


def by_window(closed: list[ClosedWindow], family: KeyFamily) -> dict[float, dict[str, int]]:
    return {
        w.window_start: {k: c for k, (c, _) in w.as_dict().items()}
        for w in closed
        if w.family is family
    }


def test_events_fall_in_one_minute_tumbling_windows() -> None:
    counter = WindowedCounter()
    for t in (T0, T0 + 59.999, T0 + 60.0, T0 + 125.0):
        assert counter.add(sig(t, "#a"))
    counts = by_window(counter.flush(), KeyFamily.HASHTAG)
    assert counts == {T0: {"#a": 2}, T0 + 60: {"#a": 1}, T0 + 120: {"#a": 1}}


def test_a_window_closes_only_when_the_watermark_passes_its_end() -> None:
    counter = WindowedCounter(CounterConfig(allowed_lateness_seconds=600))
    counter.add(sig(T0 + 5, "#a"))
    counter.add(sig(T0 + 10 * MIN + 59, "#b"))  # watermark = T0 + 59 s: first window still open
    assert counter.close_ready() == []
    counter.add(sig(T0 + 11 * MIN, "#c"))  # watermark = T0 + 60 s = end of the first window
    closed = counter.close_ready()
    assert {w.window_start for w in closed} == {T0}
    assert by_window(closed, KeyFamily.HASHTAG) == {T0: {"#a": 1}}
    assert counter.close_ready() == []  # emitted once
    assert counter.watermark == T0 + 60


def test_late_events_are_counted_as_late_not_lost_or_merged() -> None:
    counter = WindowedCounter(CounterConfig(allowed_lateness_seconds=120))
    counter.add(sig(T0, "#a"))
    counter.add(sig(T0 + 3 * MIN, "#a"))  # watermark T0 + 60: window T0 is closed
    assert counter.add(sig(T0 + 30, "#a", weight=5.0)) is False
    assert counter.add(sig(T0 + 61, "#a")) is True  # its window [T0+60, T0+120) is still open
    assert (counter.late_events, counter.late_weight) == (1, 5.0)
    counts = by_window(counter.flush(), KeyFamily.HASHTAG)
    assert counts[T0] == {"#a": 1}
    assert counts[T0 + 60] == {"#a": 1}


def test_advance_closes_idle_windows_and_flush_closes_everything() -> None:
    counter = WindowedCounter()
    counter.add(sig(T0, "#a"))
    assert counter.close_until(T0 + 59) == []
    assert next(w.window_start for w in counter.close_until(T0 + 60)) == T0
    counter.add(sig(T0 + 70, "#b"))
    assert {w.window_start for w in counter.flush()} == {T0 + 60}
    assert counter.add(sig(T0 + 100, "#c")) is False  # behind the flush
    assert counter.open_windows == []


def test_families_and_weights() -> None:
    counter = WindowedCounter(CounterConfig(families=tuple(KeyFamily)))
    counter.add(
        sig(T0, "#x", region="FR", weight=2.0, language="fr", sounds=("s1",), keywords=("kw",))
    )
    counter.add(sig(T0 + 1, "#x", region="FR", media_cluster="mc-1"))
    closed = {w.family: w for w in counter.flush()}
    assert closed[KeyFamily.HARM_REGION].as_dict() == {"hate_speech|FR": (2, 3.0)}
    assert closed[KeyFamily.HARM_LANGUAGE].as_dict() == {"hate_speech|fr": (1, 2.0)}
    assert closed[KeyFamily.HASHTAG].as_dict() == {"#x": (2, 3.0)}
    assert closed[KeyFamily.SOUND].as_dict() == {"s1": (1, 2.0)}
    assert closed[KeyFamily.KEYWORD].as_dict() == {"kw": (1, 2.0)}
    assert closed[KeyFamily.MEDIA_CLUSTER].as_dict() == {"mc-1": (1, 1.0)}
    assert closed[KeyFamily.HASHTAG].total_weight == 3.0
    assert closed[KeyFamily.HASHTAG].max_error == 0


def random_signals(seed: int, n: int) -> list[Signal]:
    rng = np.random.default_rng(seed)
    times = T0 + np.sort(rng.uniform(0, 30 * MIN, n)) + rng.normal(0, 200, n)  # some late
    out = []
    for i, t in enumerate(times.tolist()):
        tags = tuple(dict.fromkeys(f"#t{k}" for k in rng.zipf(1.5, rng.integers(0, 3))))
        out.append(
            sig(
                t,
                *tags,
                region=["DE", "FR", "US"][i % 3],
                weight=float(rng.choice([1.0, 2.0])),
                language=None if i % 4 == 0 else "en",
                sounds=(f"s{i % 7}",),
                media_cluster=None if i % 2 else f"mc{i % 5}",
            )
        )
    return out


def everything(closed: list[ClosedWindow]) -> dict[tuple[float, str, str], tuple[int, float]]:
    return {(w.window_start, str(w.family), k): v for w in closed for k, v in w.as_dict().items()}


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 400))
def test_vectorised_batches_equal_event_by_event(seed: int, batch: int) -> None:
    signals = random_signals(seed, 600)
    config = CounterConfig(allowed_lateness_seconds=300)
    one = WindowedCounter(config)
    results = [one.add(s) for s in signals]
    closed_one = one.flush()
    events = b"".join(json.dumps(signal_to_event(s)).encode() + b"\n" for s in signals)
    many = WindowedCounter(config)
    closed_many: list[ClosedWindow] = []
    lines = events.splitlines(keepends=True)
    for start in range(0, len(lines), batch):
        decoded, rejects = decode_ndjson_batch(b"".join(lines[start : start + batch]))
        assert rejects == []
        many.add_signal_batch(decoded)
        closed_many.extend(many.close_ready())
    closed_many.extend(many.flush())
    assert many.late_events == one.late_events == results.count(False)
    assert many.late_weight == pytest.approx(one.late_weight)
    mine, theirs = everything(closed_many), everything(closed_one)
    assert mine.keys() == theirs.keys()
    for key, (count, weight) in theirs.items():
        assert mine[key][0] == count
        assert mine[key][1] == pytest.approx(weight)


def zipf_stream(seed: int, n: int, a: float) -> np.ndarray:
    """Zipf-distributed keys renumbered 0.. by value (0 is the most frequent)."""
    raw = np.random.default_rng(seed).zipf(a, n)
    return np.unique(raw, return_inverse=True)[1].astype(np.int64)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(20, 300),
    st.floats(1.1, 2.0),
    st.integers(50, 3000),
)
def test_heavy_hitters_keep_the_true_top_keys_within_the_bound(
    seed: int, capacity: int, a: float, batch: int
) -> None:
    keys = zipf_stream(seed, 20_000, a)
    vocabulary = [f"#k{i}" for i in range(int(keys.max()) + 1)]
    counter = WindowedCounter(CounterConfig(capacity=capacity, families=(KeyFamily.HASHTAG,)))
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        counter.add_batch(
            np.full(len(chunk), T0 + 1),
            {KeyFamily.HASHTAG: KeyColumn(np.arange(len(chunk)), chunk, vocabulary)},
        )
        assert counter.memory_items() <= 2 * capacity
    (window,) = counter.flush()
    n = len(keys)
    bound = n / (capacity + 1)
    assert window.total_count == n
    assert window.max_error <= bound
    assert len(window) <= capacity
    true = np.bincount(keys)
    reported = {k: c for k, (c, _) in window.as_dict().items()}
    for key, count in reported.items():
        truth = int(true[int(key[2:])])
        assert truth - window.max_error <= count <= truth
    for key in np.flatnonzero(true > window.max_error):
        assert f"#k{key}" in reported  # every key above the error is kept
    top = window.top(3)
    assert [r.key for r in top][:1] == [f"#k{int(np.argmax(true))}"]


def test_exact_while_under_capacity() -> None:
    keys = zipf_stream(3, 5000, 1.3) % 500
    counter = WindowedCounter(CounterConfig(capacity=500, families=(KeyFamily.HASHTAG,)))
    vocab = pa.array([f"#k{i}" for i in range(500)])
    counter.add_batch(
        np.full(len(keys), T0), {KeyFamily.HASHTAG: KeyColumn(np.arange(len(keys)), keys, vocab)}
    )
    (window,) = counter.flush()
    assert window.max_error == 0
    true = np.bincount(keys, minlength=500)
    assert {k: c for k, (c, _) in window.as_dict().items()} == {
        f"#k{i}": int(c) for i, c in enumerate(true) if c
    }


def test_memory_stays_bounded_with_a_million_distinct_keys() -> None:
    capacity = 10_000
    counter = WindowedCounter(CounterConfig(capacity=capacity, families=(KeyFamily.HASHTAG,)))
    distinct = 1_000_000
    vocabulary = pa.array([f"#k{i}" for i in range(distinct)])
    sizes = []
    step = 200_000
    for start in range(0, distinct, step):
        codes = np.arange(start, start + step, dtype=np.int64)
        # Every event also carries the same trending tag, so a true heavy hitter exists.
        rows = np.concatenate((np.arange(step), np.arange(step)))
        codes = np.concatenate((codes, np.zeros(step, dtype=np.int64)))
        times = np.full(step, T0 + (start // step) * 0.001)
        counter.add_batch(times, {KeyFamily.HASHTAG: KeyColumn(rows, codes, vocabulary)})
        assert counter.memory_items() <= 2 * capacity
        sizes.append(counter.nbytes())
    assert max(sizes) < 2 * capacity * 64  # bytes: no growth with distinct keys
    (window,) = counter.flush()
    assert window.top(1)[0].key == "#k0"
    assert window.top(1)[0].count >= distinct - window.max_error
    assert window.max_error <= window.total_count / (capacity + 1)


def test_harm_by_region_is_exact_whatever_the_capacity() -> None:
    counter = WindowedCounter(CounterConfig(capacity=1, families=(KeyFamily.HARM_REGION,)))
    for i, region in enumerate(["DE"] * 3 + ["FR"] * 2 + ["US"]):
        counter.add(sig(T0 + i, region=region))
    (window,) = counter.flush()
    assert window.max_error == 0
    assert window.as_dict() == {
        "hate_speech|DE": (3, 3.0),
        "hate_speech|FR": (2, 2.0),
        "hate_speech|US": (1, 1.0),
    }


def test_batch_report_and_late_within_one_batch() -> None:
    counter = WindowedCounter(CounterConfig(allowed_lateness_seconds=60))
    times = np.array([T0, T0 + 5 * MIN, T0 + 10, T0 + 5 * MIN + 1])
    vocab = ["#a"]
    report = counter.add_batch(
        times, {KeyFamily.HASHTAG: KeyColumn(np.arange(4), np.zeros(4, np.int64), vocab)}
    )
    # The third event arrives after the watermark moved to T0 + 4 min: late.
    assert (report.accepted, report.late) == (3, 1)
    assert counter.late_events == 1


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="capacity"):
        CounterConfig(capacity=0)
    with pytest.raises(ValueError, match="window"):
        CounterConfig(window_seconds=0)

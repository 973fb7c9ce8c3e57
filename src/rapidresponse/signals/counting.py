"""Event-time windowed counts per key, with watermarks, bounded lateness and bounded memory.

Pure: events in (one ``Signal`` at a time, or columns), closed windows out; no clock, no I/O.

**Windows.** Tumbling windows of ``window_seconds`` (default 60) aligned to the epoch; an event
at time ``t`` belongs to ``[floor(t / w) * w, + w)``. Counted per *key family*:
harm type x region, harm type x language, hashtag, sound, media cluster, and optionally
keyword. Each (window, family, key) gets a count of events and the sum of their weights.

**Watermark.** ``watermark = max(event time seen) - allowed_lateness`` (default 10 minutes),
never decreasing; ``advance()`` can push it further (an idle source, the end of a file). A
window is *closed* once its end is at or behind the watermark: ``close_ready()`` emits it
(once) as ``ClosedWindow`` rows and forgets it. An event whose window is already closed when
it arrives is *late*: it is not counted, but ``late_events``/``late_weight`` record it, so
nothing is dropped silently. Vectorised batches follow exactly the per-event rule (each event
is judged against the watermark as it stood just before it, within the batch too).

**Bounded memory.** Hashtags, sounds and media clusters appear from nowhere, so each open
window keeps at most ``capacity`` keys per family as a Misra-Gries summary, merged in batches
(the mergeable-summaries form of Agarwal et al., 2012): when more than ``capacity`` keys are
held, the (capacity+1)-th largest count is subtracted from every key and keys at zero or below
are dropped. Guarantee, per window and family, with N events counted: every reported count
is a lower bound and ``true - max_error <= count <= true`` with
``max_error <= N / (capacity + 1)``; any key not reported has a true count <= ``max_error``.
While a window never overflows, ``max_error`` is 0 and counts and weight sums are exact. After
an overflow weight sums are scaled down with their counts (approximate). Harm type x region is
small by construction (10 x 249) and always exact. Between calls each (window, family) holds
at most ``2 * capacity`` entries (summary plus not-yet-merged partial counts), and at most
``allowed_lateness / window + 2`` windows are open, so memory does not grow with the number of
distinct keys.

**Input is deduplicated.** The counter counts what it is given: the ingestion service drops
redelivered events (same ``Signal.dedup_key``) before counting, and the decoders drop
duplicate keys within one event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]  # pyarrow ships no stubs

from rapidresponse.signals.schema import Signal

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_MICROS = 1_000_000
_NEVER = -(2**62)


class KeyFamily(StrEnum):
    HARM_REGION = "harm_region"
    HARM_LANGUAGE = "harm_language"
    HASHTAG = "hashtag"
    SOUND = "sound"
    MEDIA_CLUSTER = "media_cluster"
    KEYWORD = "keyword"


DEFAULT_FAMILIES = (
    KeyFamily.HARM_REGION,
    KeyFamily.HARM_LANGUAGE,
    KeyFamily.HASHTAG,
    KeyFamily.SOUND,
    KeyFamily.MEDIA_CLUSTER,
)
# Small by construction (harm types x ISO 3166-1 codes): counted exactly, never pruned.
EXACT_FAMILIES = frozenset({KeyFamily.HARM_REGION})
KEY_SEPARATOR = "|"


@dataclass(frozen=True)
class CounterConfig:
    window_seconds: int = 60
    allowed_lateness_seconds: int = 600
    capacity: int = 20_000  # keys per open window per sketched family
    families: tuple[KeyFamily, ...] = DEFAULT_FAMILIES

    def __post_init__(self) -> None:
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        if self.allowed_lateness_seconds < 0:
            raise ValueError("allowed_lateness_seconds must be >= 0")
        if self.capacity < 1:
            raise ValueError("capacity must be >= 1")


@dataclass(frozen=True)
class KeyColumn:
    """One family's keys for a batch of events: occurrence ``i`` belongs to event ``rows[i]``
    and its key is ``vocabulary[codes[i]]`` (a sequence of str or an Arrow string array)."""

    rows: IntArray
    codes: IntArray
    vocabulary: Sequence[str] | pa.Array


@dataclass(frozen=True)
class WindowCount:
    window_start: float
    family: KeyFamily
    key: str
    count: int
    weight_sum: float


@dataclass(frozen=True)
class ClosedWindow:
    """Counts of one family in one closed window, columnar (keys in no particular order;
    ``top(n)`` sorts). ``total_count``/``total_weight`` cover every event of the family in the
    window, reported keys or not. ``max_error`` bounds each key's undercount (0: exact)."""

    window_start: float
    window_end: float
    family: KeyFamily
    key_array: Any  # Arrow string array: no Python object per key until asked for
    counts: IntArray
    weight_sums: FloatArray
    total_count: int
    total_weight: float
    max_error: int

    @property
    def keys(self) -> list[str]:
        keys: list[str] = self.key_array.to_pylist()
        return keys

    def __len__(self) -> int:
        return len(self.counts)

    def top(self, n: int) -> list[WindowCount]:
        """The ``n`` keys with the largest counts, largest first (ties by key)."""
        if n <= 0 or not len(self.counts):
            return []
        if n < len(self.counts):
            chosen = np.argpartition(-self.counts, n - 1)[:n]
        else:
            chosen = np.arange(len(self.counts))
        keys = self.key_array.take(pa.array(chosen)).to_pylist()
        rows = [
            WindowCount(self.window_start, self.family, key, int(c), float(w))
            for key, c, w in zip(
                keys, self.counts[chosen].tolist(), self.weight_sums[chosen].tolist(), strict=True
            )
        ]
        rows.sort(key=lambda r: (-r.count, r.key))
        return rows

    def rows(self) -> Iterator[WindowCount]:
        for key, count, weight in zip(
            self.keys, self.counts.tolist(), self.weight_sums.tolist(), strict=True
        ):
            yield WindowCount(self.window_start, self.family, key, count, weight)

    def as_dict(self) -> dict[str, tuple[int, float]]:
        return dict(
            zip(
                self.keys,
                zip(self.counts.tolist(), self.weight_sums.tolist(), strict=True),
                strict=True,
            )
        )


@dataclass(frozen=True)
class BatchReport:
    accepted: int
    late: int


_EMPTY_KEYS = pa.array([], pa.string())


@dataclass
class _Summary:
    """Misra-Gries summary of one (window, family), plus partial counts not yet merged."""

    keys: Any = field(default_factory=lambda: _EMPTY_KEYS)
    counts: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    pending: list[tuple[Any, IntArray, FloatArray]] = field(default_factory=list)
    pending_rows: int = 0
    scalar: dict[str, list[float]] = field(default_factory=dict)
    error: int = 0
    total_count: int = 0
    total_weight: float = 0.0

    def items(self) -> int:
        return len(self.counts) + self.pending_rows + len(self.scalar)

    def nbytes(self) -> int:
        size = int(self.keys.nbytes) + self.counts.nbytes + self.weights.nbytes
        for keys, counts, weights in self.pending:
            size += int(keys.nbytes) + counts.nbytes + weights.nbytes
        # A dict slot, a str header and a two-float list per single-event key, approximately.
        size += sum(len(k) + 170 for k in self.scalar)
        return size

    def add_partial(
        self, keys: Any, counts: IntArray, weights: FloatArray, capacity: int | None
    ) -> None:
        self.pending.append((keys, counts, weights))
        self.pending_rows += len(counts)
        self.total_count += int(counts.sum())
        self.total_weight += float(weights.sum())
        if capacity is not None and self.items() > 2 * capacity:
            self.consolidate(capacity)

    def add_one(self, key: str, weight: float, capacity: int | None) -> None:
        slot = self.scalar.get(key)
        if slot is None:
            self.scalar[key] = [1.0, weight]
        else:
            slot[0] += 1.0
            slot[1] += weight
        self.total_count += 1
        self.total_weight += weight
        if capacity is not None and self.items() > 2 * capacity:
            self.consolidate(capacity)

    def consolidate(self, capacity: int | None) -> None:
        if not self.pending and not self.scalar:
            return
        key_parts = [self.keys] + [p[0] for p in self.pending]
        count_parts = [self.counts.astype(np.float64)] + [p[1] for p in self.pending]
        weight_parts = [self.weights] + [p[2] for p in self.pending]
        if self.scalar:
            key_parts.append(pa.array(list(self.scalar), pa.string()))
            values = np.array(list(self.scalar.values()), dtype=np.float64).reshape(-1, 2)
            count_parts.append(values[:, 0])
            weight_parts.append(values[:, 1])
        encoded = pc.dictionary_encode(pa.concat_arrays(key_parts))
        index = encoded.indices.to_numpy(zero_copy_only=False)
        size = len(encoded.dictionary)
        counts = _float(np.bincount(index, np.concatenate(count_parts), minlength=size))
        weights = _float(np.bincount(index, np.concatenate(weight_parts), minlength=size))
        keys = encoded.dictionary
        if capacity is not None and size > capacity:
            # Misra-Gries merge: subtract the (capacity+1)-th largest count from all.
            cut = float(np.partition(counts, size - capacity - 1)[size - capacity - 1])
            reduced = counts - cut
            keep = reduced > 0
            weights = weights[keep] * (reduced[keep] / counts[keep])
            counts = reduced[keep]
            keys = keys.filter(pa.array(keep))
            self.error += round(cut)
        self.keys = keys
        self.counts = np.rint(counts).astype(np.int64)
        self.weights = weights
        self.pending = []
        self.pending_rows = 0
        self.scalar = {}


@dataclass
class _FamilyInput:
    rows: IntArray | None  # None: occurrence i is event i
    codes: IntArray
    size: int
    lookup: Callable[[IntArray], Any]  # codes -> Arrow string array of keys


class WindowedCounter:
    """Tumbling event-time windows of counts per key family (see the module docstring)."""

    def __init__(self, config: CounterConfig | None = None) -> None:
        self.config = config or CounterConfig()
        self._window_us = self.config.window_seconds * _MICROS
        self._lateness_us = self.config.allowed_lateness_seconds * _MICROS
        self._max_us = _NEVER
        self._floor_us = _NEVER
        self._windows: dict[int, dict[KeyFamily, _Summary]] = {}
        self.late_events = 0
        self.late_weight = 0.0
        self.counted_events = 0

    # -- state ---------------------------------------------------------------------------

    def _watermark_us(self) -> int:
        return max(self._max_us - self._lateness_us, self._floor_us)

    @property
    def watermark(self) -> float:
        """Epoch seconds; -inf before the first event."""
        us = self._watermark_us()
        return -math.inf if us <= _NEVER // 2 else us / _MICROS

    @property
    def open_windows(self) -> list[float]:
        return sorted(w * self._window_us / _MICROS for w in self._windows)

    def memory_items(self) -> int:
        """Keys held across open windows and families (summaries plus unmerged partials)."""
        return sum(s.items() for fams in self._windows.values() for s in fams.values())

    def nbytes(self) -> int:
        return sum(s.nbytes() for fams in self._windows.values() for s in fams.values())

    def _capacity(self, family: KeyFamily) -> int | None:
        return None if family in EXACT_FAMILIES else self.config.capacity

    def _summary(self, window: int, family: KeyFamily) -> _Summary:
        families = self._windows.get(window)
        if families is None:
            families = self._windows[window] = {}
        summary = families.get(family)
        if summary is None:
            summary = families[family] = _Summary()
        return summary

    # -- one event -----------------------------------------------------------------------

    def add(self, signal: Signal) -> bool:
        """Count one event; False (and counted as late) when its window has closed."""
        t_us = round(signal.event_time * _MICROS)
        window = t_us // self._window_us
        if (window + 1) * self._window_us <= self._watermark_us():
            self.late_events += 1
            self.late_weight += signal.weight
            return False
        self._max_us = max(self._max_us, t_us)
        self.counted_events += 1
        weight = signal.weight
        for family in self.config.families:
            capacity = self._capacity(family)
            for key in _signal_keys(signal, family):
                self._summary(window, family).add_one(key, weight, capacity)
        return True

    # -- columns -------------------------------------------------------------------------

    def add_batch(
        self,
        times: FloatArray,
        keys: Mapping[KeyFamily, KeyColumn],
        weights: FloatArray | None = None,
    ) -> BatchReport:
        """Count a batch of events given as columns: event times (epoch seconds), the keys of
        each family (families missing from ``keys`` get none) and optional weights."""
        times_us = np.rint(np.asarray(times, dtype=np.float64) * _MICROS).astype(np.int64)
        inputs = {
            family: _FamilyInput(
                np.asarray(column.rows, dtype=np.int64),
                np.asarray(column.codes, dtype=np.int64),
                len(column.vocabulary),
                _lookup(column.vocabulary),
            )
            for family, column in keys.items()
            if family in self.config.families
        }
        return self._add_columns(times_us, inputs, weights)

    def add_signal_batch(self, batch: pa.RecordBatch) -> BatchReport:
        """Count a signal batch (``schema.SIGNAL_COLUMNS``, as the decoders return it)."""
        n = batch.num_rows
        if n == 0:
            return BatchReport(0, 0)
        times_us = batch.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False)
        weights = batch.column("weight").to_numpy(zero_copy_only=False)
        inputs: dict[KeyFamily, _FamilyInput] = {}
        families = self.config.families
        harm = _dictionary(batch.column("harm_type"))
        if KeyFamily.HARM_REGION in families:
            inputs[KeyFamily.HARM_REGION] = _pair_input(harm, _dictionary(batch.column("region")))
        if KeyFamily.HARM_LANGUAGE in families:
            inputs[KeyFamily.HARM_LANGUAGE] = _pair_input(
                harm, _dictionary(batch.column("language"))
            )
        for family, name in (
            (KeyFamily.HASHTAG, "hashtags"),
            (KeyFamily.SOUND, "sounds"),
            (KeyFamily.KEYWORD, "keywords"),
        ):
            if family in families:
                inputs[family] = _list_input(batch.column(name))
        if KeyFamily.MEDIA_CLUSTER in families:
            inputs[KeyFamily.MEDIA_CLUSTER] = _single_input(
                _dictionary(batch.column("media_cluster"))
            )
        return self._add_columns(times_us, inputs, weights)

    def _add_columns(
        self,
        times_us: IntArray,
        inputs: Mapping[KeyFamily, _FamilyInput],
        weights: FloatArray | None,
    ) -> BatchReport:
        n = len(times_us)
        if n == 0:
            return BatchReport(0, 0)
        window_us = self._window_us
        windows = times_us // window_us
        # The watermark each event meets: the max time seen before it, less the lateness.
        seen = np.maximum.accumulate(times_us)
        before = np.empty(n, dtype=np.int64)
        before[0] = self._max_us
        np.maximum(seen[:-1], self._max_us, out=before[1:])
        watermark = np.maximum(before - self._lateness_us, self._floor_us)
        late = (windows + 1) * window_us <= watermark
        late_count = int(late.sum())
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
        if late_count:
            self.late_events += late_count
            self.late_weight += float(weights[late].sum()) if weights is not None else late_count
        self._max_us = max(self._max_us, int(seen[-1]))
        self.counted_events += n - late_count
        unit = weights is None or bool((weights == 1.0).all())
        for family, column in inputs.items():
            self._add_family(family, column, windows, late if late_count else None, weights, unit)
        return BatchReport(n - late_count, late_count)

    def _add_family(
        self,
        family: KeyFamily,
        column: _FamilyInput,
        windows: IntArray,
        late: npt.NDArray[np.bool_] | None,
        weights: FloatArray | None,
        unit: bool,
    ) -> None:
        codes = column.codes
        rows = column.rows
        if rows is None:
            keep = codes >= 0
            if late is not None:
                keep &= ~late
            if not keep.all():
                rows = np.flatnonzero(keep)
                codes = codes[rows]
                occ_windows = windows[rows]
            else:
                occ_windows = windows
        else:
            if late is not None or (codes < 0).any():
                keep = codes >= 0
                if late is not None:
                    keep &= ~late[rows]
                rows = rows[keep]
                codes = codes[keep]
            occ_windows = windows[rows]
        if not len(codes):
            return
        occ_weights = None
        if not unit and weights is not None:
            occ_weights = weights if rows is None else weights[rows]
        size = max(column.size, 1)
        low = int(occ_windows.min())
        span = (int(occ_windows.max()) - low + 1) * size
        composite = (occ_windows - low) * size + codes
        sums: FloatArray
        if span <= 4 * len(codes) + 65_536:
            counts_all = np.bincount(composite, minlength=span)
            groups = np.flatnonzero(counts_all)
            counts = counts_all[groups]
            if occ_weights is None:
                sums = counts.astype(np.float64)
            else:
                sums = _float(np.bincount(composite, occ_weights, minlength=span))[groups]
        else:
            groups, inverse = np.unique(composite, return_inverse=True)
            counts = np.bincount(inverse)
            sums = (
                counts.astype(np.float64)
                if occ_weights is None
                else _float(np.bincount(inverse, occ_weights))
            )
        group_windows = groups // size + low
        group_codes = groups % size
        cuts = np.flatnonzero(np.diff(group_windows)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(groups)]))
        capacity = self._capacity(family)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            window = int(group_windows[start])
            keys = column.lookup(group_codes[start:end])
            self._summary(window, family).add_partial(
                keys, counts[start:end], sums[start:end], capacity
            )

    # -- closing ---------------------------------------------------------------------------

    def advance(self, watermark: float) -> None:
        """Raise the watermark to ``watermark`` (epoch seconds); never lowers it."""
        self._floor_us = max(self._floor_us, math.floor(watermark * _MICROS))

    def close_ready(self) -> list[ClosedWindow]:
        """Emit (once) and forget every window whose end is at or behind the watermark."""
        limit = self._watermark_us()
        ready = sorted(w for w in self._windows if (w + 1) * self._window_us <= limit)
        return [closed for w in ready for closed in self._emit(w)]

    def close_until(self, t: float) -> list[ClosedWindow]:
        """``advance(t)`` then ``close_ready()``."""
        self.advance(t)
        return self.close_ready()

    def flush(self) -> list[ClosedWindow]:
        """Close every open window (end of a bounded input); later events for them are late."""
        if self._windows:
            self._floor_us = max(self._floor_us, (max(self._windows) + 1) * self._window_us)
        return self.close_ready()

    def _emit(self, window: int) -> list[ClosedWindow]:
        families = self._windows.pop(window)
        start = window * self._window_us / _MICROS
        end = start + self.config.window_seconds
        out = []
        for family in self.config.families:
            summary = families.get(family)
            if summary is None:
                continue
            summary.consolidate(self._capacity(family))
            out.append(
                ClosedWindow(
                    window_start=start,
                    window_end=end,
                    family=family,
                    key_array=summary.keys,
                    counts=summary.counts,
                    weight_sums=summary.weights,
                    total_count=summary.total_count,
                    total_weight=summary.total_weight,
                    max_error=summary.error,
                )
            )
        return out


def _float(values: npt.NDArray[Any]) -> FloatArray:
    # np.bincount with weights returns float64; its stubs say intp.
    return np.asarray(values, dtype=np.float64)


# --- key extraction -------------------------------------------------------------------------


def family_key(*parts: str) -> str:
    """The key of a composite family, e.g. ``hate_speech|DE``."""
    return KEY_SEPARATOR.join(parts)


def _signal_keys(signal: Signal, family: KeyFamily) -> Sequence[str]:
    if family is KeyFamily.HARM_REGION:
        return (f"{signal.harm_type}{KEY_SEPARATOR}{signal.region}",)
    if family is KeyFamily.HARM_LANGUAGE:
        if signal.language is None:
            return ()
        return (f"{signal.harm_type}{KEY_SEPARATOR}{signal.language}",)
    if family is KeyFamily.HASHTAG:
        return signal.hashtags
    if family is KeyFamily.SOUND:
        return signal.sounds
    if family is KeyFamily.KEYWORD:
        return signal.keywords
    return () if signal.media_cluster is None else (signal.media_cluster,)


def _lookup(vocabulary: Sequence[str] | pa.Array) -> Callable[[IntArray], Any]:
    if isinstance(vocabulary, pa.Array):
        strings = vocabulary.cast(pa.string())
        return lambda codes: strings.take(pa.array(codes))
    return lambda codes: pa.array([vocabulary[i] for i in codes.tolist()], pa.string())


def _dictionary(column: Any) -> Any:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    return column


def _codes(column: Any) -> IntArray:
    """Dictionary indices as int64, -1 for null."""
    indices = column.indices
    codes: IntArray = indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes


def _pair_input(left: Any, right: Any) -> _FamilyInput:
    left_codes = _codes(left)
    right_codes = _codes(right)
    width = max(len(right.dictionary), 1)
    codes = np.where(
        (left_codes >= 0) & (right_codes >= 0), left_codes * width + right_codes, -1
    ).astype(np.int64)
    left_values: list[str] = left.dictionary.to_pylist()
    right_values: list[str] = right.dictionary.to_pylist()

    def lookup(pairs: IntArray) -> Any:
        return pa.array(
            [
                f"{left_values[c // width]}{KEY_SEPARATOR}{right_values[c % width]}"
                for c in pairs.tolist()
            ],
            pa.string(),
        )

    return _FamilyInput(None, codes, len(left.dictionary) * width, lookup)


def _single_input(column: Any) -> _FamilyInput:
    dictionary = column.dictionary.cast(pa.string())
    return _FamilyInput(
        None, _codes(column), len(dictionary), lambda c: dictionary.take(pa.array(c))
    )


def _list_input(column: Any) -> _FamilyInput:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    flat = _dictionary(pc.list_flatten(column))
    rows = pc.list_parent_indices(column).to_numpy(zero_copy_only=False).astype(np.int64)
    dictionary = flat.dictionary.cast(pa.string())
    return _FamilyInput(rows, _codes(flat), len(dictionary), lambda c: dictionary.take(pa.array(c)))

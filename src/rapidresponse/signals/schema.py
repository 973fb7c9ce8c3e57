"""The signal event schema and its decoders (NDJSON, CSV rows, Parquet), pure and fast.

A signal is one piece of evidence that harm may be spreading: a user report, a classifier flag,
a hash match, a trusted flagger's notice, a law-enforcement request, a partner alert (GIFCT and
the like) or a press inquiry. On the wire it is a CloudEvents 1.0 event in structured JSON mode
(``docs/signals.md`` has the full format, a worked example, the limits and the CSV and Parquet
column layouts); ``json_schema()`` returns its JSON Schema.

Decoding happens in two stages so that every input format shares one set of rules:

1. *Structure.* NDJSON lines are decoded by msgspec into typed structs: field presence, JSON
   types, enums (``type``, ``harm_type``, ``surface``), length limits and ``weight > 0`` are
   checked in C. CSV rows and Parquet record batches are already flat columns.
2. *Vocabulary.* Values that come from a small set or need normalising (region, language,
   source, hashtags, sounds, keywords, media cluster) are checked once per *distinct* value of a
   batch, on the Arrow dictionary of the column, with cached answers; per-row work is numpy
   indexing. This is what keeps ``normalise_region``/``normalise_language`` (pycountry and
   langcodes, microseconds per call) off the per-event path.

The product of both stages is a *signal batch*: an Arrow record batch with the flattened
columns of ``SIGNAL_COLUMNS`` (categorical columns dictionary-encoded, keys normalised and
unique per event) that the windowed counter consumes without building a Python object per
event. ``decode_ndjson`` and ``decode_records`` also return ``Signal`` objects for callers that
want them. A malformed line or row becomes a ``Reject`` (line or row number, reason, raw text)
and never stops the rest of the input.

Decoding does not deduplicate: ``Signal.dedup_key`` (source and id) is what the ingestion
service uses to drop redelivered events before counting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]  # pyarrow ships no stubs
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import Surface, normalise_language, normalise_region

# --- limits ---------------------------------------------------------------------------------

MAX_LINE_BYTES = 64 * 1024
MAX_ID_CHARS = 256
MAX_SOURCE_CHARS = 512
MAX_LANGUAGE_CHARS = 35
MAX_KEYS_PER_LIST = 32
MAX_KEY_CHARS = 100
# Raw key strings may carry whitespace and a '#' that normalisation removes; this bounds the
# raw text, MAX_KEY_CHARS the normalised key.
MAX_RAW_KEY_CHARS = 256
MAX_WEIGHT = 1_000_000.0
# Event times outside this range are clock bugs, not signals; one such event would drag the
# watermark (max event time seen) years ahead and make every later event late.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
LATEST_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC).timestamp()

TYPE_PREFIX = "com.rapidresponse.signal."
CSV_LIST_SEPARATOR = ";"


class SignalKind(StrEnum):
    USER_REPORT = "user_report"
    CLASSIFIER_FLAG = "classifier_flag"
    HASH_MATCH = "hash_match"
    TRUSTED_FLAGGER = "trusted_flagger"
    LAW_ENFORCEMENT_REQUEST = "law_enforcement_request"
    PARTNER_ALERT = "partner_alert"
    PRESS_INQUIRY = "press_inquiry"


# msgspec checks a Literal in C; a test keeps this list equal to SignalKind.
SignalType = Literal[
    "com.rapidresponse.signal.user_report",
    "com.rapidresponse.signal.classifier_flag",
    "com.rapidresponse.signal.hash_match",
    "com.rapidresponse.signal.trusted_flagger",
    "com.rapidresponse.signal.law_enforcement_request",
    "com.rapidresponse.signal.partner_alert",
    "com.rapidresponse.signal.press_inquiry",
]

# --- the decoded event --------------------------------------------------------------------


class Signal(msgspec.Struct, frozen=True, gc=False):
    """One decoded, validated, normalised signal event (the CloudEvent flattened).

    ``event_time`` is epoch seconds (UTC). Keys are normalised and unique within the event:
    hashtags case-folded with one leading '#', keywords case-folded with single spaces, sounds
    and media clusters stripped (identifiers keep their case).
    """

    id: str
    source: str
    kind: SignalKind
    event_time: float
    harm_type: HarmType
    region: str
    content_id: str
    language: str | None = None
    surface: Surface | None = None
    account_id: str | None = None
    hashtags: tuple[str, ...] = ()
    sounds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    media_cluster: str | None = None
    weight: float = 1.0

    @property
    def dedup_key(self) -> str:
        """Idempotency key: CloudEvents ``id`` is unique per ``source``. A source never holds
        whitespace, so the space makes the pair unambiguous."""
        return f"{self.source} {self.id}"


class Reject(msgspec.Struct, frozen=True):
    """A line (NDJSON, CSV) or row (Parquet) that was not accepted, and why. Numbers are
    1-based; ``raw`` is the offending text (truncated to 1,000 characters)."""

    line: int
    reason: str
    raw: str


# --- wire format (msgspec types: the single source of the JSON Schema too) ------------------

_IdText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]
_RawKey = Annotated[str, msgspec.Meta(max_length=MAX_RAW_KEY_CHARS)]
_KeyList = Annotated[tuple[_RawKey, ...], msgspec.Meta(max_length=MAX_KEYS_PER_LIST)]


class WireKeys(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=False):
    """Keys the counter groups by. Lists hold at most 32 entries; duplicates (after
    normalisation) are dropped."""

    hashtags: Annotated[
        _KeyList,
        msgspec.Meta(description="Hashtags; case-folded and given one leading '#'."),
    ] = ()
    sounds: Annotated[_KeyList, msgspec.Meta(description="Sound (audio track) ids.")] = ()
    keywords: Annotated[
        _KeyList, msgspec.Meta(description="Keywords or phrases; case-folded.")
    ] = ()
    media_cluster: (
        Annotated[
            _RawKey,
            msgspec.Meta(description="Near-duplicate media cluster id (from hash matching)."),
        ]
        | None
    ) = None


class WireData(msgspec.Struct, frozen=True, gc=False):
    """The CloudEvents ``data`` member of a signal."""

    harm_type: HarmType
    region: Annotated[
        str,
        msgspec.Meta(
            min_length=2,
            max_length=8,
            description="ISO 3166-1 alpha-2 country code, e.g. DE (case-insensitive).",
            extra_json_schema={"pattern": "^\\s*[A-Za-z]{2}\\s*$"},
        ),
    ]
    content_id: _IdText
    language: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=MAX_LANGUAGE_CHARS,
                description="BCP 47 language tag, e.g. de-AT; normalised (langcodes).",
            ),
        ]
        | None
    ) = None
    surface: Surface | None = None
    account_id: _IdText | None = None
    keys: WireKeys = WireKeys()
    weight: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=MAX_WEIGHT,
            description="How much this signal counts (e.g. a trusted flagger's 5); default 1.",
        ),
    ] = 1.0


class WireEvent(msgspec.Struct, frozen=True, gc=False):
    """A signal as a CloudEvents 1.0 structured-mode JSON event. Unknown top-level members
    (CloudEvents extension attributes) are ignored."""

    specversion: Literal["1.0"]
    id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_ID_CHARS,
            description="Unique per source; redelivery with the same id is ignored.",
        ),
    ]
    source: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_SOURCE_CHARS,
            description="URI-reference of the producer, e.g. //classifiers/violence-v7.",
            extra_json_schema={"pattern": "^\\S+$"},
        ),
    ]
    type: SignalType
    time: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=64,
            description="RFC 3339 event time (when it happened), with a zone offset.",
            extra_json_schema={"format": "date-time"},
        ),
    ]
    data: WireData
    datacontenttype: Literal["application/json"] = "application/json"


_EVENT_DECODER = msgspec.json.Decoder(WireEvent)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one signal event, for the docs and the API."""
    schema: dict[str, Any] = msgspec.json.schema(WireEvent)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Rapid Response signal event (CloudEvents 1.0)"
    return schema


# --- the signal batch (flattened columns) -------------------------------------------------

_DICT = pa.dictionary(pa.int32(), pa.string())

SIGNAL_COLUMNS: pa.Schema = pa.schema(
    [
        ("id", pa.string()),
        ("source", _DICT),
        ("kind", _DICT),
        ("time", pa.timestamp("us", tz="UTC")),
        ("harm_type", _DICT),
        ("region", _DICT),
        ("language", _DICT),
        ("surface", _DICT),
        ("content_id", pa.string()),
        ("account_id", pa.string()),
        ("hashtags", pa.list_(_DICT)),
        ("sounds", pa.list_(_DICT)),
        ("keywords", pa.list_(_DICT)),
        ("media_cluster", _DICT),
        ("weight", pa.float64()),
    ]
)
REQUIRED_COLUMNS = ("id", "source", "kind", "time", "harm_type", "region", "content_id")
COUNTING_REQUIRED = ("time", "harm_type", "region")
# What the windowed counter reads (add "keywords" when that family is counted).
COUNTING_COLUMNS = (
    "time",
    "harm_type",
    "region",
    "language",
    "hashtags",
    "sounds",
    "keywords",
    "media_cluster",
    "weight",
)
LIST_COLUMNS = ("hashtags", "sounds", "keywords")
# Columns whose Parquet pages are read straight into Arrow dictionaries (no re-hashing).
CATEGORICAL_COLUMNS = (
    "source",
    "kind",
    "harm_type",
    "region",
    "language",
    "surface",
    "media_cluster",
    *LIST_COLUMNS,
)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


# --- value rules (one definition; the vectorised paths only skip values already normal) -------


def _printable(value: str) -> bool:
    return value.isprintable()


def normalise_hashtag(raw: str) -> str:
    """'#Challenge ' -> '#challenge'. One leading '#', case-folded, no whitespace or '#'."""
    text = raw.strip()
    if text.startswith("#"):
        text = text[1:]
    text = text.casefold()
    if not text:
        raise ValueError("empty hashtag")
    if len(text) > MAX_KEY_CHARS:
        raise ValueError(f"hashtag longer than {MAX_KEY_CHARS} characters")
    if "#" in text or any(c.isspace() for c in text) or not _printable(text):
        raise ValueError(f"hashtag {raw!r} holds whitespace, '#' or control characters")
    return "#" + text


def normalise_keyword(raw: str) -> str:
    """Keywords and phrases: case-folded, runs of whitespace collapsed to one space."""
    text = " ".join(raw.casefold().split())
    if not text:
        raise ValueError("empty keyword")
    if len(text) > MAX_KEY_CHARS:
        raise ValueError(f"keyword longer than {MAX_KEY_CHARS} characters")
    if not _printable(text):
        raise ValueError(f"keyword {raw!r} holds control characters")
    return text


def normalise_identifier(raw: str) -> str:
    """Sound ids and media cluster ids: surrounding whitespace stripped, case kept."""
    text = raw.strip()
    if not text:
        raise ValueError("empty identifier")
    if len(text) > MAX_KEY_CHARS:
        raise ValueError(f"identifier longer than {MAX_KEY_CHARS} characters")
    if not _printable(text):
        raise ValueError(f"identifier {raw!r} holds control characters")
    return text


def _check_source(raw: str) -> str:
    if not raw or len(raw) > MAX_SOURCE_CHARS:
        raise ValueError(f"source must be 1-{MAX_SOURCE_CHARS} characters")
    if any(c.isspace() for c in raw) or not raw.isprintable():
        raise ValueError(f"source {raw!r} is not a URI-reference (whitespace or control chars)")
    return raw


def _check_member(values: frozenset[str], what: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw not in values:
            raise ValueError(f"unknown {what} {raw!r}")
        return raw

    return check


def _kind_from_type(raw: str) -> str:
    kind = raw.removeprefix(TYPE_PREFIX)
    if kind == raw or kind not in _KINDS:
        raise ValueError(f"unknown signal type {raw!r}")
    return kind


def _check_kind(raw: str) -> str:
    # CSV and Parquet carry the bare kind; accept the CloudEvents type too.
    if raw.startswith(TYPE_PREFIX):
        return _kind_from_type(raw)
    if raw not in _KINDS:
        raise ValueError(f"unknown signal kind {raw!r}")
    return raw


_KINDS = frozenset(SignalKind)
_HARM_TYPES = frozenset(HarmType)
_SURFACES = frozenset(Surface)


def _region(raw: str) -> str:
    return normalise_region(raw)


def _language(raw: str) -> str:
    return normalise_language(raw)


# Already-normal ASCII values match these (RE2, vectorised) and skip the Python rule.
_FAST_PATTERNS: dict[str, str] = {
    "hashtag": '^#[!"$-@\\[-~]{1,100}$',
    "keyword": "^[!-@\\[-~]+( [!-@\\[-~]+)*$",
    "identifier": "^[!-~]([ -~]*[!-~])?$",
    "region": "^[A-Z][A-Z]$",
}


class _Rule:
    """A value rule applied per distinct value, with a bounded cache of answers."""

    def __init__(
        self,
        name: str,
        check: Callable[[str], str],
        fast_pattern: str | None = None,
        max_chars: int | None = None,
        cache_size: int = 50_000,
    ) -> None:
        self.name = name
        self.check = check
        self.fast_pattern = fast_pattern
        self.max_chars = max_chars
        self.cache_size = cache_size
        self._cache: dict[str, str | ValueError] = {}

    def apply(self, value: str) -> str | ValueError:
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        try:
            result: str | ValueError = self.check(value)
        except ValueError as exc:
            result = exc
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[value] = result
        return result


_RULES: dict[str, _Rule] = {
    "source": _Rule("source", _check_source, "^[!-~]{1,512}$"),
    "kind": _Rule("kind", _check_kind),
    "harm_type": _Rule("harm_type", _check_member(_HARM_TYPES, "harm type")),
    "region": _Rule("region", _region, _FAST_PATTERNS["region"]),
    "language": _Rule("language", _language),
    "surface": _Rule("surface", _check_member(_SURFACES, "surface")),
    "hashtags": _Rule("hashtag", normalise_hashtag, _FAST_PATTERNS["hashtag"]),
    "sounds": _Rule("sound", normalise_identifier, _FAST_PATTERNS["identifier"], MAX_KEY_CHARS),
    "keywords": _Rule("keyword", normalise_keyword, _FAST_PATTERNS["keyword"], MAX_KEY_CHARS),
    "media_cluster": _Rule(
        "media cluster", normalise_identifier, _FAST_PATTERNS["identifier"], MAX_KEY_CHARS
    ),
}
# Region codes that pass the fast pattern still have to be real countries.
_REGION_CODES: frozenset[str] = frozenset()


def _region_codes() -> frozenset[str]:
    global _REGION_CODES
    if not _REGION_CODES:
        import pycountry

        _REGION_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
    return _REGION_CODES


def _normalise_dictionary(
    column: Any, rule: _Rule
) -> tuple[Any, BoolArray, dict[int, str], list[str]]:
    """Apply ``rule`` to a string or dictionary column once per distinct value.

    Returns the column as a dictionary array whose dictionary is normalised and unique, a mask
    of elements whose value is invalid, their messages by element index, and the dictionary.
    """
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    dictionary = column.dictionary
    if not pa.types.is_string(dictionary.type):
        dictionary = dictionary.cast(pa.string())
    size = len(dictionary)
    normal = np.zeros(size, dtype=np.bool_)
    if rule.fast_pattern is not None and size:
        fast = pc.match_substring_regex(dictionary, rule.fast_pattern)
        if rule.max_chars is not None:
            fast = pc.and_(fast, pc.less_equal(pc.utf8_length(dictionary), rule.max_chars))
        normal = fast.fill_null(False).to_numpy(zero_copy_only=False)
        if rule.name == "region":
            codes = _region_codes()
            values = dictionary.to_pylist()
            normal &= np.fromiter((v in codes for v in values), dtype=np.bool_, count=size)
    if normal.all():
        new_dictionary = dictionary
        remap: IntArray | None = None
        invalid_values = np.zeros(size, dtype=np.bool_)
        messages_by_value: dict[int, str] = {}
        final_values: list[str] | None = None
    else:
        raw_values: list[str] = dictionary.to_pylist()
        final_values = []
        position: dict[str, int] = {}
        remap = np.empty(size, dtype=np.int64)
        invalid_values = np.zeros(size, dtype=np.bool_)
        messages_by_value = {}
        for i, raw in enumerate(raw_values):
            result = raw if normal[i] else rule.apply(raw)
            if isinstance(result, ValueError):
                invalid_values[i] = True
                messages_by_value[i] = f"{rule.name}: {result}"
                remap[i] = 0
                continue
            at = position.get(result)
            if at is None:
                at = position[result] = len(final_values)
                final_values.append(result)
            remap[i] = at
        new_dictionary = pa.array(final_values, pa.string())
    indices = column.indices
    valid = pc.is_valid(indices).to_numpy(zero_copy_only=False)
    idx = indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    invalid = invalid_values[idx] & valid if size else np.zeros(len(column), dtype=np.bool_)
    messages = {int(i): messages_by_value[int(idx[i])] for i in np.flatnonzero(invalid)}
    if remap is not None:
        new_idx = remap[idx] if size else idx
        mask = None if valid.all() else ~valid
        column = pa.DictionaryArray.from_arrays(
            pa.array(new_idx.astype(np.int32), pa.int32(), mask=mask), new_dictionary
        )
    elif column.dictionary is not dictionary:
        column = pa.DictionaryArray.from_arrays(indices, dictionary)
    if column.indices.type != pa.int32():
        column = pa.DictionaryArray.from_arrays(column.indices.cast(pa.int32()), column.dictionary)
    return column, invalid, messages, final_values or []


class _Verdicts:
    """First reason per rejected row; per-row work only for bad rows."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=np.bool_)
        self.reasons: dict[int, str] = {}

    def add(self, mask: BoolArray, reason: str | Callable[[int], str]) -> None:
        new = mask & ~self.bad
        if not new.any():
            return
        for i in np.flatnonzero(new):
            row = int(i)
            self.reasons[row] = reason if isinstance(reason, str) else reason(row)
        self.bad |= new

    def add_messages(self, mask: BoolArray, messages: Mapping[int, str]) -> None:
        self.add(mask, lambda row: messages[row])


def _text_limits(column: Any, name: str, required: bool, verdicts: _Verdicts) -> Any:
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    null = pc.is_null(column).to_numpy(zero_copy_only=False)
    lengths = pc.utf8_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    if required:
        verdicts.add(null | (lengths == 0), f"missing {name}")
    else:
        verdicts.add(~null & (lengths == 0), f"empty {name}")
    verdicts.add(lengths > MAX_ID_CHARS, f"{name} longer than {MAX_ID_CHARS} characters")
    return column


def _list_column(column: Any, name: str, verdicts: _Verdicts) -> Any:
    """Validate and normalise a list<string> column; drop duplicate keys within an event."""
    n = len(column)
    if pa.types.is_large_list(column.type):
        column = column.cast(pa.list_(column.type.value_type))
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    verdicts.add(lengths > MAX_KEYS_PER_LIST, f"more than {MAX_KEYS_PER_LIST} {name}")
    flat = pc.list_flatten(column)
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False).astype(np.int64)
    if flat.null_count:
        null_items = pc.is_null(flat).to_numpy(zero_copy_only=False)
        verdicts.add(_rows_with(parents[null_items], n), f"{name}: null entry")
    encoded, invalid, messages, _ = _normalise_dictionary(flat, _RULES[name])
    if invalid.any():
        row_messages: dict[int, str] = {}
        for item in np.flatnonzero(invalid):
            row_messages.setdefault(int(parents[item]), messages[int(item)])
        verdicts.add_messages(_rows_with(parents[invalid], n), row_messages)
    codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = _first_occurrences(parents, codes, lengths)
    if keep is not None:
        parents = parents[keep]
        encoded = encoded.filter(pa.array(keep))
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(parents, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), encoded)


def _rows_with(rows: IntArray, n: int) -> BoolArray:
    mask = np.zeros(n, dtype=np.bool_)
    mask[rows] = True
    return mask


def _first_occurrences(parents: IntArray, codes: IntArray, lengths: IntArray) -> BoolArray | None:
    """Mask keeping the first of equal keys within each event (lists are short: compare each
    item with the ones up to max-length - 1 positions before it)."""
    longest = int(lengths.max()) if len(lengths) else 0
    if longest < 2 or not len(codes):
        return None
    duplicate = np.zeros(len(codes), dtype=np.bool_)
    for gap in range(1, min(longest, MAX_KEYS_PER_LIST)):
        same = (parents[gap:] == parents[:-gap]) & (codes[gap:] == codes[:-gap])
        duplicate[gap:] |= same
    return None if not duplicate.any() else ~duplicate


def _categorical(
    batch_columns: dict[str, Any], name: str, required: bool, verdicts: _Verdicts
) -> Any:
    column = batch_columns.get(name)
    n = len(verdicts.bad)
    if column is None:
        return pa.nulls(n, _DICT)
    if pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    encoded, invalid, messages, _ = _normalise_dictionary(column, _RULES[name])
    if required:
        verdicts.add(pc.is_null(encoded).to_numpy(zero_copy_only=False), f"missing {name}")
    verdicts.add_messages(invalid, messages)
    return encoded


def validate_batch(
    batch: Any, first_line: int = 1, not_after: float | None = None, identity: bool = True
) -> tuple[pa.RecordBatch, list[Reject]]:
    """Check and normalise a batch of flattened signal rows (``SIGNAL_COLUMNS`` names; strings
    may be plain or dictionary-encoded; ``time`` a timestamp or RFC 3339 text). Returns the
    accepted rows as a signal batch and one ``Reject`` per refused row (numbered from
    ``first_line``). ``not_after`` (epoch seconds), when given, refuses events from the future.

    ``identity=False`` is the counting projection: only ``COUNTING_COLUMNS`` are needed, and
    absent identity columns (id, source, kind, content_id, ...) come back as nulls, so the batch
    is fit for counting but not for ``signals_from_batch``.
    """
    if isinstance(batch, pa.Table):
        batch = pa.RecordBatch.from_arrays(
            [c.combine_chunks() for c in batch.columns], batch.schema.names
        )
    required = REQUIRED_COLUMNS if identity else COUNTING_REQUIRED
    missing = [c for c in required if c not in batch.schema.names]
    if missing:
        raise ValueError(f"signal columns missing: {', '.join(missing)}")
    columns = {name: batch.column(name) for name in batch.schema.names}
    n = batch.num_rows
    verdicts = _Verdicts(n)
    out: dict[str, Any] = {}
    for name in ("id", "content_id", "account_id"):
        column = columns.get(name)
        out[name] = (
            pa.nulls(n, pa.string())
            if column is None
            else _text_limits(column, name, identity and name != "account_id", verdicts)
        )
    for name in ("source", "kind"):
        out[name] = _categorical(columns, name, identity, verdicts)
    out["time"] = _time_column(columns["time"], verdicts, not_after)
    for name in ("harm_type", "region"):
        out[name] = _categorical(columns, name, True, verdicts)
    for name in ("language", "surface"):
        out[name] = _categorical(columns, name, False, verdicts)
    for name in LIST_COLUMNS:
        column = columns.get(name)
        if column is None:
            out[name] = pa.ListArray.from_arrays(
                pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], _DICT)
            )
        else:
            out[name] = _list_column(column, name, verdicts)
    out["media_cluster"] = _categorical(columns, "media_cluster", False, verdicts)
    out["weight"] = _weight_column(columns.get("weight"), n, verdicts)
    result = pa.RecordBatch.from_arrays([out[f.name] for f in SIGNAL_COLUMNS], SIGNAL_COLUMNS.names)
    rejects: list[Reject] = []
    if verdicts.reasons:
        bad_rows = sorted(verdicts.reasons)
        raw_rows = batch.take(pa.array(bad_rows)).to_pylist()
        for row, raw in zip(bad_rows, raw_rows, strict=True):
            rejects.append(Reject(first_line + row, verdicts.reasons[row], _raw_text(raw)))
        result = result.filter(pa.array(~verdicts.bad))
    return result, rejects


def _raw_text(raw: object) -> str:
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        text = msgspec.json.encode(raw, enc_hook=str).decode()
    return text[:1000]


def _time_column(column: Any, verdicts: _Verdicts, not_after: float | None) -> Any:
    target = pa.timestamp("us", tz="UTC")
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Lower-case 't'/'z' and other RFC 3339 spellings Arrow's parser refuses.
            column = _parse_times(column.to_pylist(), verdicts)
    elif pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            verdicts.add(np.ones(len(column), dtype=np.bool_), "time has no time zone")
            column = column.cast(pa.timestamp(column.type.unit, tz="UTC"))
        column = column.cast(target)
    else:
        raise ValueError(f"time column must be a timestamp or RFC 3339 text, not {column.type}")
    null = pc.is_null(column).to_numpy(zero_copy_only=False)
    verdicts.add(null, "missing time")
    micros = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    verdicts.add(
        ~null & ((micros < EARLIEST_EVENT_TIME * 1e6) | (micros >= LATEST_EVENT_TIME * 1e6)),
        "event time outside 2000-01-01..2100-01-01",
    )
    if not_after is not None:
        verdicts.add(~null & (micros > not_after * 1e6), "event time is in the future")
    return column


_TIME_DECODER = msgspec.json.Decoder(Annotated[datetime, msgspec.Meta(tz=True)])


def _parse_times(values: Sequence[str | None], verdicts: _Verdicts) -> Any:
    parsed: list[datetime | None] = []
    bad = np.zeros(len(values), dtype=np.bool_)
    for i, value in enumerate(values):
        if value is None:
            parsed.append(None)
            continue
        try:
            parsed.append(_TIME_DECODER.decode(msgspec.json.encode(value.strip())))
        except msgspec.ValidationError:
            bad[i] = True
            parsed.append(None)
    verdicts.add(bad, "time is not an RFC 3339 date-time with a time zone offset")
    return pa.array(parsed, pa.timestamp("us", tz="UTC"))


def _weight_column(column: Any, n: int, verdicts: _Verdicts) -> Any:
    if column is None:
        return pa.array(np.ones(n))
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise ValueError(f"weight column must be numeric, not {column.type}")
    weights = column.cast(pa.float64()).fill_null(1.0).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        verdicts.add(
            ~np.isfinite(weights) | (weights <= 0) | (weights > MAX_WEIGHT),
            f"weight must be > 0 and <= {MAX_WEIGHT:g}",
        )
    return pa.array(weights)


# --- NDJSON -------------------------------------------------------------------------------


def _decode_lines(data: bytes) -> tuple[list[WireEvent], list[int], list[Reject], list[bytes]]:
    """Structure stage: decode every line, keeping line numbers; bad lines become rejects."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    longest = max(map(len, lines), default=0)
    if longest <= MAX_LINE_BYTES:
        try:
            events = _EVENT_DECODER.decode_lines(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            events = None
        if events is not None and len(events) == len(lines):
            return events, list(range(1, len(lines) + 1)), [], lines
    events = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    decode = _EVENT_DECODER.decode
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            rejects.append(
                Reject(number, f"line longer than {MAX_LINE_BYTES} bytes", _raw_text(line))
            )
            continue
        try:
            events.append(decode(line))
        except msgspec.ValidationError as exc:
            rejects.append(Reject(number, str(exc), _raw_text(line)))
            continue
        except msgspec.DecodeError as exc:
            rejects.append(Reject(number, f"invalid JSON: {exc}", _raw_text(line)))
            continue
        numbers.append(number)
    return events, numbers, rejects, lines


def _events_to_columns(events: Sequence[WireEvent]) -> pa.RecordBatch:
    n = len(events)
    datas = [e.data for e in events]
    keys = [d.keys for d in datas]
    columns: dict[str, Any] = {
        "id": pa.array([e.id for e in events], pa.string()),
        "source": pa.array([e.source for e in events], pa.string()),
        "kind": pa.array([e.type for e in events], pa.string()),
        "time": pa.array([e.time for e in events], pa.string()),
        "harm_type": pa.array([d.harm_type for d in datas], pa.string()),
        "region": pa.array([d.region for d in datas], pa.string()),
        "language": pa.array([d.language for d in datas], pa.string()),
        "surface": pa.array([d.surface for d in datas], pa.string()),
        "content_id": pa.array([d.content_id for d in datas], pa.string()),
        "account_id": pa.array([d.account_id for d in datas], pa.string()),
        "media_cluster": pa.array([k.media_cluster for k in keys], pa.string()),
        "weight": pa.array(np.fromiter((d.weight for d in datas), np.float64, count=n)),
    }
    for name in LIST_COLUMNS:
        lists = [getattr(k, name) for k in keys]
        lengths = np.fromiter(map(len, lists), dtype=np.int32, count=n)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat = list(chain.from_iterable(lists))
        columns[name] = pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()), pa.array(flat, pa.string())
        )
    return pa.RecordBatch.from_pydict(columns)


def decode_ndjson_batch(
    data: bytes, not_after: float | None = None
) -> tuple[pa.RecordBatch, list[Reject]]:
    """NDJSON (one CloudEvent per line) to a signal batch and rejects, without building a
    Python object per accepted event beyond msgspec's structs. Blank lines are skipped."""
    events, numbers, rejects, lines = _decode_lines(data)
    if not events:
        return _empty_batch(), rejects
    batch = _events_to_columns(events)
    accepted, bad = validate_batch(batch, 0, not_after)
    for reject in bad:
        # validate_batch numbered rows from 0; map back to line numbers and the raw line.
        number = numbers[reject.line]
        rejects.append(Reject(number, reject.reason, _raw_text(lines[number - 1])))
    rejects.sort(key=lambda r: r.line)
    return accepted, rejects


def decode_ndjson(data: bytes, not_after: float | None = None) -> tuple[list[Signal], list[Reject]]:
    """NDJSON to ``Signal`` objects and rejects (see ``decode_ndjson_batch``)."""
    batch, rejects = decode_ndjson_batch(data, not_after)
    return signals_from_batch(batch), rejects


# --- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "source",
    "kind",
    "time",
    "harm_type",
    "region",
    "language",
    "surface",
    "content_id",
    "account_id",
    "hashtags",
    "sounds",
    "keywords",
    "media_cluster",
    "weight",
)


def decode_records(
    rows: Iterable[Mapping[str, str | None]],
    not_after: float | None = None,
    first_line: int = 2,
) -> tuple[list[Signal], list[Reject]]:
    """Flat rows (``csv.DictReader``; ``CSV_COLUMNS``) to signals and rejects. Lists are
    ';'-separated; empty cells are absent values. ``first_line`` is the line number of the
    first row (2: after the header)."""
    text: dict[str, list[str | None]] = {name: [] for name in CSV_COLUMNS}
    weights: list[float | None] = []
    rejects: list[Reject] = []
    numbers: list[int] = []
    for number, row in enumerate(rows, start=first_line):
        weight_text = (row.get("weight") or "").strip()
        try:
            weight = float(weight_text) if weight_text else None
        except ValueError:
            rejects.append(
                Reject(number, f"weight {weight_text!r} is not a number", _raw_text(row))
            )
            continue
        numbers.append(number)
        weights.append(weight)
        for name in CSV_COLUMNS:
            if name != "weight":
                value = row.get(name)
                text[name].append(value.strip() if value and value.strip() else None)
    if not numbers:
        return [], rejects
    columns: dict[str, Any] = {}
    for name in CSV_COLUMNS:
        if name == "weight":
            columns[name] = pa.array(weights, pa.float64())
        elif name in LIST_COLUMNS:
            columns[name] = pa.array([_split_list(v) for v in text[name]], pa.list_(pa.string()))
        else:
            columns[name] = pa.array(text[name], pa.string())
    batch, bad = validate_batch(pa.RecordBatch.from_pydict(columns), 0, not_after)
    for reject in bad:
        rejects.append(Reject(numbers[reject.line], reject.reason, reject.raw))
    rejects.sort(key=lambda r: r.line)
    return signals_from_batch(batch), rejects


def _split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [part for part in value.split(CSV_LIST_SEPARATOR) if part.strip()]


# --- Parquet ------------------------------------------------------------------------------


def read_parquet_batches(
    path: str | Path, batch_size: int = 262_144, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Raw record batches of a Parquet file of flattened signals (``SIGNAL_COLUMNS`` names),
    single-threaded, with categorical columns read straight into Arrow dictionaries (no
    re-hashing). Batches never span row groups (each has one dictionary per column)."""
    plain = pq.ParquetFile(str(path))
    wanted = set(CATEGORICAL_COLUMNS) & set(columns or CATEGORICAL_COLUMNS)
    schema = plain.schema
    leaf_paths = [
        schema.column(i).path
        for i in range(len(schema))
        if schema.column(i).path.split(".")[0] in wanted
        and schema.column(i).physical_type == "BYTE_ARRAY"
    ]
    encoded = pq.ParquetFile(str(path), read_dictionary=leaf_paths)
    selected = list(columns) if columns else None
    for group in range(plain.num_row_groups):
        try:
            yield from encoded.iter_batches(
                batch_size=batch_size, row_groups=[group], columns=selected, use_threads=False
            )
        except pa.ArrowNotImplementedError:
            # A row group whose dictionary pages fell back to plain encoding mid-column
            # cannot be read as one dictionary per list column: read it as plain strings.
            yield from plain.iter_batches(
                batch_size=batch_size, row_groups=[group], columns=selected, use_threads=False
            )


def decode_parquet(
    path: str | Path,
    not_after: float | None = None,
    batch_size: int = 262_144,
    columns: Sequence[str] | None = None,
) -> Iterator[tuple[pa.RecordBatch, list[Reject]]]:
    """Signal batches and rejects (row numbers, 1-based) of a Parquet file, batch by batch.
    ``columns=COUNTING_COLUMNS`` reads and checks only what counting needs (see
    ``validate_batch(identity=False)``)."""
    first = 1
    identity = columns is None or all(c in columns for c in REQUIRED_COLUMNS)
    present = None
    if columns is not None:
        names = set(pq.ParquetFile(str(path)).schema_arrow.names)
        present = [c for c in columns if c in names]
    for raw in read_parquet_batches(path, batch_size, present):
        yield validate_batch(raw, first, not_after, identity)
        first += raw.num_rows


# --- batch <-> Signal ---------------------------------------------------------------------


def _empty_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=SIGNAL_COLUMNS)


def signals_from_batch(batch: pa.RecordBatch) -> list[Signal]:
    """The ``Signal`` objects of a signal batch (one Python object per event: not the fast
    path)."""
    if batch.num_rows == 0:
        return []
    cols = {name: batch.column(name).to_pylist() for name in SIGNAL_COLUMNS.names}
    micros = batch.column("time").cast(pa.int64()).to_numpy(zero_copy_only=False)
    times = (micros / 1e6).tolist()
    kinds = {k.value: k for k in SignalKind}
    harms = {h.value: h for h in HarmType}
    surfaces = {s.value: s for s in Surface}
    return [
        Signal(
            id=cols["id"][i],
            source=cols["source"][i],
            kind=kinds[cols["kind"][i]],
            event_time=times[i],
            harm_type=harms[cols["harm_type"][i]],
            region=cols["region"][i],
            content_id=cols["content_id"][i],
            language=cols["language"][i],
            surface=None if cols["surface"][i] is None else surfaces[cols["surface"][i]],
            account_id=cols["account_id"][i],
            hashtags=tuple(cols["hashtags"][i] or ()),
            sounds=tuple(cols["sounds"][i] or ()),
            keywords=tuple(cols["keywords"][i] or ()),
            media_cluster=cols["media_cluster"][i],
            weight=cols["weight"][i],
        )
        for i in range(batch.num_rows)
    ]


def batch_from_signals(signals: Sequence[Signal]) -> pa.RecordBatch:
    """A signal batch of already-validated ``Signal`` objects (e.g. for ``add_batch``)."""
    if not signals:
        return _empty_batch()
    columns: dict[str, Any] = {
        "id": pa.array([s.id for s in signals], pa.string()),
        "source": pa.array([s.source for s in signals], pa.string()).dictionary_encode(),
        "kind": pa.array([str(s.kind) for s in signals], pa.string()).dictionary_encode(),
        "time": pa.array(
            np.round(np.array([s.event_time for s in signals]) * 1e6).astype(np.int64),
            pa.int64(),
        ).cast(pa.timestamp("us", tz="UTC")),
    }
    for name in ("harm_type", "region", "language", "surface", "media_cluster"):
        values = [getattr(s, name) for s in signals]
        columns[name] = pa.array(
            [None if v is None else str(v) for v in values], pa.string()
        ).dictionary_encode()
    columns["content_id"] = pa.array([s.content_id for s in signals], pa.string())
    columns["account_id"] = pa.array([s.account_id for s in signals], pa.string())
    for name in LIST_COLUMNS:
        columns[name] = pa.array([list(getattr(s, name)) for s in signals], pa.list_(_DICT))
    columns["weight"] = pa.array([s.weight for s in signals], pa.float64())
    return pa.RecordBatch.from_arrays(
        [columns[f.name].cast(f.type) for f in SIGNAL_COLUMNS], SIGNAL_COLUMNS.names
    )


def signal_to_event(signal: Signal) -> dict[str, Any]:
    """The CloudEvents JSON object of a signal (for producers, fixtures and round trips)."""
    keys: dict[str, Any] = {
        "hashtags": list(signal.hashtags),
        "sounds": list(signal.sounds),
        "keywords": list(signal.keywords),
        "media_cluster": signal.media_cluster,
    }
    data: dict[str, Any] = {
        "harm_type": str(signal.harm_type),
        "region": signal.region,
        "content_id": signal.content_id,
        "keys": keys,
        "weight": signal.weight,
    }
    if signal.language is not None:
        data["language"] = signal.language
    if signal.surface is not None:
        data["surface"] = str(signal.surface)
    if signal.account_id is not None:
        data["account_id"] = signal.account_id
    stamp = datetime.fromtimestamp(signal.event_time, tz=UTC)
    return {
        "specversion": "1.0",
        "id": signal.id,
        "source": signal.source,
        "type": TYPE_PREFIX + str(signal.kind),
        "time": stamp.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }

"""The audit hash chain (pure): honest chains verify, and every kind of tampering is detected."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rapidresponse.audit.chain import (
    GENESIS,
    ChainRecord,
    canonical,
    compute_hash,
    verify,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HASHED_FIELDS = (
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "prev_hash",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=4,
)
snapshots = st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=3)
names = st.text(min_size=1, max_size=12)
hex_digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@st.composite
def entry_contents(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "actor": draw(names),
        "action": draw(st.sampled_from(["incident.create", "incident.transition", "token.issue"])),
        "entity_type": draw(st.sampled_from(["incident", "token", "note"])),
        "entity_id": draw(names),
        "before": draw(snapshots),
        "after": draw(snapshots),
    }


def build_chain(contents: list[dict[str, Any]], gaps: list[int]) -> list[ChainRecord]:
    """Link entries the way the audit service does: seq 1.., prev_hash, hash = compute_hash."""
    records: list[ChainRecord] = []
    prev, at = GENESIS, T0
    for seq, (content, gap) in enumerate(zip(contents, gaps, strict=True), start=1):
        at += timedelta(microseconds=gap)
        record = ChainRecord(seq=seq, at=at, prev_hash=prev, **content)
        record = dataclasses.replace(record, hash=compute_hash(record))
        records.append(record)
        prev = record.hash
    return records


@st.composite
def chains(draw: st.DrawFn, min_size: int = 0, max_size: int = 6) -> list[ChainRecord]:
    contents = draw(st.lists(entry_contents(), min_size=min_size, max_size=max_size))
    gaps = draw(st.lists(st.integers(0, 10**9), min_size=len(contents), max_size=len(contents)))
    return build_chain(contents, gaps)


def head_of(records: list[ChainRecord]) -> tuple[int, str]:
    return (records[-1].seq, records[-1].hash) if records else (0, GENESIS)


@st.composite
def edited_value(draw: st.DrawFn, record: ChainRecord, field: str) -> Any:
    """A new value for ``field`` whose canonical (hashed) form differs from the old one."""
    old = getattr(record, field)
    if field == "at":
        return old + timedelta(
            microseconds=draw(st.integers(1, 10**9)) * draw(st.sampled_from([-1, 1]))
        )
    if field in ("before", "after"):
        new = draw(snapshots)
    elif field in ("prev_hash", "hash"):
        new = draw(hex_digests)
    elif field == "seq":
        new = draw(st.integers(-5, 50))
    else:
        new = draw(names)
    assume(canonical(new) != canonical(old))
    return new


# --- honest chains --------------------------------------------------------------------------


@settings(max_examples=60)
@given(chains())
def test_honest_chain_verifies(records: list[ChainRecord]) -> None:
    report = verify(records, *head_of(records))
    assert report.ok, report.problems
    assert report.entries == len(records)


def test_empty_log_with_genesis_head_is_ok() -> None:
    report = verify([], 0, GENESIS)
    assert report.ok
    assert report.entries == 0
    assert report.problems == []


def test_empty_log_whose_head_points_past_it_is_detected() -> None:
    report = verify([], 3, "f" * 64)
    assert not report.ok
    assert [p.seq for p in report.problems] == [3]
    assert "deleted from the end" in report.problems[0].problem


def test_missing_head_is_detected() -> None:
    records = build_chain(
        [
            {
                "actor": "a",
                "action": "x",
                "entity_type": "incident",
                "entity_id": "1",
                "before": None,
                "after": {"status": "detected"},
            }
        ],
        [0],
    )
    report = verify(records, None, None)
    assert not report.ok
    assert report.problems[0].problem == "chain head is missing"


def test_hash_is_sha256_hex_of_canonical_json() -> None:
    record = ChainRecord(
        1, T0, "alice", "incident.create", "incident", "42", None, {"b": 1, "a": "é"}, GENESIS
    )
    digest = compute_hash(record)
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")
    assert canonical({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'
    # Key order of the snapshot does not matter; its content does.
    reordered = dataclasses.replace(record, after={"a": "é", "b": 1})
    assert compute_hash(reordered) == digest
    assert compute_hash(dataclasses.replace(record, after={"a": "é", "b": 2})) != digest


# --- tampering ------------------------------------------------------------------------------


@settings(max_examples=120)
@given(st.data())
def test_editing_any_field_of_any_entry_is_detected_at_that_entry(data: st.DataObject) -> None:
    records = data.draw(chains(min_size=1), label="chain")
    index = data.draw(st.integers(0, len(records) - 1), label="index")
    field = data.draw(st.sampled_from([*HASHED_FIELDS, "hash"]), label="field")
    victim = records[index]
    tampered = list(records)
    tampered[index] = dataclasses.replace(victim, **{field: data.draw(edited_value(victim, field))})
    report = verify(tampered, *head_of(records))
    assert not report.ok
    flagged = [p.seq for p in report.problems]
    # The first problem is at the edited entry: nothing before it is blamed.
    assert min(flagged) == victim.seq, report.problems
    assert victim.seq in flagged


@settings(max_examples=60)
@given(st.data())
def test_editing_seq_is_detected(data: st.DataObject) -> None:
    records = data.draw(chains(min_size=1), label="chain")
    index = data.draw(st.integers(0, len(records) - 1), label="index")
    victim = records[index]
    new_seq = data.draw(edited_value(victim, "seq"))
    tampered = list(records)
    tampered[index] = dataclasses.replace(victim, seq=new_seq)
    report = verify(tampered, *head_of(records))
    assert not report.ok
    assert new_seq in [p.seq for p in report.problems]


@settings(max_examples=80)
@given(st.data())
def test_editing_and_rehashing_an_entry_is_detected(data: st.DataObject) -> None:
    """A forger who recomputes the edited entry's hash still breaks the next link or the head."""
    records = data.draw(chains(min_size=1), label="chain")
    index = data.draw(st.integers(0, len(records) - 1), label="index")
    field = data.draw(
        st.sampled_from([f for f in HASHED_FIELDS if f != "prev_hash"]), label="field"
    )
    victim = records[index]
    forged = dataclasses.replace(victim, **{field: data.draw(edited_value(victim, field))})
    forged = dataclasses.replace(forged, hash=compute_hash(forged))
    tampered = list(records)
    tampered[index] = forged
    report = verify(tampered, *head_of(records))
    assert not report.ok
    flagged = [p.seq for p in report.problems]
    if index + 1 < len(records):
        assert records[index + 1].seq in flagged
    else:
        assert any("head hash does not match" in p.problem for p in report.problems)


@settings(max_examples=80)
@given(st.data())
def test_deleting_an_entry_before_the_tail_is_detected(data: st.DataObject) -> None:
    records = data.draw(chains(min_size=2), label="chain")
    index = data.draw(st.integers(0, len(records) - 2), label="deleted index")
    tampered = records[:index] + records[index + 1 :]
    report = verify(tampered, *head_of(records))
    assert not report.ok
    follower = records[index + 1]
    missing = [p for p in report.problems if p.seq == follower.seq]
    assert any(f"entries {index + 1}..{index + 1} are missing" in p.problem for p in missing)
    assert any("prev_hash" in p.problem for p in missing)
    # Only the link that was cut is blamed: later entries and the head still line up.
    assert {p.seq for p in report.problems} == {follower.seq}, report.problems


@settings(max_examples=80)
@given(st.data())
def test_deleting_the_tail_is_detected_via_the_head(data: st.DataObject) -> None:
    records = data.draw(chains(min_size=1), label="chain")
    cut = data.draw(st.integers(1, len(records)), label="entries deleted from the end")
    kept = records[: len(records) - cut]
    report = verify(kept, *head_of(records))
    assert not report.ok
    # The surviving entries are intact: the only problem is the head pointing past them.
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.seq == len(records)
    assert f"log ends at entry {len(kept)}" in problem.problem


@settings(max_examples=60)
@given(st.data())
def test_replacing_the_last_entry_with_a_valid_forgery_is_detected_via_the_head(
    data: st.DataObject,
) -> None:
    records = data.draw(chains(min_size=1), label="chain")
    last = records[-1]
    forged = dataclasses.replace(last, actor=data.draw(edited_value(last, "actor")))
    forged = dataclasses.replace(forged, hash=compute_hash(forged))
    report = verify([*records[:-1], forged], *head_of(records))
    assert not report.ok
    assert [p.seq for p in report.problems] == [last.seq]
    assert "last entry was replaced" in report.problems[0].problem


@settings(max_examples=80)
@given(st.data())
def test_reordering_entries_is_detected(data: st.DataObject) -> None:
    records = data.draw(chains(min_size=2), label="chain")
    order = data.draw(st.permutations(range(len(records))), label="order")
    assume(order != list(range(len(records))))
    report = verify([records[i] for i in order], *head_of(records))
    assert not report.ok
    first_moved = next(pos for pos, i in enumerate(order) if i != pos)
    assert records[order[first_moved]].seq in [p.seq for p in report.problems]


def test_out_of_order_and_duplicated_entries_are_named_as_such() -> None:
    contents = [
        {
            "actor": f"user{i}",
            "action": "incident.updated",
            "entity_type": "incident",
            "entity_id": str(i),
            "before": None,
            "after": {"n": i},
        }
        for i in range(3)
    ]
    e1, e2, e3 = build_chain(contents, [60_000_000] * 3)
    swapped = verify([e1, e3, e2], 3, e3.hash)
    assert any(p.seq == 2 and "out of order or duplicated" in p.problem for p in swapped.problems)
    assert not any("missing" in p.problem and p.seq == 2 for p in swapped.problems)
    duplicated = verify([e1, e2, e2, e3], 3, e3.hash)
    assert any(p.seq == 2 and "duplicated" in p.problem for p in duplicated.problems)


def test_empty_log_whose_head_hash_is_not_genesis_is_detected() -> None:
    assert not verify([], 0, "f" * 64).ok

"""The incident state machine: allowed moves, rejected moves, timestamps and response times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from rapidresponse.incidents.lifecycle import (
    FINAL,
    OPEN,
    STAMP,
    TRANSITIONS,
    IllegalTransition,
    Status,
    can_transition,
    response_times,
    transition,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TIMESTAMP_FIELDS = (
    "triaged_at",
    "active_at",
    "contained_at",
    "resolved_at",
    "closed_at",
    "declined_at",
    "merged_at",
)
# The moves the module docstring describes, written out independently of TRANSITIONS.
DOCUMENTED_MOVES = {
    ("detected", "triaged"),
    ("triaged", "active"),
    ("active", "contained"),
    ("contained", "resolved"),
    ("resolved", "closed"),
    # declined before active
    ("detected", "declined"),
    ("triaged", "declined"),
    # merged before contained
    ("detected", "merged"),
    ("triaged", "merged"),
    ("active", "merged"),
    # containment failed: reopen
    ("contained", "active"),
    ("resolved", "active"),
}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_transition_table_matches_the_documented_moves() -> None:
    table = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == DOCUMENTED_MOVES
    assert set(TRANSITIONS) == set(Status)


def test_final_and_open_states() -> None:
    assert {Status.CLOSED, Status.DECLINED, Status.MERGED} == FINAL
    assert {Status.DETECTED, Status.TRIAGED, Status.ACTIVE, Status.CONTAINED} == OPEN
    assert not FINAL & OPEN


def test_every_entered_state_has_its_own_timestamp_field() -> None:
    assert set(STAMP) == set(Status) - {Status.DETECTED}
    assert sorted(STAMP.values()) == sorted(TIMESTAMP_FIELDS)
    for status, field in STAMP.items():
        assert field == f"{status.value}_at"


@pytest.mark.parametrize(
    ("current", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS]
)
def test_only_moves_in_the_table_are_accepted(current: Status, target: Status) -> None:
    legal = (current.value, target.value) in DOCUMENTED_MOVES
    assert can_transition(current, target) is legal
    if legal:
        result = transition(current, target, T0)
        assert result.status is target
        assert result.stamps[STAMP[target]] == T0
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(current, target, T0)
        message = str(caught.value)
        assert f"from {current.value} to {target.value}" in message
        allowed = sorted(b for a, b in DOCUMENTED_MOVES if a == current.value)
        if allowed:
            assert f"allowed from {current.value}: {', '.join(allowed)}" in message
        else:
            assert "none (final state)" in message
        assert caught.value.current is current
        assert caught.value.target is target
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("final", sorted(FINAL))
def test_final_states_accept_nothing(final: Status) -> None:
    for target in Status:
        with pytest.raises(IllegalTransition, match="none \\(final state\\)"):
            transition(final, target, T0)


def test_string_states_are_accepted_and_unknown_ones_rejected() -> None:
    assert transition("detected", "triaged", T0).status is Status.TRIAGED
    with pytest.raises(ValueError, match="escalated"):
        transition("detected", "escalated", T0)
    with pytest.raises(ValueError, match="bogus"):
        transition("bogus", "triaged", T0)


def test_main_path_stamps_each_field_with_now() -> None:
    path = [Status.TRIAGED, Status.ACTIVE, Status.CONTAINED, Status.RESOLVED, Status.CLOSED]
    status = Status.DETECTED
    record: dict[str, datetime | None] = dict.fromkeys(TIMESTAMP_FIELDS)
    for minutes, target in enumerate(path, start=1):
        now = T0 + timedelta(minutes=minutes * 7, microseconds=123)
        result = transition(status, target, now)
        assert result.status is target
        assert result.stamps == {f"{target.value}_at": now}
        record.update(result.stamps)
        status = result.status
    assert status is Status.CLOSED
    assert record == {
        "triaged_at": T0 + timedelta(minutes=7, microseconds=123),
        "active_at": T0 + timedelta(minutes=14, microseconds=123),
        "contained_at": T0 + timedelta(minutes=21, microseconds=123),
        "resolved_at": T0 + timedelta(minutes=28, microseconds=123),
        "closed_at": T0 + timedelta(minutes=35, microseconds=123),
        "declined_at": None,
        "merged_at": None,
    }


@pytest.mark.parametrize("reopened_from", [Status.CONTAINED, Status.RESOLVED])
def test_reopening_clears_contained_and_resolved(reopened_from: Status) -> None:
    now = T0 + timedelta(hours=3)
    result = transition(reopened_from, Status.ACTIVE, now)
    assert result.status is Status.ACTIVE
    assert result.stamps == {"active_at": now, "contained_at": None, "resolved_at": None}


def test_entering_active_from_triaged_clears_nothing() -> None:
    assert transition(Status.TRIAGED, Status.ACTIVE, T0).stamps == {"active_at": T0}


def test_merging_an_active_incident_keeps_its_timestamps() -> None:
    assert transition(Status.ACTIVE, Status.MERGED, T0).stamps == {"merged_at": T0}


# --- response times -------------------------------------------------------------------------


def test_response_times_worked_example() -> None:
    onset = T0 - timedelta(minutes=40)
    times = response_times(
        started_at=onset,
        detected_at=T0,
        triaged_at=T0 + timedelta(minutes=5),
        contained_at=T0 + timedelta(hours=2),
        resolved_at=T0 + timedelta(days=1),
    )
    assert times.time_to_detect == timedelta(minutes=40)
    assert times.time_to_acknowledge == timedelta(minutes=5)
    assert times.time_to_contain == timedelta(hours=2)
    assert times.time_to_resolve == timedelta(days=1)


def test_response_times_are_none_where_a_stamp_is_missing() -> None:
    times = response_times(None, T0, None, None, None)
    assert times.time_to_detect is None
    assert times.time_to_acknowledge is None
    assert times.time_to_contain is None
    assert times.time_to_resolve is None
    partial = response_times(None, T0, T0 + timedelta(minutes=1), None, None)
    assert partial.time_to_acknowledge == timedelta(minutes=1)
    assert partial.time_to_contain is None


offsets = st.integers(0, 10 * 24 * 3600)


@settings(max_examples=200)
@given(
    st.lists(offsets, min_size=5, max_size=5),
    st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_response_times_non_negative_for_monotone_times(
    gaps: list[int], present: list[bool]
) -> None:
    # onset <= detected <= triaged <= contained <= resolved, each (but detected) maybe missing.
    points = list(itertools.accumulate(gaps))
    onset, detected, triaged, contained, resolved = (T0 + timedelta(seconds=p) for p in points)
    optional = [
        value if keep else None
        for value, keep in zip((onset, triaged, contained, resolved), present, strict=True)
    ]
    started_at, triaged_at, contained_at, resolved_at = optional
    times = response_times(started_at, detected, triaged_at, contained_at, resolved_at)
    pairs = [
        (times.time_to_detect, started_at),
        (times.time_to_acknowledge, triaged_at),
        (times.time_to_contain, contained_at),
        (times.time_to_resolve, resolved_at),
    ]
    for duration, stamp in pairs:
        if stamp is None:
            assert duration is None
        else:
            assert duration is not None
            assert duration >= timedelta(0)
    if started_at is not None:
        assert times.time_to_detect == detected - started_at
    if resolved_at is not None:
        assert times.time_to_resolve == resolved_at - detected


# --- random walks ---------------------------------------------------------------------------


class IncidentLifecycle(RuleBasedStateMachine):
    """Random walks of legal and illegal moves against a record kept the way the service does."""

    def __init__(self) -> None:
        super().__init__()
        self.status = Status.DETECTED
        self.detected_at = T0
        self.started_at = T0 - timedelta(minutes=30)
        self.now = T0
        self.record: dict[str, datetime | None] = dict.fromkeys(TIMESTAMP_FIELDS)
        self.nows_given: set[datetime] = set()
        self.visited: list[Status] = [Status.DETECTED]

    @rule(microseconds=st.integers(0, 48 * 3600 * 10**6))
    def time_passes(self, microseconds: int) -> None:
        self.now += timedelta(microseconds=microseconds)

    @precondition(lambda self: self.status not in FINAL)
    @rule(data=st.data())
    def legal_move(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(TRANSITIONS[self.status])), label="target")
        previous = self.status
        result = transition(self.status, target, self.now)
        self.nows_given.add(self.now)
        assert result.status is target
        assert result.stamps[f"{target.value}_at"] == self.now
        reopen = target is Status.ACTIVE and previous in (Status.CONTAINED, Status.RESOLVED)
        expected_keys = {f"{target.value}_at"}
        if reopen:
            expected_keys |= {"contained_at", "resolved_at"}
            assert result.stamps["contained_at"] is None
            assert result.stamps["resolved_at"] is None
        assert set(result.stamps) == expected_keys
        self.record.update(result.stamps)
        self.status = result.status
        self.visited.append(target)

    @rule(data=st.data())
    def illegal_move(self, data: st.DataObject) -> None:
        forbidden = sorted(set(Status) - TRANSITIONS[self.status])
        target = data.draw(st.sampled_from(forbidden), label="forbidden target")
        with pytest.raises(IllegalTransition) as caught:
            transition(self.status, target, self.now)
        assert self.status.value in str(caught.value)
        assert target.value in str(caught.value)

    @invariant()
    def stamps_are_times_that_were_given(self) -> None:
        for field, value in self.record.items():
            if value is not None:
                assert value in self.nows_given, field
                assert self.detected_at <= value <= self.now, field

    @invariant()
    def current_state_has_its_stamp(self) -> None:
        if self.status is not Status.DETECTED:
            assert self.record[f"{self.status.value}_at"] is not None

    @invariant()
    def later_stamps_are_clear_while_active(self) -> None:
        if self.status in (Status.DETECTED, Status.TRIAGED, Status.ACTIVE):
            assert self.record["contained_at"] is None
            assert self.record["resolved_at"] is None
        if self.status is Status.CONTAINED:
            assert self.record["resolved_at"] is None

    @invariant()
    def a_closed_incident_was_resolved_before(self) -> None:
        if self.status is Status.CLOSED:
            assert Status.RESOLVED in self.visited
            resolved_at, closed_at = self.record["resolved_at"], self.record["closed_at"]
            contained_at = self.record["contained_at"]
            assert contained_at is not None
            assert resolved_at is not None
            assert closed_at is not None
            assert contained_at <= resolved_at <= closed_at

    @invariant()
    def declined_only_before_active(self) -> None:
        if self.status is Status.DECLINED:
            assert Status.ACTIVE not in self.visited
            assert self.record["active_at"] is None

    @invariant()
    def response_times_are_consistent(self) -> None:
        times = response_times(
            self.started_at,
            self.detected_at,
            self.record["triaged_at"],
            self.record["contained_at"],
            self.record["resolved_at"],
        )
        assert times.time_to_detect == timedelta(minutes=30)
        for duration, field in (
            (times.time_to_acknowledge, "triaged_at"),
            (times.time_to_contain, "contained_at"),
            (times.time_to_resolve, "resolved_at"),
        ):
            if self.record[field] is None:
                assert duration is None, field
            else:
                assert duration is not None, field
                assert duration >= timedelta(0), field
        if times.time_to_contain is not None and times.time_to_resolve is not None:
            assert times.time_to_contain <= times.time_to_resolve


IncidentLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
TestIncidentLifecycle = IncidentLifecycle.TestCase

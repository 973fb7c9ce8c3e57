"""Incident lifecycle: the allowed moves between states and the times each one stamps.

detected -> triaged -> active -> contained -> resolved -> closed is the main path. An incident
may be declined (not an incident) before it is active, or merged into another before it is
contained. Containment can fail: contained -> active and resolved -> active reopen the
response, and clear the later timestamps so that time-to-contain and time-to-resolve measure
the containment that held. Closed, declined and merged are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    DETECTED = "detected"
    TRIAGED = "triaged"
    ACTIVE = "active"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DECLINED = "declined"
    MERGED = "merged"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DETECTED: frozenset({Status.TRIAGED, Status.DECLINED, Status.MERGED}),
    Status.TRIAGED: frozenset({Status.ACTIVE, Status.DECLINED, Status.MERGED}),
    Status.ACTIVE: frozenset({Status.CONTAINED, Status.MERGED}),
    Status.CONTAINED: frozenset({Status.RESOLVED, Status.ACTIVE}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.ACTIVE}),
    Status.CLOSED: frozenset(),
    Status.DECLINED: frozenset(),
    Status.MERGED: frozenset(),
}

FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
OPEN = frozenset({Status.DETECTED, Status.TRIAGED, Status.ACTIVE, Status.CONTAINED})

# The timestamp field each state stamps when entered.
STAMP = {
    Status.TRIAGED: "triaged_at",
    Status.ACTIVE: "active_at",
    Status.CONTAINED: "contained_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
    Status.DECLINED: "declined_at",
    Status.MERGED: "merged_at",
}
# Moving back to active means containment did not hold: forget the later stamps.
_CLEARED_ON_REOPEN = ("contained_at", "resolved_at")


class IllegalTransition(ValueError):
    def __init__(self, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        super().__init__(
            f"cannot move an incident from {current.value} to {target.value}; "
            f"allowed from {current.value}: {allowed}"
        )
        self.current = current
        self.target = target


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True)
class TransitionResult:
    status: Status
    stamps: dict[str, datetime | None]


def transition(current: Status | str, target: Status | str, now: datetime) -> TransitionResult:
    """Return the new state and the timestamp fields to set (None clears a field)."""
    current, target = Status(current), Status(target)
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    stamps: dict[str, datetime | None] = {STAMP[target]: now}
    if target is Status.ACTIVE and current in (Status.CONTAINED, Status.RESOLVED):
        stamps.update(dict.fromkeys(_CLEARED_ON_REOPEN))
    return TransitionResult(target, stamps)


@dataclass(frozen=True)
class ResponseTimes:
    """Key durations of a response; None where the incident has not reached that point."""

    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_contain: timedelta | None
    time_to_resolve: timedelta | None


def response_times(
    started_at: datetime | None,
    detected_at: datetime,
    triaged_at: datetime | None,
    contained_at: datetime | None,
    resolved_at: datetime | None,
) -> ResponseTimes:
    """Detect is measured from harm onset; the others from detection."""

    def since(start: datetime | None, end: datetime | None) -> timedelta | None:
        return None if start is None or end is None else end - start

    return ResponseTimes(
        time_to_detect=since(started_at, detected_at),
        time_to_acknowledge=since(detected_at, triaged_at),
        time_to_contain=since(detected_at, contained_at),
        time_to_resolve=since(detected_at, resolved_at),
    )

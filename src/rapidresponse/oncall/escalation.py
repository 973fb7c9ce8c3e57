"""Escalation: the order in which a page walks a policy's levels and rounds, and its keys.

A policy is a list of levels, each with targets and a wait; the whole list is repeated
``repeat`` more times. A page starts at level 0 of round 0. When a level's wait passes
without acknowledgement the page moves to the next level, then wraps to level 0 of the next
round, and after the last level of the last round it is exhausted.

Keys are derived, never random, so that every retry of the same step names the same durable
timer and the same deliveries: the outbox and the delivery channels then make each step
happen once however often it is attempted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

TIMER_TOPIC = "oncall.escalate"


class PageStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"


OPEN_STATUSES = frozenset({PageStatus.TRIGGERED, PageStatus.EXHAUSTED})
# Where each status may go next; acknowledging an exhausted page is how it finally stops.
TRANSITIONS: dict[PageStatus, frozenset[PageStatus]] = {
    PageStatus.TRIGGERED: frozenset(
        {PageStatus.ACKNOWLEDGED, PageStatus.RESOLVED, PageStatus.EXHAUSTED}
    ),
    PageStatus.EXHAUSTED: frozenset({PageStatus.ACKNOWLEDGED, PageStatus.RESOLVED}),
    PageStatus.ACKNOWLEDGED: frozenset({PageStatus.RESOLVED}),
    PageStatus.RESOLVED: frozenset(),
}


@dataclass(frozen=True, order=True)
class Step:
    round: int
    level: int


def first_step() -> Step:
    return Step(round=0, level=0)


def next_step(step: Step, levels: int, repeat: int) -> Step | None:
    """The step after ``step``; None when the policy is exhausted."""
    if levels < 1:
        return None
    if step.level + 1 < levels:
        return Step(step.round, step.level + 1)
    if step.round < repeat:
        return Step(step.round + 1, 0)
    return None


def total_steps(levels: int, repeat: int) -> int:
    return levels * (repeat + 1)


def timer_key(page_id: int, step: Step) -> str:
    """The durable timer that escalates ``page_id`` after ``step``'s wait."""
    return f"page:{page_id}:level:{step.level}:round:{step.round}"


def delivery_key(page_id: int, step: Step, person: str, channel: str) -> str:
    """Idempotency key of one notification: one per page, step, person and channel."""
    return f"oncall:page:{page_id}:level:{step.level}:round:{step.round}:{person}:{channel}"


def wait(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)

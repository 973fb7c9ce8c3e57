"""Rotations: who of an ordered list of people is on duty in a layer at a given instant.

A rotation hands off every ``length`` units. Day and week rotations hand off at the same
local wall-clock time every time (09:00 in Dublin stays 09:00 across the clock change, so
the shift spanning the change is an hour shorter or longer); hour rotations hand off every
``length`` elapsed hours from the first handoff, because "every 12 hours" means elapsed time
to the person carrying the pager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from rapidresponse.oncall.zones import instant, zone


class RotationUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


@dataclass(frozen=True)
class Rotation:
    participants: tuple[str, ...]
    unit: RotationUnit
    length: int
    handoff: time
    start: date
    tz: str

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError("a rotation hands off after at least one unit")
        zone(self.tz)

    @property
    def _days(self) -> int:
        return self.length * (7 if self.unit is RotationUnit.WEEKS else 1)

    def shift_start(self, index: int) -> datetime:
        """UTC start of shift ``index`` (0 is the first shift; negative ones precede it)."""
        if self.unit is RotationUnit.HOURS:
            return instant(self.start, self.handoff, self.tz) + timedelta(hours=self.length * index)
        return instant(self.start + timedelta(days=self._days * index), self.handoff, self.tz)

    def shift_index(self, at: datetime) -> int:
        """The shift containing ``at`` (negative before the rotation starts)."""
        first = instant(self.start, self.handoff, self.tz)
        period = (
            timedelta(hours=self.length)
            if self.unit is RotationUnit.HOURS
            else timedelta(days=self._days)
        )
        index = (at - first) // period
        # Day arithmetic in local time drifts from elapsed time by at most the DST shifts:
        # correct the estimate against the exact shift boundaries.
        while self.shift_start(index) > at:
            index -= 1
        while self.shift_start(index + 1) <= at:
            index += 1
        return index

    def on_duty(self, at: datetime) -> tuple[str, int] | None:
        """(person, shift index) on duty at ``at``; None before the rotation starts."""
        if not self.participants:
            return None
        index = self.shift_index(at)
        if index < 0:
            return None
        return self.participants[index % len(self.participants)], index

    def handoffs(self, start: datetime, end: datetime) -> list[datetime]:
        """Shift boundaries within [start, end), first shift's start included."""
        index = max(self.shift_index(start), 0)
        found: list[datetime] = []
        while True:
            at = self.shift_start(index)
            if at >= end:
                return found
            if at >= start:
                found.append(at)
            index += 1

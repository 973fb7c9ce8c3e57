"""iCalendar (RFC 5545) export of on-call shifts, so people see their pager in their calendar.

Each on-call segment is one VEVENT with UTC start and end. Its UID is derived from the
schedule, layer, person and start, so re-importing or re-subscribing updates events instead
of duplicating them; the caller exports whole segments (not cut at the window's edges) so
the same segment always has the same UID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

from rapidresponse.oncall.coverage import Segment

PRODID = "-//Rapid Response//On-call//EN"


@dataclass(frozen=True)
class Shift:
    schedule: str  # slug
    schedule_name: str
    segment: Segment


def uid(schedule: str, segment: Segment) -> str:
    basis = "|".join(
        (
            schedule,
            segment.layer or "",
            segment.person or "",
            segment.start.astimezone(UTC).isoformat(),
        )
    )
    return f"{hashlib.sha256(basis.encode()).hexdigest()[:32]}@rapidresponse"


def calendar(name: str, shifts: Iterable[Shift], now: datetime) -> bytes:
    """An iCalendar document with one event per shift (gaps are left out)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "UTC")
    for shift in shifts:
        segment = shift.segment
        if segment.person is None:
            continue
        event = Event()
        event.add("uid", uid(shift.schedule, segment))
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", segment.start.astimezone(UTC))
        event.add("dtend", segment.end.astimezone(UTC))
        layer = f" ({segment.layer})" if segment.layer else ""
        event.add("summary", f"On call: {segment.person} - {shift.schedule_name}{layer}")
        event.add("description", f"{segment.source.value}: {segment.reason}")
        event.add("categories", ["on-call", shift.schedule])
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    document: bytes = cal.to_ical()
    return document

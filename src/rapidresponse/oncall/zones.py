"""IANA time zones and local wall-clock times, turned into UTC instants the same way everywhere.

On-call rules are written in local time ("handoff at 09:00 Europe/Dublin", "weekdays
08:00-16:00 America/Chicago") but every comparison happens between UTC instants. Going
through one function, :func:`instant`, guarantees that the instants at which coverage
changes and the instants used to decide who covers a moment are computed identically, even
on the two days a year when the local clock jumps.

PEP 495 semantics, as zoneinfo applies them: a wall time that does not exist (inside the
spring-forward gap, e.g. 02:30 in Chicago on 2026-03-08) resolves with the offset in force
before the jump, i.e. one gap later in wall-clock terms (03:30 CDT); a wall time that
happens twice (the fall-back hour) resolves to its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = ["instant", "local_day", "midnight", "zone"]


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError with a hint when there is none."""
    if not isinstance(name, str) or not name or name != name.strip() or "\x00" in name:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Dublin)")
    if name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Dublin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = _suggest(name)
        raise ValueError(
            f"{name!r} is not an IANA time zone (e.g. Europe/Dublin, America/Chicago, "
            f"Asia/Singapore){f'; did you mean {hint}?' if hint else ''}"
        ) from None


def _suggest(name: str) -> str | None:
    wanted = name.lower().replace(" ", "_")
    for candidate in sorted(_known()):
        if candidate.lower() == wanted or candidate.lower().endswith("/" + wanted):
            return candidate
    return None


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def instant(day: date, wall: time, tz: str) -> datetime:
    """The UTC instant of wall-clock ``wall`` on ``day`` in zone ``tz``."""
    return datetime.combine(day, wall.replace(tzinfo=None), tzinfo=zone(tz)).astimezone(UTC)


def midnight(day: date, tz: str) -> datetime:
    """The UTC instant at which local ``day`` begins in ``tz``."""
    return instant(day, time(0, 0), tz)


def local_day(at: datetime, tz: str) -> date:
    """The local calendar day ``at`` falls on in ``tz``, consistent with :func:`midnight`."""
    day = at.astimezone(zone(tz)).date()
    # Guard against zones whose midnight does not exist: trust midnight() as the boundary.
    if midnight(day, tz) > at:
        return day - timedelta(days=1)
    if midnight(day + timedelta(days=1), tz) <= at:
        return day + timedelta(days=1)
    return day

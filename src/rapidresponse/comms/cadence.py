"""Status-update cadence (pure): when the next update is due and when to nag about it.

An incident with a cadence (e.g. SEV0 every 30 min) owes its stakeholders an internal update
``every`` after the last one was sent, or after the cadence was set if none was sent since.
When that moment passes without an update, one reminder goes out, and another each further
interval while the update is still missing: a single missed update produces one reminder per
interval, never a burst, however often the timer is checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MIN_EVERY = timedelta(minutes=1)
MAX_EVERY = timedelta(days=7)


def check_every(every: timedelta) -> timedelta:
    if every < MIN_EVERY or every > MAX_EVERY:
        raise ValueError("an update cadence is between 1 minute and 7 days")
    return every


def update_due_at(
    every: timedelta, started_at: datetime, last_update_at: datetime | None
) -> datetime:
    """When the next internal update is due.

    Counted from the last update sent, or from when the cadence (re)started if that is later:
    a cadence set, or restarted, after a long silence gives people one interval to write.
    """
    anchor = started_at if last_update_at is None else max(started_at, last_update_at)
    return anchor + every


def reminder_due(
    now: datetime, due_at: datetime, last_reminder_at: datetime | None, every: timedelta
) -> bool:
    """Should a reminder go out now? Once when overdue, then once per further interval."""
    if now < due_at:
        return False
    if last_reminder_at is None or last_reminder_at < due_at:
        return True
    return now >= last_reminder_at + every


def next_check_at(
    now: datetime, due_at: datetime, last_reminder_at: datetime | None, every: timedelta
) -> datetime:
    """When the durable timer should next look at the incident."""
    if due_at > now:
        return due_at
    if last_reminder_at is not None and last_reminder_at >= due_at:
        return max(now, last_reminder_at + every)
    return now


def describe_every(every: timedelta) -> str:
    """30 min, 1 h, 1 h 30 min, 2 d: how people say a cadence."""
    minutes = int(every.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    return " ".join(parts) or f"{int(every.total_seconds())} s"

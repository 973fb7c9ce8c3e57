"""Optimistic concurrency, shared by every versioned record (incidents, tasks, status updates).

A caller states the version it read; a write against any other version is refused, and a
race lost at flush time (the row's version moved between read and write) is refused the same
way, so two people never silently overwrite each other.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from rapidresponse.errors import StaleVersion, VersionRequired


def check_version(current: int, expected: int | None, what: str) -> None:
    if expected is None:
        raise VersionRequired(
            f"send the version you last read of {what} (If-Match header or 'version' field) "
            "so concurrent changes are not silently overwritten"
        )
    if expected != current:
        raise StaleVersion(
            f"{what} is at version {current}, you read version {expected}; reload and retry",
            current_version=current,
        )


def flush_versioned(session: Session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(
            f"{what} was changed by someone else at the same time; reload and retry"
        ) from None

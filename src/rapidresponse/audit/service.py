"""Appending to and verifying the audit log. Callers pass their open session so the entry
commits, or rolls back, with the change it records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapidresponse.audit.chain import GENESIS, ChainRecord, VerifyReport, compute_hash, verify
from rapidresponse.audit.model import AuditEntry, AuditHead

HEAD_ID = 1


def jsonable(value: Any) -> Any:
    """Plain JSON values for audit snapshots (datetimes as ISO 8601, enums as values)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def snapshot(row: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-safe dict of an ORM row's column values."""
    return {
        column.key: jsonable(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in exclude
    }


def _locked_head(session: Session) -> AuditHead:
    """The chain head, row-locked for the rest of this transaction.

    The lock is taken once per transaction: later appends in the same transaction reuse the
    head they already hold, so a bulk operation pays for one lock, not one per entry.
    """
    transaction = session.get_transaction()
    cached = session.info.get("audit_head")
    if cached is not None and cached[0] is transaction:
        return cached[1]  # type: ignore[no-any-return]
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    session.info["audit_head"] = (transaction, head)
    return head


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
) -> AuditEntry:
    head = _locked_head(session)
    chain = ChainRecord(
        seq=head.seq + 1,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=jsonable(before),
        after=jsonable(after),
        prev_hash=head.hash,
    )
    digest = compute_hash(chain)
    entry = AuditEntry(
        seq=chain.seq,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=chain.entity_id,
        before=chain.before,
        after=chain.after,
        prev_hash=chain.prev_hash,
        hash=digest,
    )
    session.add(entry)
    head.seq, head.hash = chain.seq, digest
    return entry


def _records(session: Session) -> Iterator[ChainRecord]:
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    )
    for (entry,) in rows:
        yield ChainRecord(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            before=entry.before,
            after=entry.after,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


def verify_log(session: Session) -> VerifyReport:
    head = session.get(AuditHead, HEAD_ID)
    return verify(_records(session), head.seq if head else None, head.hash if head else None)


def list_entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)

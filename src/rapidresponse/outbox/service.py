"""Outbox use cases: enqueue in the caller's transaction, claim, settle, requeue.

Delivery is at least once: a message is claimed with a lease, delivered outside any
transaction, then marked delivered. A worker that dies mid-delivery leaves the lease to
expire and another worker retries. On PostgreSQL, claims use SKIP LOCKED so any number of
workers share the queue without taking the same message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.outbox.delivery import retry_delay
from rapidresponse.outbox.model import OutboxMessage

PENDING, DELIVERED, DEAD, CANCELLED = "pending", "delivered", "dead", "cancelled"


def enqueue(session: Session, topic: str, payload: dict[str, Any], now: datetime) -> OutboxMessage:
    message = OutboxMessage(
        topic=topic, payload=payload, created_at=now, available_at=now, status=PENDING, attempts=0
    )
    session.add(message)
    return message


def schedule(
    session: Session,
    topic: str,
    payload: dict[str, Any],
    *,
    due_at: datetime,
    key: str,
    now: datetime,
) -> OutboxMessage:
    """A durable timer: deliver ``payload`` on ``topic`` at ``due_at``.

    Scheduling a key that is still pending moves it (new time and payload); a key that has
    already fired or was cancelled is left as it is, so a timer never fires twice.
    """
    existing = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key == key).with_for_update()
    ).one_or_none()
    if existing is None:
        message = OutboxMessage(
            topic=topic,
            key=key,
            payload=payload,
            created_at=now,
            available_at=due_at,
            status=PENDING,
            attempts=0,
        )
        session.add(message)
        session.flush()
        return message
    if existing.status == PENDING:
        existing.topic, existing.payload, existing.available_at = topic, payload, due_at
    return existing


def cancel(session: Session, key: str) -> bool:
    """Cancel a pending timer; False when there is none (already fired, or never set)."""
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key == key).with_for_update()
    ).one_or_none()
    if message is None or message.status != PENDING:
        return False
    message.status = CANCELLED
    return True


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()


def claim(session: Session, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.available_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(session.scalars(query))
    for message in messages:
        message.locked_until = now + lease
    session.flush()
    return messages


def lock_claimed(session: Session, message_id: int) -> OutboxMessage | None:
    """Re-read a claimed message under a row lock; None if another worker settled it."""
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).one_or_none()
    if message is None or message.status != PENDING:
        return None
    return message


def mark_delivered(session: Session, message_id: int, now: datetime) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.status = DELIVERED
    message.delivered_at = now
    message.attempts += 1
    message.locked_until = None
    message.last_error = None


def mark_failed(
    session: Session, message_id: int, error: str, now: datetime, max_attempts: int
) -> OutboxMessage | None:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    message.attempts += 1
    message.last_error = error[:2000]
    message.locked_until = None
    if message.attempts >= max_attempts:
        message.status = DEAD
    else:
        message.available_at = now + retry_delay(message.attempts)
    return message


def requeue_dead(session: Session, now: datetime, actor: str) -> int:
    """Give every dead message a fresh set of attempts (audited: who retried what, when)."""
    dead = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == DEAD)))
    for message in dead:
        message.status = PENDING
        message.attempts = 0
        message.available_at = now
    if dead:
        audit.record(
            session,
            actor=actor,
            action="outbox.requeued",
            entity_type="outbox",
            entity_id="dead",
            before={"dead": [m.id for m in dead]},
            after={"pending": [m.id for m in dead]},
            at=now,
        )
    return len(dead)


def stats(session: Session, now: datetime) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = {PENDING: 0, DELIVERED: 0, DEAD: 0, CANCELLED: 0} | {
        status: int(n) for status, n in rows
    }
    counts["retrying"] = int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(and_(OutboxMessage.status == PENDING, OutboxMessage.attempts > 0))
        )
        or 0
    )
    counts["scheduled"] = int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(and_(OutboxMessage.status == PENDING, OutboxMessage.available_at > now))
        )
        or 0
    )
    return counts


def list_messages(
    session: Session, status: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))

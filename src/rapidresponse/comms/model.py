"""Comms tables: deliveries, status updates and their approvals, and each incident's cadence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class Delivery(Base):
    """One message to one target on one channel, sent by the outbox worker.

    ``idempotency_key`` is unique: asking again for the same delivery returns this row, and
    receivers get the key (Message-ID, X-RR-Idempotency-Key) to drop the duplicates that
    at-least-once delivery can still produce after a crash.
    """

    __tablename__ = "comms_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    target: Mapped[str] = mapped_column(String(2000), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    incident_key: Mapped[str | None] = mapped_column(String(20), index=True)
    # queued -> sent | retrying -> sent | dead (see channels.DeliveryStatus)
    status: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class StatusUpdate(Base):
    """An internal update, executive summary or external statement, from draft to sent/published."""

    __tablename__ = "comms_status_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    audience: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    template: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_by: Mapped[str] = mapped_column(String(120), nullable=False)
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    # When it left: sent (internal, executive) or marked published (external).
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(120))
    rejection: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_comms_update_incident", "incident_id", "kind", "status"),)


class Approval(Base):
    """A PR or Legal decision on one text of an external statement.

    Approvals are never deleted: an edit or a rejection voids them (``voided_at``) so the
    trail shows who approved which text and why that approval no longer counts.
    """

    __tablename__ = "comms_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("comms_status_update.id"), nullable=False, index=True
    )
    function: Mapped[str] = mapped_column(String(10), nullable=False)
    decision: Mapped[str] = mapped_column(String(10), nullable=False)
    decided_by: Mapped[str] = mapped_column(String(120), nullable=False)
    # True when an admin decided "as" the function without holding its incident role.
    on_behalf: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_at: Mapped[datetime] = mapped_column(nullable=False)
    update_version: Mapped[int] = mapped_column(Integer, nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(200))


class UpdateCadence(Base):
    """How often an incident owes its stakeholders an internal update, and its durable timer."""

    __tablename__ = "comms_cadence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, unique=True)
    every_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    set_at: Mapped[datetime] = mapped_column(nullable=False)
    set_by: Mapped[str] = mapped_column(String(120), nullable=False)
    last_update_at: Mapped[datetime | None]
    last_reminder_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Each outbox timer key fires once; the sequence names the next one.
    timer_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

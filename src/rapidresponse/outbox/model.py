"""Outbox messages: written in the same transaction as the change they announce.

A message whose ``available_at`` lies in the future is a durable timer (a reminder, an
escalation step): it survives restarts and fires once, when due. A ``key`` names a message
so it can be rescheduled or cancelled (e.g. "escalate page 42 at step 2").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    available_at: Mapped[datetime] = mapped_column(nullable=False)
    # pending -> delivered | dead (after max attempts) | cancelled (a timer no longer needed);
    # dead messages stay visible and can be requeued by an operator: nothing is dropped.
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_due", "status", "available_at"),)

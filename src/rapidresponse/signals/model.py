"""Signal tables: accepted events (for idempotency and evidence), per-minute series counts,
the detection cursor, and alerts with their evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class SignalEvent(Base):
    """An accepted event. (source, event_id) is unique: a redelivered event is a duplicate."""

    __tablename__ = "signal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(512), nullable=False)
    event_id: Mapped[str] = mapped_column(String(256), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    harm_type: Mapped[str] = mapped_column(String(40), nullable=False)
    region: Mapped[str] = mapped_column(String(2), nullable=False)
    language: Mapped[str | None] = mapped_column(String(35))
    surface: Mapped[str | None] = mapped_column(String(20))
    content_id: Mapped[str] = mapped_column(String(256), nullable=False)
    account_id: Mapped[str | None] = mapped_column(String(256))
    series: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    event_time: Mapped[datetime] = mapped_column(nullable=False, index=True)
    late: Mapped[bool] = mapped_column(nullable=False, default=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("uq_signal_event", "source", "event_id", unique=True),)


class SeriesWindow(Base):
    """The weighted count of one series in one window (one minute by default)."""

    __tablename__ = "signal_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(320), nullable=False)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    count: Mapped[float] = mapped_column(Float, nullable=False)
    events: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        Index("uq_signal_window", "series", "window_start", unique=True),
        Index("ix_signal_window_start", "window_start"),
    )


class DetectionCursor(Base):
    """How far detection has gone: windows before ``closed_until`` are final."""

    __tablename__ = "signal_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)
    max_event_time: Mapped[datetime | None]
    closed_until: Mapped[datetime | None]
    late_events: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class Alert(Base):
    """One emerging event: the anomalous series grouped together, from open to resolution."""

    __tablename__ = "signal_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    # open -> acknowledged -> promoted | dismissed;  open -> promoted | dismissed
    status: Mapped[str] = mapped_column(String(15), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    harm_type: Mapped[str | None] = mapped_column(String(40))
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    series: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(nullable=False)
    last_seen: Mapped[datetime] = mapped_column(nullable=False)
    opened_at: Mapped[datetime] = mapped_column(nullable=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime | None]
    dismissed_by: Mapped[str | None] = mapped_column(String(120))
    dismissed_at: Mapped[datetime | None]
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    incident_key: Mapped[str | None] = mapped_column(String(20))
    promoted_by: Mapped[str | None] = mapped_column(String(120))
    promoted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class AlertEvidence(Base):
    """One anomalous window of one series that made or grew an alert."""

    __tablename__ = "signal_alert_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("signal_alert.id"), nullable=False, index=True)
    series: Mapped[str] = mapped_column(String(320), nullable=False)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    count: Mapped[float] = mapped_column(Float, nullable=False)
    expected: Mapped[float] = mapped_column(Float, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

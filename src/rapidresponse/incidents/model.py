"""Incident tables: incident, participant, task, timeline entry, and the per-year key counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class IncidentKeyCounter(Base):
    """Last number handed out per year, for human keys such as INC-2026-0042."""

    __tablename__ = "incident_key_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False)


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    harm_type: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    surfaces: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    severity: Mapped[str] = mapped_column(String(4), nullable=False, index=True)
    computed_severity: Mapped[str] = mapped_column(String(4), nullable=False)
    severity_score: Mapped[int] = mapped_column(Integer, nullable=False)
    severity_override: Mapped[str | None] = mapped_column(String(4))
    severity_override_reason: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    started_at: Mapped[datetime | None]
    detected_at: Mapped[datetime] = mapped_column(nullable=False)
    declared_at: Mapped[datetime] = mapped_column(nullable=False)
    triaged_at: Mapped[datetime | None]
    active_at: Mapped[datetime | None]
    contained_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    merged_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))

    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Participant(Base):
    __tablename__ = "incident_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False)
    user: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(40), nullable=False)
    added_at: Mapped[datetime] = mapped_column(nullable=False)
    added_by: Mapped[str] = mapped_column(String(120), nullable=False)
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("ix_participant_incident_user", "incident_id", "user"),)


class Task(Base):
    __tablename__ = "incident_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    owner: Mapped[str | None] = mapped_column(String(120))
    # The incident role that owns the task; the person is filled in when someone takes the role.
    owner_role: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    completed_at: Mapped[datetime | None]
    # The playbook step this task was planned from (None for tasks people added by hand);
    # re-planning matches on it so completed work is kept and nothing is planned twice.
    playbook_step: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_task_incident_step", "incident_id", "playbook_step"),)


class TimelineEntry(Base):
    """Append-only: rows are inserted, never updated or deleted (enforced below)."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at", "id"),)


@event.listens_for(TimelineEntry, "before_update")
@event.listens_for(TimelineEntry, "before_delete")
def _timeline_is_append_only(*_args: Any) -> None:
    raise RuntimeError("the incident timeline is append-only")

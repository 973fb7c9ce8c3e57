"""On-call tables: people, teams, schedules and their layers, overrides, escalation policies,
routing rules, pages and the notifications each page sent.

People are referred to by handle wherever a list of them is edited as a whole (a layer's
rotation order); everything else links by id. Escalation levels and routing targets are
stored as JSON documents on their owner because they are always read and replaced whole; the
service checks their references on every write.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class Person(Base):
    """Someone who can be on call: the handle is the one used on incidents and API tokens."""

    __tablename__ = "oncall_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    slack_webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class Team(Base):
    __tablename__ = "oncall_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    function: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The team's own on-call: who answers for the team now, and how it is paged by default.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("oncall_schedule.id"))
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_policy.id")
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class TeamMember(Base):
    __tablename__ = "oncall_team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_team.id", ondelete="CASCADE"), nullable=False
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_person.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (UniqueConstraint("team_id", "person_id"),)


class Schedule(Base):
    __tablename__ = "oncall_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Zone the schedule is shown in by default; each layer keeps its own zone.
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class Layer(Base):
    __tablename__ = "oncall_layer"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedule.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    participants: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    rotation_unit: Mapped[str] = mapped_column(String(8), nullable=False)
    rotation_length: Mapped[int] = mapped_column(Integer, nullable=False)
    handoff_time: Mapped[time] = mapped_column(Time, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    # [{"days": [0..6], "start": "08:00", "end": "16:00"}], local to the layer's zone.
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    covers_holidays: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    covers_weekends: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    backup_layer: Mapped[str | None] = mapped_column(String(120))
    backup_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        UniqueConstraint("schedule_id", "name"),
        UniqueConstraint("schedule_id", "position"),
    )


class Override(Base):
    """Someone covers a schedule for a while, whatever the layers say."""

    __tablename__ = "oncall_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedule.id", ondelete="CASCADE"), nullable=False
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_person.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("ix_oncall_override_window", "schedule_id", "ends_at"),)


class EscalationPolicy(Base):
    __tablename__ = "oncall_escalation_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # How many more times the whole list of levels is walked after the first pass.
    repeat: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # [{"wait_minutes": 15, "targets": [{"schedule_id": 3} | {"person_id": 7}]}]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class RoutingRule(Base):
    __tablename__ = "oncall_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    harm_types: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    min_severity: Mapped[str] = mapped_column(String(4), nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    team_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False)
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_policy.id")
    )
    stop: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class Page(Base):
    """One page walking an escalation policy until someone acknowledges it."""

    __tablename__ = "oncall_page"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_key: Mapped[str | None] = mapped_column(String(20), index=True)
    escalation_policy_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_escalation_policy.id"), nullable=False
    )
    # "incident:<key>:policy:<id>" for pages raised by routing: one page per incident and
    # policy however often the incident is re-planned. Null for pages raised by hand.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(String(500), nullable=False)
    severity: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The policy as it was when the page was raised: editing a policy never reroutes a page
    # already walking it.
    policy_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    next_escalation_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    exhausted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class PageNotification(Base):
    """Who was notified of a page, at which step, over which channel (and its delivery)."""

    __tablename__ = "oncall_page_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("oncall_page.id"), nullable=False, index=True)
    person: Mapped[str] = mapped_column(String(120), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    channel: Mapped[str] = mapped_column(String(12), nullable=False)
    target: Mapped[str | None] = mapped_column(String(2000))
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(200), nullable=False)
    # Why nothing could be queued for this channel (the page goes on to the other channels).
    error: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (
        UniqueConstraint(
            "page_id",
            "level",
            "round",
            "person",
            "channel",
            name="uq_oncall_page_notification_step",
        ),
    )

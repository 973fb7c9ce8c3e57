"""Compliance tables: recorded triggers, the obligations they create, statements, report drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class ComplianceTrigger(Base):
    """A legally relevant fact with its time: an order received, CSAM confirmed, a threat to life.

    ``regions`` are where it applies (an order's issuing jurisdiction, or the incident's regions).
    """

    __tablename__ = "compliance_trigger"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    reference: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Set when an enforcement action recorded it (DSA statements of reasons).
    action_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(120), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)


class Obligation(Base):
    """One duty from the rulebook for one trigger: due when, done when, with what evidence."""

    __tablename__ = "compliance_obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    trigger_id: Mapped[int] = mapped_column(ForeignKey("compliance_trigger.id"), nullable=False)
    rule_id: Mapped[str] = mapped_column(String(80), nullable=False)
    rule_checked: Mapped[str] = mapped_column(String(10), nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    basis: Mapped[str] = mapped_column(String(20), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    warn_at: Mapped[datetime] = mapped_column(nullable=False)
    retain_until: Mapped[datetime | None]
    # open -> met | waived
    status: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(120))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    waived_reason: Mapped[str | None] = mapped_column(Text)
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("uq_compliance_obligation", "trigger_id", "rule_id", unique=True),)


class StatementOfReasons(Base):
    """A DSA Art. 17 statement for one item of one action, as the transparency database takes it."""

    __tablename__ = "compliance_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    action_id: Mapped[int] = mapped_column(Integer, nullable=False)
    puid: Mapped[str] = mapped_column(String(500), nullable=False)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    errors: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("uq_compliance_statement", "action_id", "puid", unique=True),)


class ReportDraft(Base):
    """A report a person must review and submit themselves (NCMEC, law enforcement)."""

    __tablename__ = "compliance_report_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    obligation_id: Mapped[int] = mapped_column(
        ForeignKey("compliance_obligation.id"), nullable=False, unique=True
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # draft -> reviewed -> submitted (recorded by the person who submitted it)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    submitted_at: Mapped[datetime | None]
    submission_reference: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

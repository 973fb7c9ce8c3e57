"""Enforcement tables: an incident's content cluster, bulk actions and each item's outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class ContentItem(Base):
    """A piece of content, an account or a key (hashtag, sound, search term) in a cluster.

    ``regions`` are where the item is seen (ISO codes; empty: everywhere). ``restrictions``
    lists the actions in force on it with their regions (see enforcement.actions).
    """

    __tablename__ = "enforcement_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(500), nullable=False)
    account_id: Mapped[str | None] = mapped_column(String(200))
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    keys: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    language: Mapped[str | None] = mapped_column(String(20))
    views: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    posted_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(30), nullable=False)
    automated_detection: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    added_at: Mapped[datetime] = mapped_column(nullable=False)
    added_by: Mapped[str] = mapped_column(String(120), nullable=False)

    __table_args__ = (
        Index("uq_enforcement_item_external", "incident_id", "subject", "external_id", unique=True),
        Index("ix_enforcement_item_account", "incident_id", "account_id"),
    )


class EnforcementAction(Base):
    """One containment action over a set of items, from dry run to done (or rolled back).

    The set is fixed when the action is planned (the rows in ``enforcement_action_item``),
    so what an approver saw in the blast radius is exactly what runs.
    """

    __tablename__ = "enforcement_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(30), nullable=False)
    selector: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    policy_section: Mapped[str] = mapped_column(String(20), nullable=False)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    ground: Mapped[str] = mapped_column(String(20), nullable=False)
    legal_ground: Mapped[str | None] = mapped_column(String(500))
    explanation: Mapped[str] = mapped_column(Text, nullable=False)
    automated_decision: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # planned -> (awaiting_approval -> approved ->) running -> completed
    #   -> rolling_back -> rolled_back;  planned/awaiting_approval/approved -> cancelled
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, nullable=False)
    approval_threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    blast_radius: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    applied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reverted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    statements: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requested_by: Mapped[str] = mapped_column(String(120), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    rollback_by: Mapped[str | None] = mapped_column(String(120))
    rollback_reason: Mapped[str | None] = mapped_column(Text)
    rollback_at: Mapped[datetime | None]
    rolled_back_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(120))
    cancelled_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}


class ActionItem(Base):
    """One item of an action and its outcome; the unique pair is what stops double-acting."""

    __tablename__ = "enforcement_action_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_action.id"), nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_item.id"), nullable=False)
    # pending -> applied | unchanged | skipped;  applied -> reverted
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    acted_at: Mapped[datetime | None]
    reverted_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_enforcement_action_item", "action_id", "item_id", unique=True),
        Index("ix_enforcement_action_item_outcome", "action_id", "outcome"),
    )

"""The plan applied to each incident: which playbook (and version), at which severity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rapidresponse.db import Base


class IncidentPlan(Base):
    __tablename__ = "incident_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), nullable=False, unique=True)
    playbook_id: Mapped[str] = mapped_column(String(80), nullable=False)
    playbook_version: Mapped[int] = mapped_column(Integer, nullable=False)
    severity: Mapped[str] = mapped_column(String(4), nullable=False)
    harm_type: Mapped[str] = mapped_column(String(40), nullable=False)
    cadence_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    # Step id -> ids of the steps it waits for (for "blocked" in next actions).
    dependencies: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    open_roles: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    engaged_functions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    planned_at: Mapped[datetime] = mapped_column(nullable=False)
    replans: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

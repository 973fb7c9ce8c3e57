"""Compliance inputs and outputs: triggers, obligations, statements of reasons, report drafts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from rapidresponse.compliance.rulebook import TriggerKind
from rapidresponse.incidents.schemas import UTC, Regions, Strict

Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class TriggerIn(Strict):
    kind: TriggerKind
    occurred_at: UTC | None = Field(
        default=None, description="When it happened (an order's receipt time); default: now"
    )
    regions: Regions = Field(
        default_factory=list,
        description="Where it applies (an order's issuing country); default: the incident's "
        "regions",
    )
    reference: str = Field(default="", max_length=300, description="Order or case reference")
    details: str = Field(default="", max_length=4000)


class TriggerOut(BaseModel):
    id: int
    incident: str
    kind: TriggerKind
    occurred_at: datetime
    regions: list[str]
    reference: str
    details: str
    action_id: int | None
    recorded_by: str
    recorded_at: datetime
    obligations: list[int]


class EvidenceIn(Strict):
    text: str = Field(min_length=3, max_length=4000, description="What was done, by whom")
    references: list[Reference] = Field(
        default_factory=list, max_length=20, description="Report ids, ticket numbers, links"
    )
    done_at: UTC | None = Field(default=None, description="When it was done; default: now")
    version: int | None = None


class WaiveIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)
    version: int | None = None


class ObligationOut(BaseModel):
    id: int
    incident: str
    rule_id: str
    title: str
    obligation: str
    kind: str
    jurisdiction: str
    instrument: str
    citation: str
    source_url: str
    rule_status: str = Field(description="in_force, or to_confirm: Legal must confirm the clock")
    status_note: str
    last_checked: date
    regions: list[str]
    trigger_id: int
    trigger_kind: TriggerKind
    triggered_at: datetime
    basis: str = Field(description="statutory deadline, or internal_target where the law sets none")
    law_says: str
    due_at: datetime
    warn_at: datetime
    state: str = Field(description="open, due_soon, breached, met, met_late or waived")
    seconds_left: int
    retain_until: datetime | None
    evidence_required: list[str]
    status: str
    done_at: datetime | None
    done_by: str | None
    evidence: dict[str, Any]
    waived_reason: str | None
    warned_at: datetime | None
    breached_at: datetime | None
    report_draft: int | None
    version: int


class StatementOut(BaseModel):
    id: int
    action_id: int
    puid: str
    valid: bool
    errors: list[str]
    record: dict[str, Any]
    created_at: datetime


class StatementPage(BaseModel):
    items: list[StatementOut]
    total: int
    valid: int
    invalid: int


class ReportOut(BaseModel):
    id: int
    incident: str
    obligation_id: int
    kind: str
    status: str
    content: dict[str, Any]
    markdown: str
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    submitted_by: str | None
    submitted_at: datetime | None
    submission_reference: str | None
    version: int


class ReportEditIn(Strict):
    content: dict[str, Any] = Field(description="The whole draft as the reviewer corrected it")
    version: int | None = None


class ReviewIn(Strict):
    version: int | None = None


class SubmissionIn(Strict):
    reference: Reference = Field(description="The receipt the recipient gave (e.g. report id)")
    submitted_at: UTC | None = Field(
        default=None, description="When it was submitted; default: now"
    )
    version: int | None = None

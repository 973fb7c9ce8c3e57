"""API shapes for playbooks, plans and next actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from rapidresponse.incidents.schemas import ParticipantRole
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType


class PlaybookSummary(BaseModel):
    id: str
    version: int
    harm_type: HarmType
    title: str
    reviewed: str
    tasks: int
    tasks_by_severity: dict[str, int]


class PlannedTaskOut(BaseModel):
    step: str
    title: str
    owner_role: ParticipantRole
    due_at: datetime
    category: str
    after: list[str]


class PlanOut(BaseModel):
    playbook_id: str
    playbook_version: int
    severity: Severity
    cadence: str
    new_tasks: list[PlannedTaskOut]
    kept_steps: list[str]
    no_longer_applicable: list[str]
    roles_needed: list[dict[str, Any]]
    open_roles: list[str]
    escalations: list[dict[str, Any]]
    containment: list[dict[str, Any]]
    regulatory: list[dict[str, Any]]
    exit_criteria: list[str]


class IncidentPlanOut(BaseModel):
    incident: str
    playbook_id: str
    playbook_version: int
    severity: Severity
    cadence: str
    open_roles: list[str]
    engaged_functions: list[str]
    planned_at: datetime
    replans: int


class ActionItemOut(BaseModel):
    kind: str
    incident: str
    severity: Severity
    title: str
    due_at: datetime | None
    owner: str | None
    task_id: int | None
    detail: str


class NextActionsOut(BaseModel):
    now: datetime
    overdue: list[ActionItemOut]
    due_soon: list[ActionItemOut]
    blocked: list[ActionItemOut]
    open_roles: list[ActionItemOut]
    updates_due: list[ActionItemOut]

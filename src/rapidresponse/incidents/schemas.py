"""Pydantic shapes of incident requests and responses; all validation of user input is here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rapidresponse.clock import ensure_utc
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.severity import PressAttention, RegulatoryExposure, Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import (
    MAX_LIST,
    Surface,
    normalise_language,
    normalise_region,
    normalise_tag,
    unique,
)
from rapidresponse.inputs import Input

MAX_TITLE = 200
MAX_SUMMARY = 20_000
MAX_NOTE = 20_000
MAX_REASON = 2_000

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Handle = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.@:+\-]+$"
    ),
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_REASON)
]
UTC = Annotated[datetime, AfterValidator(ensure_utc)]


def _regions(values: list[str]) -> list[str]:
    return unique([normalise_region(v) for v in values])


def _languages(values: list[str]) -> list[str]:
    return unique([normalise_language(v) for v in values])


def _tags(values: list[str]) -> list[str]:
    return unique([normalise_tag(v) for v in values])


Regions = Annotated[list[str], Field(max_length=MAX_LIST), AfterValidator(_regions)]
Languages = Annotated[list[str], Field(max_length=MAX_LIST), AfterValidator(_languages)]
Tags = Annotated[list[str], Field(max_length=50), AfterValidator(_tags)]
Surfaces = Annotated[list[Surface], Field(max_length=len(Surface))]


class ParticipantRole(StrEnum):
    INCIDENT_COMMANDER = "incident_commander"
    DEPUTY = "deputy"
    SCRIBE = "scribe"
    COMMUNICATIONS = "communications"
    POLICY = "policy"
    LEGAL = "legal"
    PRODUCT = "product"
    ENGINEERING = "engineering"
    TS_OPERATIONS = "ts_operations"
    REGIONAL_EXPERT = "regional_expert"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


class TimelineKind(StrEnum):
    DECLARED = "declared"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    SEVERITY_OVERRIDDEN = "severity_overridden"
    PARTICIPANT_ADDED = "participant_added"
    PARTICIPANT_REMOVED = "participant_removed"
    TASK_ADDED = "task_added"
    TASK_UPDATED = "task_updated"
    NOTE = "note"
    DECISION = "decision"
    # Written by other domains through incidents.service.record_event:
    PLAYBOOK_PLANNED = "playbook_planned"
    PAGE = "page"
    COMMUNICATION = "communication"
    REMINDER = "reminder"
    CONTAINMENT = "containment"
    COMPLIANCE = "compliance"


class Strict(Input):
    """Incident inputs: unknown fields and NUL characters are rejected (see inputs.Input)."""


# Fields a PATCH may explicitly set to null (to clear them); any other null is an error.
_NULLABLE_INCIDENT_FIELDS = {"started_at", "version"}


def _reject_nulls(patch: BaseModel, nullable: set[str]) -> None:
    nulls = sorted(
        name
        for name in patch.model_fields_set
        if getattr(patch, name) is None and name not in nullable
    )
    if nulls:
        raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep its value")


class ImpactIn(Strict):
    """Impact factors people estimate; severity is computed from them."""

    views: int = Field(
        default=0, ge=0, le=10**12, description="Views of the harmful content so far"
    )
    views_per_hour: int = Field(default=0, ge=0, le=10**11, description="Current view velocity")
    minors_involved: bool = False
    regulatory_exposure: RegulatoryExposure = RegulatoryExposure.NONE
    press_attention: PressAttention = PressAttention.NONE


class ImpactPatch(Strict):
    views: int | None = Field(default=None, ge=0, le=10**12)
    views_per_hour: int | None = Field(default=None, ge=0, le=10**11)
    minors_involved: bool | None = None
    regulatory_exposure: RegulatoryExposure | None = None
    press_attention: PressAttention | None = None


class IncidentCreate(Strict):
    title: Title
    summary: str = Field(default="", max_length=MAX_SUMMARY)
    harm_type: HarmType
    regions: Regions = Field(min_length=1)
    languages: Languages = Field(default_factory=list)
    surfaces: Surfaces = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)
    impact: ImpactIn = Field(default_factory=ImpactIn)
    restricted: bool | None = Field(
        default=None, description="Need-to-know; defaults to the harm type's rule (CSE: yes)"
    )
    started_at: UTC | None = Field(default=None, description="When the harm began, if known")
    detected_at: UTC | None = Field(default=None, description="When it was detected (default: now)")
    commander: Handle | None = Field(
        default=None, description="Incident commander (default: the declarer)"
    )


class IncidentPatch(Strict):
    title: Title | None = None
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    harm_type: HarmType | None = None
    regions: Regions | None = None
    languages: Languages | None = None
    surfaces: Surfaces | None = None
    tags: Tags | None = None
    impact: ImpactPatch | None = None
    restricted: bool | None = None
    started_at: UTC | None = None
    version: int | None = Field(
        default=None, ge=1, description="Expected version (alternative to If-Match)"
    )

    @field_validator("regions")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an incident affects at least one region")
        return value

    @model_validator(mode="after")
    def _no_null_for_required(self) -> IncidentPatch:
        _reject_nulls(self, _NULLABLE_INCIDENT_FIELDS)
        return self


class TransitionIn(Strict):
    to: Status
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    merged_into: str | None = Field(default=None, description="Key of the surviving incident")
    version: int | None = Field(default=None, ge=1)


class SeverityOverrideIn(Strict):
    override: Severity | None = Field(description="The severity to impose, or null to clear")
    reason: Reason
    version: int | None = Field(default=None, ge=1)


class NoteIn(Strict):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NOTE)
    ]
    decision: bool = Field(default=False, description="Record as a decision rather than a note")


class ParticipantIn(Strict):
    user: Handle
    role: ParticipantRole


class TaskCreate(Strict):
    title: Title
    description: str = Field(default="", max_length=MAX_SUMMARY)
    owner: Handle | None = None
    owner_role: ParticipantRole | None = Field(
        default=None, description="Role that owns it; its holder becomes the owner"
    )
    due_at: UTC | None = None


class TaskPatch(Strict):
    """Omitted fields stay as they are; ``owner`` and ``due_at`` may be set to null to clear."""

    title: Title | None = None
    description: str | None = Field(default=None, max_length=MAX_SUMMARY)
    owner: Handle | None = None
    due_at: UTC | None = None
    status: TaskStatus | None = None
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> TaskPatch:
        _reject_nulls(self, {"owner", "due_at", "version"})
        return self


class SeverityOut(BaseModel):
    level: Severity
    computed: Severity
    score: int
    points: dict[str, int]
    explanation: str
    override: Severity | None
    override_reason: str | None


class TimesOut(BaseModel):
    started_at: datetime | None
    detected_at: datetime
    declared_at: datetime
    triaged_at: datetime | None
    active_at: datetime | None
    contained_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    declined_at: datetime | None
    merged_at: datetime | None
    time_to_detect_s: float | None
    time_to_acknowledge_s: float | None
    time_to_contain_s: float | None
    time_to_resolve_s: float | None


class ParticipantOut(BaseModel):
    id: int
    user: str
    role: ParticipantRole
    added_at: datetime
    added_by: str
    removed_at: datetime | None


class TaskOut(BaseModel):
    id: int
    title: str
    description: str
    owner: str | None
    owner_role: ParticipantRole | None = None
    due_at: datetime | None
    status: TaskStatus
    overdue: bool
    created_at: datetime
    created_by: str
    completed_at: datetime | None
    playbook_step: str | None = None
    version: int


class TimelineOut(BaseModel):
    id: int
    at: datetime
    actor: str
    kind: TimelineKind
    text: str
    data: dict[str, Any]


class IncidentOut(BaseModel):
    key: str
    title: str
    summary: str
    harm_type: HarmType
    dsa_category: str
    regions: list[str]
    languages: list[str]
    surfaces: list[str]
    tags: list[str]
    restricted: bool
    status: Status
    severity: SeverityOut
    impact: dict[str, Any]
    times: TimesOut
    merged_into: str | None
    created_by: str
    updated_at: datetime
    version: int


class IncidentSummaryOut(BaseModel):
    key: str
    title: str
    harm_type: HarmType
    severity: Severity
    status: Status
    regions: list[str]
    restricted: bool
    detected_at: datetime
    updated_at: datetime
    version: int


class IncidentPage(BaseModel):
    items: list[IncidentSummaryOut]
    total: int
    limit: int
    offset: int

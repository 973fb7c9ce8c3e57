"""Pydantic shapes of on-call requests and responses; all validation of user input is here.

Every error names the field and says what is expected: a bad time zone suggests the IANA
name, a layer naming an unknown backup says which layers exist, and so on.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rapidresponse.clock import ensure_utc
from rapidresponse.comms.channels import Channel as CommsChannel
from rapidresponse.comms.channels import normalise_target
from rapidresponse.incidents.schemas import Handle
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import REGION_GROUPS, normalise_region
from rapidresponse.inputs import Input
from rapidresponse.oncall import days_off
from rapidresponse.oncall.coverage import WEEKDAYS, Source
from rapidresponse.oncall.escalation import PageStatus
from rapidresponse.oncall.rotation import RotationUnit
from rapidresponse.oncall.zones import zone

SLUG_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
HANDLE_PATTERN = r"^[A-Za-z0-9_.@:+\-]+$"
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 1, 1)

Slug = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=SLUG_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LayerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(max_length=5000)]


def _zone(name: str) -> str:
    zone(name)
    return name


def _email(value: str) -> str:
    # The comms domain's own check: an address accepted here is one it will deliver to.
    return normalise_target(CommsChannel.EMAIL, value)


def _url(value: str) -> str:
    return normalise_target(CommsChannel.WEBHOOK, value)


def _in_range(day: date) -> date:
    if not EARLIEST <= day < LATEST:
        raise ValueError(f"{day} is outside {EARLIEST}..{LATEST}")
    return day


def _instant(value: datetime) -> datetime:
    """Aware, in UTC, between 2000 and 2100 (arithmetic on it can never overflow)."""
    try:
        value = ensure_utc(value)
    except OverflowError:
        raise ValueError(f"{value} is outside 2000..2100") from None
    _in_range(value.date())
    return value


TimeZone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_zone),
]
Email = Annotated[str, AfterValidator(_email)]
Url = Annotated[str, AfterValidator(_url)]
Day = Annotated[date, AfterValidator(_in_range)]
Instant = Annotated[datetime, AfterValidator(_instant)]


class Strict(Input):
    """On-call inputs: unknown fields and NUL characters are refused (see inputs.Input)."""


class Patch(Strict):
    """A partial update: omitted fields keep their value; only ``CLEARABLE`` ones take null."""

    CLEARABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _nulls(self) -> Patch:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.CLEARABLE
        )
        if nulls:
            raise ValueError(
                f"{', '.join(nulls)} cannot be null; leave a field out to keep its value"
            )
        return self


class TeamFunction(StrEnum):
    TRUST_SAFETY = "trust_safety"
    PR = "pr"
    PUBLIC_POLICY = "public_policy"
    LEGAL = "legal"
    PRODUCT = "product"
    ENGINEERING = "engineering"
    REGIONAL_EXPERT = "regional_expert"
    EXECUTIVE = "executive"


class Channel(StrEnum):
    """How a person is reached; the values are the comms domain's delivery channels."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"
    NONE = "none"  # nobody to send to: recorded so the gap is visible


# ---------------------------------------------------------------- people


class PersonCreate(Strict):
    handle: Handle = Field(description="Same handle as on incidents and API tokens")
    name: Name
    email: Email | None = None
    timezone: TimeZone = Field(description="IANA time zone, e.g. Europe/Dublin")
    slack_webhook_url: Url | None = Field(
        default=None, description="Slack-compatible incoming webhook for this person"
    )
    webhook_url: Url | None = Field(default=None, description="Webhook that pages this person")
    active: bool = True


class PersonPatch(Patch):
    CLEARABLE = frozenset({"email", "slack_webhook_url", "webhook_url"})
    name: Name | None = None
    email: Email | None = None
    timezone: TimeZone | None = None
    slack_webhook_url: Url | None = None
    webhook_url: Url | None = None
    active: bool | None = None


class PersonOut(BaseModel):
    id: int
    handle: str
    name: str
    email: str | None
    timezone: str
    slack_webhook_url: str | None = Field(description="Shown to incident managers and admins")
    webhook_url: str | None = Field(description="Shown to incident managers and admins")
    active: bool
    teams: list[str]
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- teams


class TeamCreate(Strict):
    slug: Slug
    name: Name
    function: TeamFunction
    description: Description = ""
    members: list[Handle] = Field(default_factory=list, max_length=500)
    schedule: Slug | None = Field(default=None, description="The team's on-call schedule")
    escalation_policy: Slug | None = Field(
        default=None, description="How the team is paged when a rule names no policy"
    )


class TeamPatch(Patch):
    CLEARABLE = frozenset({"schedule", "escalation_policy"})
    name: Name | None = None
    function: TeamFunction | None = None
    description: Description | None = None
    members: list[Handle] | None = Field(default=None, max_length=500)
    schedule: Slug | None = None
    escalation_policy: Slug | None = None


class TeamOut(BaseModel):
    id: int
    slug: str
    name: str
    function: TeamFunction
    description: str
    members: list[str]
    schedule: str | None
    escalation_policy: str | None
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- schedules


Weekday = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_SETS = {
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "daily": (0, 1, 2, 3, 4, 5, 6),
}


class WindowIn(Strict):
    """Local hours a layer covers; ``end`` at or before ``start`` runs past midnight."""

    days: list[Weekday] = Field(
        default_factory=lambda: ["daily"],
        max_length=7,
        description="mon..sun, or weekdays / weekends / daily",
    )
    start: time
    end: time

    @field_validator("days")
    @classmethod
    def _days(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            if value in WEEKDAY_SETS:
                out.extend(WEEKDAYS[d] for d in WEEKDAY_SETS[value])
            elif value in WEEKDAYS or value in FULL_WEEKDAYS:
                out.append(value[:3])
            else:
                raise ValueError(f"{value!r} is not a weekday (mon..sun, weekdays, weekends)")
        if not out:
            raise ValueError("a window covers at least one day")
        return sorted(set(out), key=WEEKDAYS.index)

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give local wall-clock time without an offset (e.g. 08:00)")
        return value.replace(second=0, microsecond=0)


class LayerIn(Strict):
    name: LayerName
    position: int = Field(
        ge=-1000, le=1000, description="Higher layers override lower ones where they cover"
    )
    participants: list[Handle] = Field(min_length=1, max_length=200)
    rotation_unit: RotationUnit = RotationUnit.DAYS
    rotation_length: int = Field(default=1, ge=1, le=8760)
    handoff_time: time = Field(default=time(9, 0), description="Local time of each handoff")
    timezone: TimeZone
    starts_on: Day = Field(description="Local date of the first handoff")
    restrictions: list[WindowIn] = Field(
        default_factory=list, max_length=14, description="Hours covered; empty means 24/7"
    )
    holiday_country: str | None = Field(
        default=None, description="ISO 3166-1 country whose public holidays and weekend apply"
    )
    holiday_subdivision: Annotated[str, StringConstraints(max_length=10)] | None = None
    covers_holidays: bool = True
    covers_weekends: bool = True
    backup_layer: LayerName | None = Field(
        default=None, description="Layer that covers when this one is off (holiday, weekend)"
    )
    backup_only: bool = Field(
        default=False, description="Only ever covers as another layer's backup"
    )

    @field_validator("handoff_time")
    @classmethod
    def _handoff(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give local wall-clock time without an offset (e.g. 09:00)")
        return value.replace(second=0, microsecond=0)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else normalise_region(value)

    @model_validator(mode="after")
    def _consistent(self) -> LayerIn:
        if self.rotation_unit is not RotationUnit.HOURS and self.rotation_length > 366:
            raise ValueError("rotation_length: at most 366 days or weeks")
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs holiday_country")
        if self.holiday_country:
            days_off.check_country(self.holiday_country, self.holiday_subdivision or None)
        if not self.covers_holidays and not self.holiday_country:
            raise ValueError(
                f"layer {self.name!r} does not cover public holidays: say whose "
                "(holiday_country, e.g. IE)"
            )
        if self.backup_layer == self.name:
            raise ValueError(f"layer {self.name!r} cannot be its own backup")
        return self


def _check_layers(layers: list[LayerIn]) -> list[LayerIn]:
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError("layer names must be unique within a schedule")
    positions = [layer.position for layer in layers]
    if len(set(positions)) != len(positions):
        raise ValueError("layer positions must be unique: they decide which layer wins")
    for layer in layers:
        if layer.backup_layer is not None and layer.backup_layer not in names:
            raise ValueError(
                f"layer {layer.name!r}: backup_layer {layer.backup_layer!r} is not a layer of "
                f"this schedule ({', '.join(names)})"
            )
    return layers


Layers = Annotated[list[LayerIn], Field(min_length=1, max_length=20), AfterValidator(_check_layers)]


class ScheduleCreate(Strict):
    slug: Slug
    name: Name
    description: Description = ""
    timezone: TimeZone = Field(default="UTC", description="Zone the schedule is shown in")
    layers: Layers


class SchedulePatch(Patch):
    name: Name | None = None
    description: Description | None = None
    timezone: TimeZone | None = None
    layers: Layers | None = Field(default=None, description="Replaces every layer")


class WindowOut(BaseModel):
    days: list[str]
    start: time
    end: time


class LayerOut(BaseModel):
    name: str
    position: int
    participants: list[str]
    rotation_unit: RotationUnit
    rotation_length: int
    handoff_time: time
    timezone: str
    starts_on: date
    restrictions: list[WindowOut]
    holiday_country: str | None
    holiday_subdivision: str | None
    covers_holidays: bool
    covers_weekends: bool
    backup_layer: str | None
    backup_only: bool


class ScheduleOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    timezone: str
    layers: list[LayerOut]
    teams: list[str]
    created_at: datetime
    updated_at: datetime


class OnCallOut(BaseModel):
    schedule: str
    at: datetime
    person: str | None
    name: str | None
    layer: str | None
    source: Source
    reason: str
    until: datetime | None = Field(description="When this person's stretch ends (if within 8 days)")


class SegmentOut(BaseModel):
    start: datetime
    end: datetime
    person: str | None
    layer: str | None
    source: Source
    reason: str


class FinalScheduleOut(BaseModel):
    schedule: str
    start: datetime
    end: datetime
    segments: list[SegmentOut]
    uncovered_seconds: float = Field(description="Time nobody covers within the window")


class HandoffOut(BaseModel):
    at: datetime
    from_person: str | None
    to_person: str | None
    from_layer: str | None
    to_layer: str | None
    reason: str


class ShiftOut(SegmentOut):
    schedule: str


# ---------------------------------------------------------------- overrides


class OverrideCreate(Strict):
    schedule: Slug
    person: Handle
    starts_at: Instant
    ends_at: Instant
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""

    @model_validator(mode="after")
    def _order(self) -> OverrideCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days > 366:
            raise ValueError("an override lasts at most 366 days; change the rotation instead")
        return self


class OverrideOut(BaseModel):
    id: int
    schedule: str
    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime


# ---------------------------------------------------------------- escalation policies


class TargetIn(Strict):
    """Exactly one of: a schedule (whoever is on call then) or a person."""

    schedule: Slug | None = None
    person: Handle | None = None

    @model_validator(mode="after")
    def _one(self) -> TargetIn:
        if (self.schedule is None) == (self.person is None):
            raise ValueError("a target is either a schedule or a person")
        return self


class LevelIn(Strict):
    wait_minutes: int = Field(
        default=15, ge=1, le=1440, description="Minutes unacknowledged before the next level"
    )
    targets: list[TargetIn] = Field(min_length=1, max_length=20)


class PolicyCreate(Strict):
    slug: Slug
    name: Name
    description: Description = ""
    repeat: int = Field(default=0, ge=0, le=10, description="Times to repeat all levels")
    levels: list[LevelIn] = Field(min_length=1, max_length=10)


class PolicyPatch(Patch):
    name: Name | None = None
    description: Description | None = None
    repeat: int | None = Field(default=None, ge=0, le=10)
    levels: list[LevelIn] | None = Field(default=None, min_length=1, max_length=10)


class TargetOut(BaseModel):
    kind: str
    ref: str


class LevelOut(BaseModel):
    wait_minutes: int
    targets: list[TargetOut]


class PolicyOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    repeat: int
    levels: list[LevelOut]
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- routing


def normalise_rule_regions(values: list[str]) -> list[str]:
    out = []
    for value in values:
        upper = value.strip().upper()
        out.append(upper if upper in REGION_GROUPS else normalise_region(value))
    return list(dict.fromkeys(out))


RuleRegions = Annotated[list[str], Field(max_length=300), AfterValidator(normalise_rule_regions)]


class RuleCreate(Strict):
    name: Name
    position: int = Field(default=0, ge=-10000, le=10000, description="Lower runs first")
    harm_types: list[HarmType] = Field(default_factory=list, description="Empty: any")
    min_severity: Severity = Field(
        default=Severity.SEV3, description="Matches this severity or worse (SEV3: all)"
    )
    regions: RuleRegions = Field(
        default_factory=list, description="ISO 3166-1 codes or EU/EEA; empty: any"
    )
    teams: list[Slug] = Field(default_factory=list, max_length=50)
    escalation_policy: Slug | None = None
    stop: bool = Field(default=False, description="Later rules are skipped when this matches")
    enabled: bool = True

    @model_validator(mode="after")
    def _engages_someone(self) -> RuleCreate:
        if not self.teams and not self.escalation_policy:
            raise ValueError("a rule engages at least one team or an escalation policy")
        return self


class RulePatch(Patch):
    CLEARABLE = frozenset({"escalation_policy"})
    name: Name | None = None
    position: int | None = Field(default=None, ge=-10000, le=10000)
    harm_types: list[HarmType] | None = None
    min_severity: Severity | None = None
    regions: RuleRegions | None = None
    teams: list[Slug] | None = Field(default=None, max_length=50)
    escalation_policy: Slug | None = None
    stop: bool | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: int
    name: str
    position: int
    harm_types: list[HarmType]
    min_severity: Severity
    regions: list[str]
    teams: list[str]
    escalation_policy: str | None
    stop: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class Responder(BaseModel):
    person: str
    name: str
    via: str


class EngagementOut(BaseModel):
    team: str | None
    escalation_policy: str | None
    rules: list[str]
    reasons: list[str]
    first_responders: list[Responder] = Field(
        description="Who the policy's first level would notify at that moment"
    )


class RoutingPreviewOut(BaseModel):
    harm_type: HarmType
    severity: Severity
    regions: list[str]
    at: datetime
    engagements: list[EngagementOut]


# ---------------------------------------------------------------- pages


class PageCreate(Strict):
    escalation_policy: Slug
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    severity: Severity | None = None
    incident_key: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )


class PageActionIn(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class NotificationOut(BaseModel):
    person: str
    level: int
    round: int
    channel: Channel
    delivery_id: int | None
    via: str
    error: str | None = None
    notified_at: datetime


class PageOut(BaseModel):
    id: int
    incident_key: str | None
    escalation_policy: str
    summary: str
    severity: Severity | None
    status: PageStatus
    level: int
    round: int
    created_at: datetime
    created_by: str
    next_escalation_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    exhausted_at: datetime | None
    notifications: list[NotificationOut]


class PageRef(BaseModel):
    page_id: int
    escalation_policy: str
    status: PageStatus
    created: bool = Field(description="False when this incident had already paged the policy")


class EngageOut(BaseModel):
    incident_key: str
    harm_type: HarmType
    severity: Severity
    regions: list[str]
    engagements: list[EngagementOut]
    pages: list[PageRef]

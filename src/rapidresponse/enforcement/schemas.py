"""Enforcement inputs and outputs: content items, bulk actions, their progress and outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from rapidresponse.compliance.statements import Ground
from rapidresponse.enforcement.actions import Subject
from rapidresponse.incidents.schemas import UTC, Regions, Strict
from rapidresponse.incidents.validation import normalise_language
from rapidresponse.playbooks.schema import ContainmentAction

# The DSA transparency database takes platform ids of [A-Za-z0-9-_] up to 500 characters as a
# statement's puid; refusing other ids at intake means every accepted item can get a valid
# statement later, instead of failing in the middle of a bulk action.
PlatformId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,500}$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,200}$")]
MAX_ITEMS_PER_REQUEST = 10_000
MAX_VIEWS = 10**13


def _keys(values: list[str]) -> list[str]:
    """Hashtags, sounds and terms compared as people type them: trimmed and case-folded."""
    out: list[str] = []
    for value in values:
        key = " ".join(value.split()).casefold()
        if not key or len(key) > 100 or key == "#":
            raise ValueError(
                f"{value!r}: keys are hashtags (#name), sound ids or search terms of 1-100 "
                "characters"
            )
        if key not in out:
            out.append(key)
    return out


def _language(value: str | None) -> str | None:
    return None if value is None else normalise_language(value)


class ItemSource(StrEnum):
    """How an item came to the team's attention (it decides the DSA ``source_type``)."""

    USER_REPORT = "user_report"
    TRUSTED_FLAGGER = "trusted_flagger"
    CLASSIFIER = "classifier"
    HASH_MATCH = "hash_match"
    PROACTIVE_REVIEW = "proactive_review"
    PARTNER = "partner"
    LAW_ENFORCEMENT = "law_enforcement"
    AUTHORITY_ORDER = "authority_order"


class AutomatedDecision(StrEnum):
    FULLY = "AUTOMATED_DECISION_FULLY"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


class ItemIn(Strict):
    subject: Subject = Subject.VIDEO
    external_id: PlatformId = Field(description="The platform's id of the item (the DSA puid)")
    account_id: AccountId | None = Field(default=None, description="The account that posted it")
    regions: Regions = Field(
        default_factory=list, description="Where it is seen (ISO 3166-1); empty: everywhere"
    )
    keys: Annotated[list[str], Field(max_length=50), AfterValidator(_keys)] = Field(
        default_factory=list, description="Hashtags (#name), sound ids, search terms, cluster ids"
    )
    language: Annotated[str | None, AfterValidator(_language)] = None
    views: int = Field(default=0, ge=0, le=MAX_VIEWS)
    posted_at: UTC | None = None
    source: ItemSource = ItemSource.PROACTIVE_REVIEW
    automated_detection: bool = False


class ItemsIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)


class ItemsAdded(BaseModel):
    added: int
    updated: int
    total: int = Field(description="Items in the incident's cluster now")


class ItemOut(BaseModel):
    id: int
    subject: Subject
    external_id: str
    account_id: str | None
    regions: list[str]
    keys: list[str]
    language: str | None
    views: int
    posted_at: datetime | None
    source: ItemSource
    automated_detection: bool
    restrictions: list[dict[str, Any]]
    state: dict[str, Any]
    added_at: datetime
    added_by: str


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


class Selector(Strict):
    """Which items of the incident's cluster an action covers."""

    scope: Literal["cluster", "key", "account", "items"] = Field(
        description="cluster: every item; key: items carrying a hashtag/sound/term (and the key "
        "itself); account: one account and its items; items: listed platform ids"
    )
    key: str | None = Field(default=None, max_length=101)
    account_id: AccountId | None = None
    external_ids: list[PlatformId] = Field(default_factory=list, max_length=MAX_ITEMS_PER_REQUEST)
    subjects: list[Subject] = Field(
        default_factory=list, max_length=len(Subject), description="Only items of these kinds"
    )

    @model_validator(mode="after")
    def _fields_for_scope(self) -> Selector:
        needed = {"key": "key", "account": "account_id", "items": "external_ids"}.get(self.scope)
        for name in ("key", "account_id", "external_ids"):
            given = bool(getattr(self, name))
            if name == needed and not given:
                raise ValueError(f"scope {self.scope} needs {name}")
            if name != needed and given:
                raise ValueError(f"{name} does not apply to scope {self.scope}")
        if self.key is not None:
            self.key = _keys([self.key])[0]
        return self


class ActionIn(Strict):
    action: ContainmentAction
    selector: Selector
    regions: Regions = Field(
        default_factory=list, description="Where to disable access (geo_restrict only)"
    )
    policy_section: str = Field(
        min_length=1, max_length=20, description="Content policy section applied, e.g. VE-1"
    )
    ground: Ground = Ground.INCOMPATIBLE
    legal_ground: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="The law the content breaks (needed when ground is illegal)",
    )
    explanation: str = Field(
        min_length=3, max_length=2000, description="Why the content breaks it (sent to users)"
    )
    automated_decision: AutomatedDecision = AutomatedDecision.NOT_AUTOMATED
    reason: str = Field(default="", max_length=2000, description="Why now (for the timeline)")

    @model_validator(mode="after")
    def _consistent(self) -> ActionIn:
        if self.action is ContainmentAction.GEO_RESTRICT and not self.regions:
            raise ValueError("regions: geo_restrict needs the regions to disable access in")
        if self.action is not ContainmentAction.GEO_RESTRICT and self.regions:
            raise ValueError(
                f"regions: only geo_restrict is limited to regions; {self.action.value} "
                "applies wherever the items are"
            )
        if self.ground is Ground.ILLEGAL and not self.legal_ground:
            raise ValueError("legal_ground: an illegal-content decision must name the law")
        return self


class ReasonIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class Progress(BaseModel):
    total: int
    pending: int
    applied: int
    unchanged: int
    skipped: int
    reverted: int
    statements: int


class ActionOut(BaseModel):
    id: int
    incident: str
    action: ContainmentAction
    selector: dict[str, Any]
    regions: list[str]
    policy_section: str
    policy_version: int
    ground: Ground
    legal_ground: str | None
    explanation: str
    automated_decision: str
    reason: str
    status: str
    reversible: bool
    requires_approval: bool
    approval_threshold: int
    blast_radius: dict[str, Any]
    progress: Progress
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    started_by: str | None
    started_at: datetime | None
    completed_at: datetime | None
    rollback_by: str | None
    rollback_reason: str | None
    rolled_back_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    version: int


class ActionItemOut(BaseModel):
    item_id: int
    external_id: str
    subject: Subject
    outcome: str
    regions: list[str]
    detail: str
    acted_at: datetime | None
    reverted_at: datetime | None

"""The playbook format: what a playbook file may say, validated by pydantic.

A playbook is the plan for one harm type: who to assemble, what to do by when, how often to
update stakeholders, when to escalate, which containment options apply, when the incident is
over, and which legal checks to run. Everything severity-dependent carries ``min_severity``:
the step applies at that severity and every more severe one (SEV0 is the most severe).
``rapidresponse playbook schema`` exports the JSON Schema for editors and CI.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from rapidresponse.incidents.schemas import ParticipantRole
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import REGION_GROUPS, normalise_region
from rapidresponse.playbooks.durations import parse_duration

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _region_codes(values: list[str]) -> list[str]:
    """ISO 3166-1 alpha-2 codes or a group (EU, EEA); a typo such as UK would never match."""
    out = []
    for value in values:
        if value.upper() in REGION_GROUPS:
            out.append(value.upper())
        else:
            out.append(normalise_region(value))
    return out


RegionCodes = Annotated[list[str], AfterValidator(_region_codes)]


Duration = Annotated[
    str,
    AfterValidator(_duration),
    Field(description="e.g. 30m, 1h, 2h30m, 1d, PT1H", examples=["1h"]),
]


class Function(StrEnum):
    """Organisational functions a rapid response coordinates."""

    TRUST_SAFETY = "trust_safety"
    PR = "pr"
    PUBLIC_POLICY = "public_policy"
    LEGAL = "legal"
    PRODUCT = "product"
    ENGINEERING = "engineering"
    REGIONAL_EXPERT = "regional_expert"
    EXECUTIVE = "executive"


class TaskCategory(StrEnum):
    ASSESS = "assess"
    EVIDENCE = "evidence"
    CONTAINMENT = "containment"
    DETECTION = "detection"
    COMMUNICATIONS = "communications"
    LEGAL = "legal"
    WELLBEING = "wellbeing"
    RECOVERY = "recovery"


class ContainmentAction(StrEnum):
    REMOVE = "remove"
    GEO_RESTRICT = "geo_restrict"
    AGE_RESTRICT = "age_restrict"
    REDUCE_REACH = "reduce_reach"
    LABEL = "label"
    RESTRICT_INTERACTION = "restrict_interaction"
    SEARCH_INTERVENTION = "search_intervention"
    SUSPEND_ACCOUNT = "suspend_account"
    BAN_ACCOUNT = "ban_account"
    HASH_BANK = "hash_bank"


class RegulatoryCheck(StrEnum):
    """Legal checks a playbook can call for; the compliance engine computes their deadlines."""

    EU_DSA_STATEMENT_OF_REASONS = "eu_dsa_statement_of_reasons"
    EU_DSA_THREAT_TO_LIFE = "eu_dsa_threat_to_life"
    EU_DSA_ORDER = "eu_dsa_order"
    EU_TCO_REMOVAL_ORDER = "eu_tco_removal_order"
    US_NCMEC_REPORT = "us_ncmec_report"
    UK_OSA_ILLEGAL_CONTENT = "uk_osa_illegal_content"
    UK_NCA_CSEA_REPORT = "uk_nca_csea_report"
    AU_ESAFETY_REMOVAL_NOTICE = "au_esafety_removal_notice"
    AU_ABHORRENT_VIOLENT_MATERIAL = "au_abhorrent_violent_material"
    IN_IT_RULES_REMOVAL = "in_it_rules_removal"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text
    url: Annotated[str, Field(pattern=r"^https://\S+$")]


class RoleStep(BaseModel):
    """An incident role to fill, and from which function."""

    model_config = ConfigDict(extra="forbid")
    role: ParticipantRole
    function: Function
    min_severity: Severity = Severity.SEV3
    why: Text


class TaskStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Slug
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    why: Text
    owner_role: ParticipantRole = Field(description="Incident role that does it")
    due: Duration = Field(description="Due this long after the step enters the plan")
    min_severity: Severity = Severity.SEV3
    category: TaskCategory
    after: list[Slug] = Field(default_factory=list, description="Steps that must be done first")
    regions: RegionCodes = Field(
        default_factory=list, description="Only when the incident affects one of these regions"
    )


class EscalationRule(BaseModel):
    """Who to page, and why, at a severity (the on-call engine decides which person)."""

    model_config = ConfigDict(extra="forbid")
    min_severity: Severity
    engage: list[Function] = Field(min_length=1)
    why: Text


class ContainmentOption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: ContainmentAction
    scope: Text = Field(description="What it applies to (content, accounts, hashtags, sounds…)")
    min_severity: Severity = Severity.SEV3
    why: Text


class RegulatoryStep(BaseModel):
    """A legal check to run when the incident touches one of ``regions`` (codes, EU or EEA).

    It becomes a task for Legal; the compliance engine tracks the resulting obligations and
    their statutory deadlines once a trigger (an order, a confirmed report) is recorded.
    """

    model_config = ConfigDict(extra="forbid")
    check: RegulatoryCheck
    regions: RegionCodes = Field(min_length=1, description="ISO 3166-1 alpha-2 codes, EU or EEA")
    min_severity: Severity = Severity.SEV3
    due: Duration = Field(default="1h", description="When the check itself must be done")
    why: Text


class Cadence(BaseModel):
    """How often stakeholders get a status update, by severity."""

    model_config = ConfigDict(extra="forbid")
    SEV0: Duration = "30m"
    SEV1: Duration = "1h"
    SEV2: Duration = "4h"
    SEV3: Duration = "1d"

    def interval(self, severity: Severity) -> timedelta:
        return parse_duration(getattr(self, Severity(severity).value))


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Slug
    version: int = Field(ge=1)
    harm_type: HarmType
    title: Annotated[str, Field(min_length=1, max_length=200)]
    summary: Text
    reviewed: Annotated[
        str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Date the content was last reviewed")
    ]
    sources: list[Source] = Field(min_length=1)
    roles: list[RoleStep] = Field(min_length=1)
    cadence: Cadence = Field(default_factory=Cadence)
    tasks: list[TaskStep] = Field(min_length=1)
    escalation: list[EscalationRule] = Field(default_factory=list)
    containment: list[ContainmentOption] = Field(default_factory=list)
    exit_criteria: list[Text] = Field(min_length=1)
    regulatory: list[RegulatoryStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Playbook:
        # Cross-field errors start with the path they concern ("tasks.3.after: …") so the
        # loader can point at the right line.
        seen: dict[str, int] = {}
        for index, task in enumerate(self.tasks):
            if task.id in seen:
                raise ValueError(
                    f"tasks.{index}.id: task id {task.id!r} is already used by "
                    f"tasks.{seen[task.id]}"
                )
            seen[task.id] = index
        for index, task in enumerate(self.tasks):
            unknown = [a for a in task.after if a not in seen]
            if unknown:
                raise ValueError(
                    f"tasks.{index}.after: task {task.id} comes after unknown task(s): "
                    f"{', '.join(unknown)}"
                )
            if task.id in task.after:
                raise ValueError(f"tasks.{index}.after: task {task.id} cannot come after itself")
        _check_acyclic({t.id: t.after for t in self.tasks})
        checks: dict[str, int] = {}
        for index, step in enumerate(self.regulatory):
            if step.check.value in checks:
                raise ValueError(
                    f"regulatory.{index}.check: {step.check.value} is already listed at "
                    f"regulatory.{checks[step.check.value]}; list its regions once"
                )
            checks[step.check.value] = index
        if not any(r.role is ParticipantRole.INCIDENT_COMMANDER for r in self.roles):
            raise ValueError("roles: a playbook must assemble an incident_commander")
        return self


def _check_acyclic(graph: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise ValueError(f"task dependencies form a cycle: {cycle}")
        state[node] = 1
        for nxt in graph[node]:
            visit(nxt, [*path, node])
        state[node] = 2

    for node in graph:
        visit(node, [])

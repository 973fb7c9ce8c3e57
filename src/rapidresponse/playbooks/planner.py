"""Planning: which of a playbook's steps apply to an incident now, and what that adds.

Pure: it takes the playbook, the incident's severity and regions, what is already planned
and who already holds which role, and ``now``. Re-planning is additive: steps already in the
incident (whatever their status) are kept as they are, so completed work is never redone and
nothing is planned twice; new steps are due relative to ``now``, the moment they entered the
plan (an escalation to SEV0 at 14:00 makes the SEV0-only steps due from 14:00, not from the
declaration). Steps that no longer apply after a de-escalation are reported, not cancelled:
a person decides whether open work stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidresponse.incidents.schemas import ParticipantRole
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.validation import region_matches
from rapidresponse.playbooks.durations import parse_duration
from rapidresponse.playbooks.schema import (
    ContainmentOption,
    EscalationRule,
    Playbook,
    RegulatoryStep,
    RoleStep,
    TaskCategory,
)

REGULATORY_PREFIX = "check-"


def applies(min_severity: Severity, severity: Severity) -> bool:
    """A step for ``min_severity`` applies at that severity and every more severe one."""
    return Severity(severity).rank <= Severity(min_severity).rank


@dataclass(frozen=True)
class PlannedTask:
    step: str
    title: str
    description: str
    owner_role: ParticipantRole
    due_at: datetime
    category: TaskCategory
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    playbook_id: str
    playbook_version: int
    severity: Severity
    new_tasks: list[PlannedTask]
    kept_steps: list[str]
    no_longer_applicable: list[str]
    roles_needed: list[RoleStep]
    open_roles: list[RoleStep]
    cadence: timedelta
    escalations: list[EscalationRule]
    containment: list[ContainmentOption]
    regulatory: list[RegulatoryStep]
    exit_criteria: list[str] = field(default_factory=list)


def regulatory_step_id(step: RegulatoryStep) -> str:
    return f"{REGULATORY_PREFIX}{step.check.value.replace('_', '-')}"


def _describe(why: str, description: str) -> str:
    return f"{description.strip()}\n\nWhy: {why.strip()}".strip()


def plan(
    playbook: Playbook,
    *,
    severity: Severity,
    regions: set[str] | frozenset[str],
    planned_steps: Mapping[str, str],
    filled_roles: set[ParticipantRole] | frozenset[ParticipantRole],
    now: datetime,
) -> Plan:
    """``planned_steps`` maps step id to the status of the task already planned for it."""
    severity = Severity(severity)
    region_set = frozenset(r.upper() for r in regions)
    new_tasks: list[PlannedTask] = []
    applicable: set[str] = set()

    for task in playbook.tasks:
        if not applies(task.min_severity, severity):
            continue
        if task.regions and not any(region_matches(r, region_set) for r in task.regions):
            continue
        applicable.add(task.id)
        if task.id in planned_steps:
            continue
        new_tasks.append(
            PlannedTask(
                step=task.id,
                title=task.title,
                description=_describe(task.why, task.description),
                owner_role=task.owner_role,
                due_at=now + parse_duration(task.due),
                category=task.category,
                after=tuple(task.after),
            )
        )

    regulatory = [
        step
        for step in playbook.regulatory
        if applies(step.min_severity, severity)
        and any(region_matches(r, region_set) for r in step.regions)
    ]
    for step in regulatory:
        step_id = regulatory_step_id(step)
        applicable.add(step_id)
        if step_id in planned_steps:
            continue
        new_tasks.append(
            PlannedTask(
                step=step_id,
                title=f"Regulatory check: {step.check.value.replace('_', ' ')}",
                description=_describe(
                    step.why,
                    "Run this legal check and record the outcome; the "
                    "compliance engine tracks any resulting obligation.",
                ),
                owner_role=ParticipantRole.LEGAL,
                due_at=now + parse_duration(step.due),
                category=TaskCategory.LEGAL,
            )
        )

    roles_needed = [r for r in playbook.roles if applies(r.min_severity, severity)]
    open_roles = [r for r in roles_needed if r.role not in filled_roles]
    return Plan(
        playbook_id=playbook.id,
        playbook_version=playbook.version,
        severity=severity,
        new_tasks=sorted(new_tasks, key=lambda t: (t.due_at, t.step)),
        kept_steps=sorted(s for s in planned_steps if s in applicable),
        no_longer_applicable=sorted(
            s
            for s, status in planned_steps.items()
            if s not in applicable and status not in ("done", "cancelled")
        ),
        roles_needed=roles_needed,
        open_roles=open_roles,
        cadence=playbook.cadence.interval(severity),
        escalations=[e for e in playbook.escalation if applies(e.min_severity, severity)],
        containment=[c for c in playbook.containment if applies(c.min_severity, severity)],
        regulatory=regulatory,
        exit_criteria=list(playbook.exit_criteria),
    )


def blocked_steps(after: Mapping[str, tuple[str, ...]], statuses: Mapping[str, str]) -> set[str]:
    """Steps waiting on a step that is planned but not yet done (cancelled counts as done)."""
    finished = {"done", "cancelled"}
    return {
        step
        for step, deps in after.items()
        if step in statuses
        and statuses[step] not in finished
        and any(dep in statuses and statuses[dep] not in finished for dep in deps)
    }

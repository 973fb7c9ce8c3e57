"""Playbook use cases: the library, planning an incident, and what is next and what is late.

Declaring an incident, or changing its severity or harm type, plans it (incidents.service
calls ``plan_incident``): the playbook's tasks for the current severity are added with owners
and due times, a durable reminder is set for each due time, the status-update cadence is
set, and the functions the playbook escalates to are engaged through on-call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapidresponse.auth.policy import Principal, Role
from rapidresponse.errors import InvalidInput, NotFound
from rapidresponse.incidents import lifecycle
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.model import Incident, Task
from rapidresponse.incidents.schemas import (
    ParticipantIn,
    ParticipantRole,
    TaskStatus,
    TimelineKind,
)
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import REGION_GROUPS, normalise_region
from rapidresponse.outbox import service as outbox
from rapidresponse.playbooks.durations import format_duration
from rapidresponse.playbooks.loader import LIBRARY, load_directories
from rapidresponse.playbooks.model import IncidentPlan
from rapidresponse.playbooks.planner import Plan, blocked_steps, plan
from rapidresponse.playbooks.schema import Playbook
from rapidresponse.playbooks.schemas import (
    ActionItemOut,
    IncidentPlanOut,
    NextActionsOut,
    PlannedTaskOut,
    PlanOut,
    PlaybookSummary,
)
from rapidresponse.settings import get_settings

log = logging.getLogger(__name__)
TASK_DUE_TOPIC = "playbooks.task_due"
_CLOSED = {TaskStatus.DONE.value, TaskStatus.CANCELLED.value}


# ---------------------------------------------------------------- the library


@lru_cache(maxsize=8)
def _load(directories: tuple[str, ...]) -> tuple[Playbook, ...]:
    return tuple(load_directories([Path(d) for d in directories]))


def library_directories() -> tuple[str, ...]:
    extra = [d for d in get_settings().playbook_dirs.split(":") if d.strip()]
    return (str(LIBRARY), *extra)


def library() -> list[Playbook]:
    return list(_load(library_directories()))


def get_playbook(playbook_id: str) -> Playbook:
    for playbook in library():
        if playbook.id == playbook_id:
            return playbook
    raise NotFound(f"no playbook {playbook_id!r}")


def playbook_for(harm_type: HarmType | str) -> Playbook:
    harm_type = HarmType(harm_type)
    for playbook in library():
        if playbook.harm_type is harm_type:
            return playbook
    raise NotFound(f"no playbook for harm type {harm_type.value}")


# ---------------------------------------------------------------- planning


def _minutes(value: timedelta) -> str:
    """A lateness or lead time to the minute, as people read a countdown."""
    return format_duration(timedelta(minutes=int(value.total_seconds() // 60)))


def _task_due_key(task_id: int) -> str:
    return f"task-due:{task_id}"


def _current_plan(session: Session, incident_id: int) -> IncidentPlan | None:
    return session.scalars(
        select(IncidentPlan).where(IncidentPlan.incident_id == incident_id)
    ).one_or_none()


def plan_incident(
    session: Session, principal: Principal, key: str, now: datetime, reason: str
) -> Plan | None:
    """Apply (or re-apply) the incident's playbook for its current severity; additive."""
    incident = incidents.get_incident(session, principal, key)
    if Status(incident.status) in lifecycle.FINAL:
        return None
    try:
        playbook = playbook_for(incident.harm_type)
    except NotFound:
        log.warning("no playbook for %s; %s is not planned", incident.harm_type, incident.key)
        return None
    tasks = incidents.tasks(session, principal, key)
    planned_steps = {t.playbook_step: t.status for t in tasks if t.playbook_step}
    filled = {ParticipantRole(p.role) for p in incidents.participants(session, principal, key)}
    result = plan(
        playbook,
        severity=Severity(incident.severity),
        regions=set(incident.regions),
        planned_steps=planned_steps,
        filled_roles=filled,
        now=now,
    )

    summary = (
        f"Playbook {playbook.id} v{playbook.version} applied at {result.severity.value} "
        f"({reason}): {len(result.new_tasks)} task(s) added, {len(result.kept_steps)} kept"
    )
    if result.open_roles:
        summary += "; roles to fill: " + ", ".join(r.role.value for r in result.open_roles)
    if result.no_longer_applicable:
        summary += "; no longer required: " + ", ".join(result.no_longer_applicable)
    created = incidents.add_planned_tasks(
        session,
        principal,
        key,
        [
            incidents.PlannedTaskIn(t.step, t.title, t.description, t.owner_role, t.due_at)
            for t in result.new_tasks
        ],
        summary,
        {
            "playbook": playbook.id,
            "version": playbook.version,
            "severity": result.severity,
            "reason": reason,
            "cadence": format_duration(result.cadence),
            "open_roles": [r.role.value for r in result.open_roles],
            "no_longer_required": result.no_longer_applicable,
        },
        now,
    )
    for task in created:
        if task.due_at is not None:
            outbox.schedule(
                session,
                TASK_DUE_TOPIC,
                {"task_id": task.id, "incident": key},
                due_at=task.due_at,
                key=_task_due_key(task.id),
                now=now,
            )

    dependencies = {t.id: list(t.after) for t in playbook.tasks if t.after}
    record = _current_plan(session, incident.id)
    engaged = sorted({f.value for rule in result.escalations for f in rule.engage})
    if record is None:
        record = IncidentPlan(incident_id=incident.id, replans=0)
        session.add(record)
    else:
        record.replans += 1
    record.playbook_id, record.playbook_version = playbook.id, playbook.version
    record.severity, record.harm_type = result.severity.value, incident.harm_type
    record.cadence_seconds = int(result.cadence.total_seconds())
    record.dependencies = dependencies
    record.open_roles = [r.role.value for r in result.open_roles]
    record.engaged_functions = engaged
    record.planned_at = now
    session.flush()
    _after_planning(session, principal, incident, result, now)
    # Staffing may have filled roles the plan found empty: keep the record truthful.
    holders = {p.role for p in incidents.participants(session, principal, key)}
    record.open_roles = [role for role in record.open_roles if role not in holders]
    return result


def _after_planning(
    session: Session, principal: Principal, incident: Incident, result: Plan, now: datetime
) -> None:
    """Staff the plan, page whom it escalates to, and hand its cadence to comms.

    The planner acts for the person whose change triggered it; staffing and paging are the
    playbook's decisions, so they run with the rights they need and are recorded under
    that person's name.
    """
    from rapidresponse.comms import service as comms  # comms and on-call build on incidents
    from rapidresponse.oncall import service as oncall

    planner = Principal(subject=principal.subject, role=Role.ADMIN)
    staffed: set[ParticipantRole] = set()
    for step in result.open_roles:
        if step.role in staffed:  # a playbook may list a role twice (from two functions)
            continue
        person = oncall.on_call_for_function(session, step.function.value, now)
        if person is None:
            continue
        staffed.add(step.role)
        incidents.add_participant(
            session,
            planner,
            incident.key,
            ParticipantIn(user=person, role=step.role),
            now,
        )
    functions = sorted({f.value for rule in result.escalations for f in rule.engage})
    oncall.engage_for_incident(session, planner, incident.key, now, functions)
    comms.schedule_cadence(session, principal, incident.key, result.cadence, now)


def fire_task_due(session: Session, payload: dict[str, Any], now: datetime) -> None:
    """Outbox timer: a planned task reached its due time. Late work goes on the timeline."""
    task = session.get(Task, int(payload["task_id"]))
    if task is None or task.status in _CLOSED or task.due_at is None:
        return
    incident = session.get(Incident, task.incident_id)
    if incident is None or Status(incident.status) in lifecycle.FINAL:
        return
    system = Principal(subject="rapidresponse", role=Role.ADMIN)
    owner = task.owner or (f"role {task.owner_role} (unfilled)" if task.owner_role else "nobody")
    incidents.record_event(
        session,
        system,
        incident.key,
        TimelineKind.REMINDER,
        f"Task #{task.id} is overdue: {task.title} (owner {owner}, "
        f"due {task.due_at.strftime('%H:%M UTC')})",
        now,
        {
            "task_id": task.id,
            "owner": task.owner,
            "owner_role": task.owner_role,
            "due_at": task.due_at,
        },
    )


def session_handlers() -> dict[str, Any]:
    return {TASK_DUE_TOPIC: fire_task_due}


# ---------------------------------------------------------------- next actions


@dataclass
class ActionItem:
    kind: str  # overdue | due_soon | blocked | open_role | update_due
    incident: str
    severity: str
    title: str
    due_at: datetime | None = None
    owner: str | None = None
    task_id: int | None = None
    detail: str = ""


@dataclass
class NextActions:
    now: datetime
    overdue: list[ActionItem] = field(default_factory=list)
    due_soon: list[ActionItem] = field(default_factory=list)
    blocked: list[ActionItem] = field(default_factory=list)
    open_roles: list[ActionItem] = field(default_factory=list)
    updates_due: list[ActionItem] = field(default_factory=list)


def next_actions(
    session: Session,
    principal: Principal,
    now: datetime,
    key: str | None = None,
    horizon: timedelta = timedelta(hours=2),
) -> NextActions:
    """What is late, what is due soon, what is blocked, which roles are empty: most severe first."""
    if key is not None:
        chosen = [incidents.get_incident(session, principal, key)]
    else:
        chosen, _ = incidents.list_incidents(
            session, principal, incidents.IncidentFilter(open_only=True), 10_000, 0
        )
    from rapidresponse.comms import service as comms
    from rapidresponse.compliance import service as compliance
    from rapidresponse.enforcement import service as enforcement

    view = NextActions(now=now)
    for incident in sorted(chosen, key=lambda i: (i.severity, i.detected_at)):
        record = _current_plan(session, incident.id)
        tasks = incidents.tasks(session, principal, incident.key)
        statuses = {t.playbook_step: t.status for t in tasks if t.playbook_step}
        after = {s: tuple(d) for s, d in (record.dependencies if record else {}).items()}
        blocked = blocked_steps(after, statuses)
        for task in tasks:
            if task.status in _CLOSED:
                continue
            item = ActionItem(
                kind="",
                incident=incident.key,
                severity=incident.severity,
                title=task.title,
                due_at=task.due_at,
                owner=task.owner or (f"({task.owner_role})" if task.owner_role else None),
                task_id=task.id,
            )
            if task.status == TaskStatus.BLOCKED.value or task.playbook_step in blocked:
                waiting = [
                    d
                    for d in after.get(task.playbook_step or "", ())
                    if statuses.get(d) not in _CLOSED
                ]
                item.kind, item.detail = (
                    "blocked",
                    ("waiting for " + ", ".join(waiting) if waiting else "marked blocked"),
                )
                view.blocked.append(item)
            elif task.due_at is not None and task.due_at < now:
                item.kind = "overdue"
                item.detail = f"{_minutes(now - task.due_at)} late"
                view.overdue.append(item)
            elif task.due_at is not None and task.due_at <= now + horizon:
                item.kind = "due_soon"
                item.detail = f"in {_minutes(task.due_at - now)}"
                view.due_soon.append(item)
        update_due = comms.next_update_due_at(session, principal, incident.key)
        if update_due is not None and update_due <= now + horizon:
            late = update_due < now
            view.updates_due.append(
                ActionItem(
                    kind="update_due",
                    incident=incident.key,
                    severity=incident.severity,
                    title="Send the stakeholder status update",
                    due_at=update_due,
                    detail=(
                        f"{_minutes(now - update_due)} late"
                        if late
                        else f"in {_minutes(update_due - now)}"
                    ),
                )
            )
        for due in compliance.open_obligations(session, incident.id):
            item = ActionItem(
                kind="obligation",
                incident=incident.key,
                severity=incident.severity,
                title=due.title,
                due_at=due.due_at,
                detail=due.citation,
            )
            if due.due_at < now:
                item.detail = f"{_minutes(now - due.due_at)} late — {due.citation}"
                view.overdue.append(item)
            elif due.due_at <= now + horizon:
                item.detail = f"in {_minutes(due.due_at - now)} — {due.citation}"
                view.due_soon.append(item)
        for pending in enforcement.awaiting_approval(session, incident.id):
            view.blocked.append(
                ActionItem(
                    kind="approval",
                    incident=incident.key,
                    severity=incident.severity,
                    title=f"Approve {pending.action.replace('_', ' ')} #{pending.id} "
                    f"({pending.total:,} items)",
                    owner=f"an incident manager other than {pending.requested_by}",
                    detail="a bulk action over the threshold needs a second approval",
                )
            )
        if record is not None:
            holders = {p.role for p in incidents.participants(session, principal, incident.key)}
            for role in record.open_roles:
                if role not in holders:
                    view.open_roles.append(
                        ActionItem(
                            kind="open_role",
                            incident=incident.key,
                            severity=incident.severity,
                            title=f"Fill the {role} role",
                            detail="the playbook needs this role",
                        )
                    )
    view.overdue.sort(key=lambda i: (i.severity, i.due_at or now))
    view.due_soon.sort(key=lambda i: (i.due_at or now, i.severity))
    view.updates_due.sort(key=lambda i: (i.due_at or now, i.severity))
    return view


# ---------------------------------------------------------------- read models


def summary_of(playbook: Playbook) -> PlaybookSummary:
    from rapidresponse.playbooks.planner import applies

    return PlaybookSummary(
        id=playbook.id,
        version=playbook.version,
        harm_type=playbook.harm_type,
        title=playbook.title,
        reviewed=playbook.reviewed,
        tasks=len(playbook.tasks),
        tasks_by_severity={
            s.value: sum(1 for t in playbook.tasks if applies(t.min_severity, s)) for s in Severity
        },
    )


def plan_out(result: Plan) -> PlanOut:
    return PlanOut(
        playbook_id=result.playbook_id,
        playbook_version=result.playbook_version,
        severity=result.severity,
        cadence=format_duration(result.cadence),
        new_tasks=[
            PlannedTaskOut(
                step=t.step,
                title=t.title,
                owner_role=t.owner_role,
                due_at=t.due_at,
                category=t.category.value,
                after=list(t.after),
            )
            for t in result.new_tasks
        ],
        kept_steps=result.kept_steps,
        no_longer_applicable=result.no_longer_applicable,
        roles_needed=[r.model_dump(mode="json") for r in result.roles_needed],
        open_roles=[r.role.value for r in result.open_roles],
        escalations=[e.model_dump(mode="json") for e in result.escalations],
        containment=[c.model_dump(mode="json") for c in result.containment],
        regulatory=[r.model_dump(mode="json") for r in result.regulatory],
        exit_criteria=result.exit_criteria,
    )


def preview(playbook_id: str, severity: Severity, regions: list[str], now: datetime) -> Plan:
    """The plan a new incident would get, without declaring one (EU and EEA expand)."""
    codes: set[str] = set()
    for value in regions:
        if value.strip().upper() in REGION_GROUPS:
            codes |= REGION_GROUPS[value.strip().upper()]
            continue
        try:
            codes.add(normalise_region(value))
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    return plan(
        get_playbook(playbook_id),
        severity=severity,
        regions=codes,
        planned_steps={},
        filled_roles=set(),
        now=now,
    )


def incident_plan(session: Session, principal: Principal, key: str) -> IncidentPlanOut:
    incident = incidents.get_incident(session, principal, key)
    record = _current_plan(session, incident.id)
    if record is None:
        raise NotFound(f"{incident.key} has no playbook plan")
    return IncidentPlanOut(
        incident=incident.key,
        playbook_id=record.playbook_id,
        playbook_version=record.playbook_version,
        severity=Severity(record.severity),
        cadence=format_duration(timedelta(seconds=record.cadence_seconds)),
        open_roles=record.open_roles,
        engaged_functions=record.engaged_functions,
        planned_at=record.planned_at,
        replans=record.replans,
    )


def next_actions_out(view: NextActions) -> NextActionsOut:
    def items(values: list[ActionItem]) -> list[ActionItemOut]:
        return [
            ActionItemOut(
                kind=v.kind,
                incident=v.incident,
                severity=Severity(v.severity),
                title=v.title,
                due_at=v.due_at,
                owner=v.owner,
                task_id=v.task_id,
                detail=v.detail,
            )
            for v in values
        ]

    return NextActionsOut(
        now=view.now,
        overdue=items(view.overdue),
        due_soon=items(view.due_soon),
        blocked=items(view.blocked),
        open_roles=items(view.open_roles),
        updates_due=items(view.updates_due),
    )

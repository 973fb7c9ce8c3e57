"""Incident use cases. The only place that opens incident writes; the API, the CLI and the web
pages all call these functions with a session, the acting principal and the current time.

Every write here also appends to the incident's timeline, records an audit entry and enqueues
an ``incident.events`` outbox message, all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, can_see, require
from rapidresponse.concurrency import check_version, flush_versioned
from rapidresponse.db import dialect_insert
from rapidresponse.errors import Conflict, InvalidInput, NotFound
from rapidresponse.incidents import lifecycle
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.model import (
    Incident,
    IncidentKeyCounter,
    Participant,
    Task,
    TimelineEntry,
)
from rapidresponse.incidents.schemas import (
    ImpactIn,
    IncidentCreate,
    IncidentOut,
    IncidentPatch,
    IncidentSummaryOut,
    NoteIn,
    ParticipantIn,
    ParticipantOut,
    ParticipantRole,
    SeverityOut,
    SeverityOverrideIn,
    TaskCreate,
    TaskOut,
    TaskPatch,
    TaskStatus,
    TimelineKind,
    TimelineOut,
    TimesOut,
    TransitionIn,
)
from rapidresponse.incidents.severity import ImpactFactors, Severity, SeverityAssessment, assess
from rapidresponse.incidents.taxonomy import HarmType, harm_type_info
from rapidresponse.outbox import service as outbox

EVENTS_TOPIC = "incident.events"
_TASK_CLOSED = {TaskStatus.DONE.value, TaskStatus.CANCELLED.value}


# ---------------------------------------------------------------- keys and lookups


def _next_key(session: Session, year: int) -> str:
    statement = (
        dialect_insert(session, IncidentKeyCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=[IncidentKeyCounter.year], set_={"last": IncidentKeyCounter.last + 1}
        )
        .returning(IncidentKeyCounter.last)
    )
    number = session.execute(statement).scalar_one()
    return f"INC-{year}-{number:04d}"


def _members(session: Session, incident_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Participant.user).where(
                Participant.incident_id == incident_id, Participant.removed_at.is_(None)
            )
        )
    )


def _visible_clause(principal: Principal) -> Any:
    if principal.role is Role.ADMIN:
        return True
    member = exists().where(
        Participant.incident_id == Incident.id,
        Participant.user == principal.subject,
        Participant.removed_at.is_(None),
    )
    # Whoever declared an incident already knows it exists and what it is about.
    return or_(Incident.restricted.is_(False), Incident.created_by == principal.subject, member)


def get_incident(session: Session, principal: Principal, key: str) -> Incident:
    """The incident, if it exists and the principal may see it; NotFound otherwise.

    Restricted incidents the principal may not see are reported as not existing, so their
    existence does not leak.
    """
    incident = session.scalars(select(Incident).where(Incident.key == key.upper())).one_or_none()
    if incident is None or not can_see(
        principal, incident.restricted, [incident.created_by, *_members(session, incident.id)]
    ):
        raise NotFound(f"no incident {key}")
    return incident


@dataclass(frozen=True)
class IncidentFilter:
    status: list[Status] | None = None
    severity: list[Severity] | None = None
    harm_type: HarmType | None = None
    region: str | None = None
    open_only: bool = False
    text: str | None = None


def list_incidents(
    session: Session, principal: Principal, filters: IncidentFilter, limit: int, offset: int
) -> tuple[list[Incident], int]:
    query = select(Incident).where(_visible_clause(principal))
    if filters.status:
        query = query.where(Incident.status.in_([s.value for s in filters.status]))
    if filters.open_only:
        query = query.where(Incident.status.in_([s.value for s in lifecycle.OPEN]))
    if filters.severity:
        query = query.where(Incident.severity.in_([s.value for s in filters.severity]))
    if filters.harm_type:
        query = query.where(Incident.harm_type == filters.harm_type.value)
    if filters.text:
        pattern = f"%{filters.text.lower()}%"
        query = query.where(
            or_(func.lower(Incident.title).like(pattern), func.lower(Incident.key).like(pattern))
        )
    rows = list(session.scalars(query.order_by(Incident.severity, Incident.detected_at.desc())))
    if filters.region:
        # Regions are a JSON list; filtering in Python keeps one code path for both databases.
        rows = [r for r in rows if filters.region.upper() in r.regions]
    return rows[offset : offset + limit], len(rows)


# ---------------------------------------------------------------- shared write steps


def _timeline(
    session: Session,
    incident: Incident,
    principal: Principal,
    kind: TimelineKind,
    text: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident.id,
        at=now,
        actor=principal.subject,
        kind=kind.value,
        text=text,
        data=audit.jsonable(data or {}),
    )
    session.add(entry)
    return entry


def _announce(
    session: Session, incident: Incident, event: str, now: datetime, **extra: Any
) -> None:
    outbox.enqueue(
        session,
        EVENTS_TOPIC,
        audit.jsonable(
            {
                "event": event,
                "incident": incident.key,
                "status": incident.status,
                "severity": incident.severity,
                "version": incident.version,
                "at": now,
                **extra,
            }
        ),
        now,
    )


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    audit.record(
        session,
        actor=principal.subject,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        at=now,
    )


def assessment_for(incident: Incident) -> SeverityAssessment:
    impact = ImpactIn.model_validate(incident.impact)
    return assess(
        ImpactFactors(
            harm_type=HarmType(incident.harm_type),
            views=impact.views,
            views_per_hour=impact.views_per_hour,
            minors_involved=impact.minors_involved,
            region_count=len(incident.regions),
            regulatory_exposure=impact.regulatory_exposure,
            press_attention=impact.press_attention,
        )
    )


def _apply_severity(incident: Incident) -> SeverityAssessment:
    result = assessment_for(incident)
    incident.computed_severity = result.severity.value
    incident.severity_score = result.score
    incident.severity = incident.severity_override or result.severity.value
    return result


# ---------------------------------------------------------------- use cases


def declare(
    session: Session, principal: Principal, data: IncidentCreate, now: datetime
) -> Incident:
    require(principal, Role.RESPONDER, "declaring an incident")
    detected_at = data.detected_at or now
    if detected_at > now:
        raise InvalidInput("detected_at cannot be in the future")
    if data.started_at is not None and data.started_at > detected_at:
        raise InvalidInput("started_at (harm onset) cannot be after detected_at")
    restricted = (
        data.restricted
        if data.restricted is not None
        else harm_type_info(data.harm_type).restricted_by_default
    )
    incident = Incident(
        key=_next_key(session, now.year),
        title=data.title,
        summary=data.summary,
        harm_type=data.harm_type.value,
        regions=data.regions,
        languages=data.languages,
        surfaces=[s.value for s in data.surfaces],
        tags=data.tags,
        restricted=restricted,
        status=Status.DETECTED.value,
        impact=data.impact.model_dump(mode="json"),
        started_at=data.started_at,
        detected_at=detected_at,
        declared_at=now,
        created_by=principal.subject,
        updated_at=now,
    )
    result = _apply_severity(incident)
    session.add(incident)
    session.flush()
    commander = data.commander or principal.subject
    session.add(
        Participant(
            incident_id=incident.id,
            user=commander,
            role=ParticipantRole.INCIDENT_COMMANDER.value,
            added_at=now,
            added_by=principal.subject,
        )
    )
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.DECLARED,
        f"Declared {incident.severity} {harm_type_info(incident.harm_type).label} incident "
        f"in {', '.join(incident.regions)}; commander {commander}",
        now,
        {"severity": incident.severity, "explanation": result.explanation},
    )
    session.flush()
    _audit(
        session,
        principal,
        "incident.declared",
        "incident",
        incident.key,
        None,
        audit.snapshot(incident),
        now,
    )
    _announce(session, incident, "declared", now)
    _plan(session, principal, incident, now, "declared")
    return incident


def _plan(
    session: Session, principal: Principal, incident: Incident, now: datetime, reason: str
) -> None:
    """Declaring an incident, or changing its severity or harm type, plans it."""
    from rapidresponse.playbooks import service as playbooks  # playbooks builds on incidents

    playbooks.plan_incident(session, principal, incident.key, now, reason)


_EDITABLE = (
    "title",
    "summary",
    "harm_type",
    "regions",
    "languages",
    "surfaces",
    "tags",
    "restricted",
    "started_at",
)


def update(
    session: Session,
    principal: Principal,
    key: str,
    patch: IncidentPatch,
    expected_version: int | None,
    now: datetime,
) -> Incident:
    require(principal, Role.INCIDENT_MANAGER, "editing an incident")
    incident = get_incident(session, principal, key)
    check_version(incident.version, expected_version or patch.version, incident.key)
    before = audit.snapshot(incident)
    changes = patch.model_dump(exclude_unset=True, exclude={"version", "impact"}, mode="json")
    changed: dict[str, dict[str, Any]] = {}
    for field in _EDITABLE:
        if field not in changes:
            continue
        value = changes[field]
        if field == "started_at":
            value = patch.started_at
            if value is not None and value > incident.detected_at:
                raise InvalidInput("started_at (harm onset) cannot be after detected_at")
        if value != getattr(incident, field):
            changed[field] = {"from": before[field], "to": audit.jsonable(value)}
            setattr(incident, field, value)
    if patch.impact is not None:
        impact = dict(incident.impact)
        for name, value in patch.impact.model_dump(exclude_unset=True, mode="json").items():
            if value is not None and impact.get(name) != value:
                changed[f"impact.{name}"] = {"from": impact.get(name), "to": value}
                impact[name] = value
        incident.impact = impact
    if not changed:
        return incident
    previous = incident.severity
    result = _apply_severity(incident)
    incident.updated_at = now
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.UPDATED,
        "Updated " + ", ".join(sorted(changed)),
        now,
        {"changes": changed},
    )
    if incident.severity != previous:
        _timeline(
            session,
            incident,
            principal,
            TimelineKind.SEVERITY_CHANGED,
            f"Severity {previous} -> {incident.severity} ({result.explanation})",
            now,
            {"from": previous, "to": incident.severity, "points": result.points},
        )
    flush_versioned(session, incident.key)
    _audit(
        session,
        principal,
        "incident.updated",
        "incident",
        incident.key,
        before,
        audit.snapshot(incident),
        now,
    )
    _announce(session, incident, "updated", now, fields=sorted(changed))
    if incident.severity != previous or "harm_type" in changed:
        _plan(
            session,
            principal,
            incident,
            now,
            f"severity {previous} -> {incident.severity}"
            if incident.severity != previous
            else f"harm type changed to {incident.harm_type}",
        )
    return incident


def change_status(
    session: Session,
    principal: Principal,
    key: str,
    data: TransitionIn,
    expected_version: int | None,
    now: datetime,
) -> Incident:
    require(principal, Role.INCIDENT_MANAGER, "changing an incident's status")
    incident = get_incident(session, principal, key)
    expected = expected_version or data.version
    if expected is not None:
        check_version(incident.version, expected, incident.key)
    target = Status(data.to)
    survivor: Incident | None = None
    if target is Status.MERGED:
        if not data.merged_into:
            raise InvalidInput("merging needs merged_into: the key of the surviving incident")
        survivor = get_incident(session, principal, data.merged_into)
        if survivor.id == incident.id:
            raise InvalidInput("an incident cannot be merged into itself")
        if Status(survivor.status) in lifecycle.FINAL:
            raise Conflict(f"{survivor.key} is {survivor.status}; merge into an open incident")
    elif data.merged_into:
        raise InvalidInput("merged_into is only for a move to merged")
    if target in (Status.DECLINED, Status.MERGED) and not (data.reason or "").strip():
        raise InvalidInput(f"moving to {target.value} needs a reason")
    try:
        result = lifecycle.transition(incident.status, target, now)
    except lifecycle.IllegalTransition as exc:
        raise Conflict(
            str(exc),
            current_status=incident.status,
            allowed=sorted(lifecycle.TRANSITIONS[Status(incident.status)]),
        ) from None
    before = audit.snapshot(incident)
    previous = incident.status
    incident.status = result.status.value
    for field, value in result.stamps.items():
        setattr(incident, field, value)
    if survivor is not None:
        incident.merged_into_id = survivor.id
    incident.updated_at = now
    text = f"Status {previous} -> {incident.status}"
    if survivor is not None:
        text += f" (merged into {survivor.key})"
    if data.reason:
        text += f": {data.reason.strip()}"
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.STATUS_CHANGED,
        text,
        now,
        {
            "from": previous,
            "to": incident.status,
            "reason": data.reason,
            "merged_into": survivor.key if survivor else None,
        },
    )
    if survivor is not None:
        _timeline(
            session,
            survivor,
            principal,
            TimelineKind.NOTE,
            f"{incident.key} was merged into this incident",
            now,
            {"merged": incident.key},
        )
    flush_versioned(session, incident.key)
    _audit(
        session,
        principal,
        "incident.status_changed",
        "incident",
        incident.key,
        before,
        audit.snapshot(incident),
        now,
    )
    _announce(session, incident, "status_changed", now, previous=previous)
    return incident


def override_severity(
    session: Session,
    principal: Principal,
    key: str,
    data: SeverityOverrideIn,
    expected_version: int | None,
    now: datetime,
) -> Incident:
    require(principal, Role.INCIDENT_MANAGER, "overriding severity")
    incident = get_incident(session, principal, key)
    expected = expected_version or data.version
    if expected is not None:
        check_version(incident.version, expected, incident.key)
    before = audit.snapshot(incident)
    previous = incident.severity
    incident.severity_override = data.override.value if data.override else None
    incident.severity_override_reason = data.reason if data.override else None
    incident.severity = incident.severity_override or incident.computed_severity
    incident.updated_at = now
    if data.override:
        text = (
            f"Severity overridden {previous} -> {incident.severity} "
            f"(computed {incident.computed_severity}): {data.reason}"
        )
    else:
        text = f"Severity override cleared; back to computed {incident.severity}: {data.reason}"
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.SEVERITY_OVERRIDDEN,
        text,
        now,
        {
            "from": previous,
            "to": incident.severity,
            "override": incident.severity_override,
            "computed": incident.computed_severity,
            "reason": data.reason,
        },
    )
    flush_versioned(session, incident.key)
    _audit(
        session,
        principal,
        "incident.severity_overridden",
        "incident",
        incident.key,
        before,
        audit.snapshot(incident),
        now,
    )
    _announce(session, incident, "severity_changed", now, previous=previous)
    if incident.severity != previous:
        _plan(
            session,
            principal,
            incident,
            now,
            f"severity overridden {previous} -> {incident.severity}",
        )
    return incident


def add_note(
    session: Session, principal: Principal, key: str, data: NoteIn, now: datetime
) -> TimelineEntry:
    require(principal, Role.RESPONDER, "adding to the timeline")
    incident = get_incident(session, principal, key)
    kind = TimelineKind.DECISION if data.decision else TimelineKind.NOTE
    entry = _timeline(session, incident, principal, kind, data.text, now)
    session.flush()
    _audit(
        session,
        principal,
        f"incident.{kind.value}_added",
        "incident_timeline",
        entry.id,
        None,
        audit.snapshot(entry),
        now,
    )
    _announce(session, incident, kind.value, now)
    return entry


def record_event(
    session: Session,
    principal: Principal,
    key: str,
    kind: TimelineKind,
    text: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append an event from another domain (a plan, a page, a communication) to the timeline.

    The caller has already checked that the principal may do what the event records; this
    only checks the principal may see the incident. Audited and announced like every write.
    """
    incident = get_incident(session, principal, key)
    entry = _timeline(session, incident, principal, kind, text, now, data)
    session.flush()
    _audit(
        session,
        principal,
        f"incident.{kind.value}",
        "incident_timeline",
        entry.id,
        None,
        audit.snapshot(entry),
        now,
    )
    _announce(session, incident, kind.value, now)
    return entry


def timeline(
    session: Session, principal: Principal, key: str, kinds: list[TimelineKind] | None = None
) -> list[TimelineEntry]:
    incident = get_incident(session, principal, key)
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
    if kinds:
        query = query.where(TimelineEntry.kind.in_([k.value for k in kinds]))
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))


def participants(
    session: Session, principal: Principal, key: str, include_removed: bool = False
) -> list[Participant]:
    incident = get_incident(session, principal, key)
    query = select(Participant).where(Participant.incident_id == incident.id)
    if not include_removed:
        query = query.where(Participant.removed_at.is_(None))
    return list(session.scalars(query.order_by(Participant.id)))


def add_participant(
    session: Session, principal: Principal, key: str, data: ParticipantIn, now: datetime
) -> Participant:
    require(principal, Role.INCIDENT_MANAGER, "assigning incident roles")
    incident = get_incident(session, principal, key)
    duplicate = session.scalars(
        select(Participant).where(
            Participant.incident_id == incident.id,
            Participant.user == data.user,
            Participant.role == data.role.value,
            Participant.removed_at.is_(None),
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{data.user} is already {data.role.value} on {incident.key}")
    participant = Participant(
        incident_id=incident.id,
        user=data.user,
        role=data.role.value,
        added_at=now,
        added_by=principal.subject,
    )
    session.add(participant)
    incident.updated_at = now
    # Work planned for this role with nobody to do it now has an owner.
    unowned = list(
        session.scalars(
            select(Task).where(
                Task.incident_id == incident.id,
                Task.owner_role == data.role.value,
                Task.owner.is_(None),
                Task.status.not_in(list(_TASK_CLOSED)),
            )
        )
    )
    for task in unowned:
        before_task = audit.snapshot(task)
        task.owner = data.user
        session.flush()
        _audit(
            session,
            principal,
            "incident.task_assigned",
            "incident_task",
            task.id,
            before_task,
            audit.snapshot(task),
            now,
        )
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.PARTICIPANT_ADDED,
        f"{data.user} joined as {data.role.value}"
        + (f" and now owns {len(unowned)} task(s)" if unowned else ""),
        now,
        {"user": data.user, "role": data.role.value, "tasks_assigned": [t.id for t in unowned]},
    )
    session.flush()
    _audit(
        session,
        principal,
        "incident.participant_added",
        "incident_participant",
        participant.id,
        None,
        audit.snapshot(participant),
        now,
    )
    _announce(session, incident, "participant_added", now, user=data.user, role=data.role.value)
    return participant


def remove_participant(
    session: Session, principal: Principal, key: str, participant_id: int, now: datetime
) -> Participant:
    require(principal, Role.INCIDENT_MANAGER, "removing incident roles")
    incident = get_incident(session, principal, key)
    participant = session.get(Participant, participant_id)
    if participant is None or participant.incident_id != incident.id:
        raise NotFound(f"no participant {participant_id} on {incident.key}")
    if participant.removed_at is not None:
        raise Conflict(f"participant {participant_id} was already removed")
    if participant.role == ParticipantRole.INCIDENT_COMMANDER.value:
        others = session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.incident_id == incident.id,
                Participant.role == ParticipantRole.INCIDENT_COMMANDER.value,
                Participant.removed_at.is_(None),
                Participant.id != participant.id,
            )
        )
        if not others and Status(incident.status) not in lifecycle.FINAL:
            raise Conflict(
                "an open incident needs an incident commander; assign the new "
                "commander before removing this one"
            )
    before = audit.snapshot(participant)
    participant.removed_at = now
    participant.removed_by = principal.subject
    incident.updated_at = now
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.PARTICIPANT_REMOVED,
        f"{participant.user} left the {participant.role} role",
        now,
        {"user": participant.user, "role": participant.role},
    )
    session.flush()
    _audit(
        session,
        principal,
        "incident.participant_removed",
        "incident_participant",
        participant.id,
        before,
        audit.snapshot(participant),
        now,
    )
    _announce(session, incident, "participant_removed", now, user=participant.user)
    return participant


def _role_holder(session: Session, incident_id: int, role: str) -> str | None:
    """The person who has held ``role`` longest on the incident, if anyone holds it."""
    return session.scalars(
        select(Participant.user)
        .where(
            Participant.incident_id == incident_id,
            Participant.role == role,
            Participant.removed_at.is_(None),
        )
        .order_by(Participant.id)
    ).first()


@dataclass(frozen=True)
class PlannedTaskIn:
    """A task a playbook plans: owned by a role, tied to the playbook step it came from."""

    playbook_step: str
    title: str
    description: str
    owner_role: ParticipantRole
    due_at: datetime


def add_planned_tasks(
    session: Session,
    principal: Principal,
    key: str,
    planned: list[PlannedTaskIn],
    summary: str,
    data: dict[str, Any],
    now: datetime,
) -> list[Task]:
    """Add a plan's tasks in one step: each is audited, and one timeline entry tells the story.

    Steps already planned on the incident are skipped, so applying the same plan twice adds
    nothing. Owners come from whoever holds each task's role now.
    """
    incident = get_incident(session, principal, key)
    existing = set(
        session.scalars(
            select(Task.playbook_step).where(
                Task.incident_id == incident.id, Task.playbook_step.is_not(None)
            )
        )
    )
    holders: dict[str, str | None] = {}
    created: list[Task] = []
    for item in planned:
        if item.playbook_step in existing:
            continue
        role = item.owner_role.value
        if role not in holders:
            holders[role] = _role_holder(session, incident.id, role)
        task = Task(
            incident_id=incident.id,
            title=item.title,
            description=item.description,
            owner=holders[role],
            owner_role=role,
            due_at=item.due_at,
            status=TaskStatus.OPEN.value,
            created_at=now,
            created_by=principal.subject,
            playbook_step=item.playbook_step,
        )
        session.add(task)
        created.append(task)
        existing.add(item.playbook_step)
    session.flush()
    for task in created:
        _audit(
            session,
            principal,
            "incident.task_planned",
            "incident_task",
            task.id,
            None,
            audit.snapshot(task),
            now,
        )
    entry = _timeline(
        session,
        incident,
        principal,
        TimelineKind.PLAYBOOK_PLANNED,
        summary,
        now,
        {
            **data,
            "tasks_added": [
                {"task_id": t.id, "step": t.playbook_step, "due_at": t.due_at} for t in created
            ],
        },
    )
    session.flush()
    _audit(
        session,
        principal,
        "incident.playbook_planned",
        "incident_timeline",
        entry.id,
        None,
        audit.snapshot(entry),
        now,
    )
    _announce(session, incident, "planned", now, tasks_added=len(created))
    return created


def tasks(session: Session, principal: Principal, key: str) -> list[Task]:
    incident = get_incident(session, principal, key)
    return list(
        session.scalars(
            select(Task)
            .where(Task.incident_id == incident.id)
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        )
    )


def is_overdue(task: Task, now: datetime) -> bool:
    return task.due_at is not None and task.status not in _TASK_CLOSED and task.due_at < now


def add_task(
    session: Session, principal: Principal, key: str, data: TaskCreate, now: datetime
) -> Task:
    require(principal, Role.RESPONDER, "adding tasks")
    incident = get_incident(session, principal, key)
    if Status(incident.status) in lifecycle.FINAL:
        raise Conflict(f"{incident.key} is {incident.status}; it takes no new tasks")
    owner_role = data.owner_role.value if data.owner_role else None
    task = Task(
        incident_id=incident.id,
        title=data.title,
        description=data.description,
        owner=data.owner
        or (_role_holder(session, incident.id, owner_role) if owner_role else None),
        owner_role=owner_role,
        due_at=data.due_at,
        status=TaskStatus.OPEN.value,
        created_at=now,
        created_by=principal.subject,
    )
    session.add(task)
    session.flush()
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.TASK_ADDED,
        f"Task #{task.id} {task.title}"
        + (f" for {task.owner}" if task.owner else "")
        + (f", due {task.due_at.isoformat()}" if task.due_at else ""),
        now,
        {"task_id": task.id, "owner": task.owner, "due_at": task.due_at},
    )
    session.flush()
    _audit(
        session,
        principal,
        "incident.task_added",
        "incident_task",
        task.id,
        None,
        audit.snapshot(task),
        now,
    )
    _announce(session, incident, "task_added", now, task_id=task.id)
    return task


def update_task(
    session: Session,
    principal: Principal,
    key: str,
    task_id: int,
    patch: TaskPatch,
    expected_version: int | None,
    now: datetime,
) -> Task:
    require(principal, Role.RESPONDER, "updating tasks")
    incident = get_incident(session, principal, key)
    task = session.get(Task, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"no task {task_id} on {incident.key}")
    check_version(task.version, expected_version or patch.version, f"task #{task_id}")
    before = audit.snapshot(task)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        value = value.value if isinstance(value, TaskStatus) else value
        if value != getattr(task, field):
            changed[field] = {"from": before[field], "to": audit.jsonable(value)}
            setattr(task, field, value)
    if not changed:
        return task
    if "status" in changed:
        task.completed_at = now if task.status in _TASK_CLOSED else None
    _timeline(
        session,
        incident,
        principal,
        TimelineKind.TASK_UPDATED,
        f"Task #{task.id} {task.title}: "
        + ", ".join(
            f"{k} {v['from']} -> {v['to']}" for k, v in changed.items() if k != "description"
        ),
        now,
        {"task_id": task.id, "changes": changed},
    )
    flush_versioned(session, f"task #{task_id}")
    _audit(
        session,
        principal,
        "incident.task_updated",
        "incident_task",
        task.id,
        before,
        audit.snapshot(task),
        now,
    )
    _announce(session, incident, "task_updated", now, task_id=task.id)
    return task


def merged_into_key(session: Session, incident: Incident) -> str | None:
    if incident.merged_into_id is None:
        return None
    return session.scalar(select(Incident.key).where(Incident.id == incident.merged_into_id))


# ---------------------------------------------------------------- read models


def _seconds(value: Any) -> float | None:
    return None if value is None else value.total_seconds()


def describe(session: Session, incident: Incident) -> IncidentOut:
    result = assessment_for(incident)
    times = lifecycle.response_times(
        incident.started_at,
        incident.detected_at,
        incident.triaged_at,
        incident.contained_at,
        incident.resolved_at,
    )
    return IncidentOut(
        key=incident.key,
        title=incident.title,
        summary=incident.summary,
        harm_type=HarmType(incident.harm_type),
        dsa_category=harm_type_info(incident.harm_type).dsa_category,
        regions=incident.regions,
        languages=incident.languages,
        surfaces=incident.surfaces,
        tags=incident.tags,
        restricted=incident.restricted,
        status=Status(incident.status),
        severity=SeverityOut(
            level=Severity(incident.severity),
            computed=Severity(incident.computed_severity),
            score=incident.severity_score,
            points=result.points,
            explanation=result.explanation,
            override=Severity(incident.severity_override) if incident.severity_override else None,
            override_reason=incident.severity_override_reason,
        ),
        impact=incident.impact,
        times=TimesOut(
            started_at=incident.started_at,
            detected_at=incident.detected_at,
            declared_at=incident.declared_at,
            triaged_at=incident.triaged_at,
            active_at=incident.active_at,
            contained_at=incident.contained_at,
            resolved_at=incident.resolved_at,
            closed_at=incident.closed_at,
            declined_at=incident.declined_at,
            merged_at=incident.merged_at,
            time_to_detect_s=_seconds(times.time_to_detect),
            time_to_acknowledge_s=_seconds(times.time_to_acknowledge),
            time_to_contain_s=_seconds(times.time_to_contain),
            time_to_resolve_s=_seconds(times.time_to_resolve),
        ),
        merged_into=merged_into_key(session, incident),
        created_by=incident.created_by,
        updated_at=incident.updated_at,
        version=incident.version,
    )


def summarise(incident: Incident) -> IncidentSummaryOut:
    return IncidentSummaryOut(
        key=incident.key,
        title=incident.title,
        harm_type=HarmType(incident.harm_type),
        severity=Severity(incident.severity),
        status=Status(incident.status),
        regions=incident.regions,
        restricted=incident.restricted,
        detected_at=incident.detected_at,
        updated_at=incident.updated_at,
        version=incident.version,
    )


def task_out(task: Task, now: datetime) -> TaskOut:
    return TaskOut(
        id=task.id,
        title=task.title,
        description=task.description,
        owner=task.owner,
        owner_role=ParticipantRole(task.owner_role) if task.owner_role else None,
        due_at=task.due_at,
        status=TaskStatus(task.status),
        overdue=is_overdue(task, now),
        created_at=task.created_at,
        created_by=task.created_by,
        completed_at=task.completed_at,
        playbook_step=task.playbook_step,
        version=task.version,
    )


def participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        id=p.id,
        user=p.user,
        role=ParticipantRole(p.role),
        added_at=p.added_at,
        added_by=p.added_by,
        removed_at=p.removed_at,
    )


def timeline_out(e: TimelineEntry) -> TimelineOut:
    return TimelineOut(
        id=e.id, at=e.at, actor=e.actor, kind=TimelineKind(e.kind), text=e.text, data=e.data
    )

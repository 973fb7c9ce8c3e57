"""On-call use cases: the only place that opens on-call writes and calls other domains.

The API, the CLI and the worker call these functions with a session, the acting principal
and the current time. Every write is audited in the caller's transaction; page events also
go to the incident's timeline. Who covers what is computed by the pure modules
(``coverage``, ``routing``, ``escalation``) from rows loaded here.

Paging is durable: triggering a page notifies the first level and stores an outbox timer
("oncall.escalate", keyed by page, level and round); the worker fires it exactly once in its
own transaction (:func:`escalation_timer_fired`), which escalates the page if it is still
unacknowledged and stores the next timer. Acknowledging cancels the pending timer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.comms import service as comms
from rapidresponse.comms.channels import Channel as CommsChannel
from rapidresponse.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import TimelineKind
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.oncall import coverage, escalation, ical, routing
from rapidresponse.oncall.escalation import PageStatus, Step
from rapidresponse.oncall.model import (
    EscalationPolicy,
    Layer,
    Override,
    Page,
    PageNotification,
    Person,
    RoutingRule,
    Schedule,
    Team,
    TeamMember,
)
from rapidresponse.oncall.rotation import Rotation, RotationUnit
from rapidresponse.oncall.schemas import (
    HANDLE_PATTERN,
    SLUG_PATTERN,
    Channel,
    EngagementOut,
    EngageOut,
    FinalScheduleOut,
    HandoffOut,
    LayerIn,
    LayerOut,
    LevelIn,
    LevelOut,
    NotificationOut,
    OnCallOut,
    OverrideCreate,
    OverrideOut,
    PageCreate,
    PageOut,
    PageRef,
    PersonCreate,
    PersonOut,
    PersonPatch,
    PolicyCreate,
    PolicyOut,
    PolicyPatch,
    Responder,
    RoutingPreviewOut,
    RuleCreate,
    RuleOut,
    RulePatch,
    ScheduleCreate,
    ScheduleOut,
    SchedulePatch,
    SegmentOut,
    ShiftOut,
    TargetOut,
    TeamCreate,
    TeamFunction,
    TeamOut,
    TeamPatch,
    WindowOut,
)
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import SessionHandler

EDITING = Role.INCIDENT_MANAGER
MAX_WINDOW = timedelta(days=366)
# Exports and "until" look this far beyond a window so segments are whole, not cut.
EXPORT_PAD = timedelta(days=8)
UNTIL_HORIZON = timedelta(days=8)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Timer-driven escalations act as this principal; it sees every incident so the page's
# timeline entry is written whatever the incident's need-to-know setting.
ESCALATOR = Principal(subject="system:oncall", role=Role.ADMIN)

_SLUG = re.compile(SLUG_PATTERN)
_HANDLE = re.compile(HANDLE_PATTERN)
_INCIDENT_KEY = re.compile(r"^[A-Za-z0-9-]{1,20}$")


# ---------------------------------------------------------------- shared steps


def _audit(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        at=now,
    )


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")  # type: ignore[no-any-return]


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(f"{what} must include a time zone (e.g. 2026-03-17T09:00:00Z)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        value = EARLIEST - timedelta(days=1)
    if not EARLIEST <= value < LATEST:
        raise InvalidInput(f"{what} must lie between 2000 and 2100")
    return value


def window(
    start: datetime, end: datetime | None = None, default: timedelta = timedelta(days=7)
) -> tuple[datetime, datetime]:
    """Validate a [start, end) window: aware, ordered, at most a year; end defaults."""
    start = _utc(start, "start")
    end = _utc(end, "end") if end is not None else start + default
    if end <= start:
        raise InvalidInput("end must be after start")
    if end - start > MAX_WINDOW:
        raise InvalidInput("a window spans at most 366 days")
    return start, end


# ---------------------------------------------------------------- lookups


def get_person(session: Session, handle: str) -> Person:
    person = None
    if _HANDLE.match(handle) and len(handle) <= 120:
        person = session.scalars(select(Person).where(Person.handle == handle)).one_or_none()
    if person is None:
        raise NotFound(f"no person {handle!r}")
    return person


def _people(session: Session, handles: Iterable[str], *, active: bool = True) -> list[Person]:
    wanted = list(dict.fromkeys(handles))
    found = (
        {p.handle: p for p in session.scalars(select(Person).where(Person.handle.in_(wanted)))}
        if wanted
        else {}
    )
    missing = [h for h in wanted if h not in found]
    if missing:
        raise InvalidInput(
            f"unknown people: {', '.join(missing)} (add them first: POST /api/v1/people)"
        )
    if active:
        inactive = [h for h in wanted if not found[h].active]
        if inactive:
            raise InvalidInput(f"inactive people cannot be scheduled: {', '.join(inactive)}")
    return [found[h] for h in wanted]


def _by_slug(session: Session, model: Any, slug: str, what: str) -> Any:
    row = None
    if slug.isdigit() and len(slug) < 10:
        row = session.get(model, int(slug))
    elif _SLUG.match(slug):
        row = session.scalars(select(model).where(model.slug == slug)).one_or_none()
    if row is None:
        raise NotFound(f"no {what} {slug!r}")
    return row


def get_team(session: Session, slug: str) -> Team:
    team: Team = _by_slug(session, Team, slug, "team")
    return team


def get_schedule(session: Session, ref: str) -> Schedule:
    """A schedule by slug or numeric id."""
    schedule: Schedule = _by_slug(session, Schedule, ref, "schedule")
    return schedule


def get_policy(session: Session, ref: str) -> EscalationPolicy:
    """An escalation policy by slug or numeric id."""
    policy: EscalationPolicy = _by_slug(session, EscalationPolicy, ref, "escalation policy")
    return policy


def _ref(session: Session, model: Any, slug: str | None, what: str) -> Any:
    """Resolve a slug a request names (a 422, not a 404: the request is what is wrong)."""
    if slug is None:
        return None
    try:
        return _by_slug(session, model, slug, what)
    except NotFound as exc:
        raise InvalidInput(exc.detail) from None


# ---------------------------------------------------------------- people


def _mask(url: str | None, reveal: bool) -> str | None:
    if url is None or reveal:
        return url
    head, _, rest = url.partition("://")
    return f"{head}://{rest.split('/', 1)[0]}/…"


def person_out(session: Session, person: Person, principal: Principal) -> PersonOut:
    teams = list(
        session.scalars(
            select(Team.slug)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == person.id)
            .order_by(Team.slug)
        )
    )
    # Webhook URLs are credentials: anyone holding one can post as the integration.
    reveal = principal.has(EDITING)
    return PersonOut(
        id=person.id,
        handle=person.handle,
        name=person.name,
        email=person.email,
        timezone=person.timezone,
        slack_webhook_url=_mask(person.slack_webhook_url, reveal),
        webhook_url=_mask(person.webhook_url, reveal),
        active=person.active,
        teams=teams,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def list_people(session: Session, active: bool | None = None) -> list[Person]:
    query = select(Person).order_by(Person.handle)
    if active is not None:
        query = query.where(Person.active.is_(active))
    return list(session.scalars(query))


def create_person(
    session: Session, principal: Principal, data: PersonCreate, now: datetime
) -> Person:
    require(principal, EDITING, "adding on-call people")
    if session.scalars(select(Person.id).where(Person.handle == data.handle)).first():
        raise Conflict(f"person {data.handle!r} already exists")
    person = Person(**data.model_dump(), created_at=now, updated_at=now)
    session.add(person)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.person_created",
        "oncall_person",
        person.handle,
        None,
        audit.snapshot(person),
        now,
    )
    return person


def _where_scheduled(session: Session, person: Person) -> list[str]:
    """Schedules, overrides and policies that would page ``person``."""
    uses = []
    for layer, slug in session.execute(
        select(Layer, Schedule.slug).join(Schedule, Schedule.id == Layer.schedule_id)
    ):
        if person.handle in layer.participants:
            uses.append(f"schedule {slug} layer {layer.name}")
    for policy in session.scalars(select(EscalationPolicy)):
        if any(t.get("person_id") == person.id for lv in policy.levels for t in lv["targets"]):
            uses.append(f"escalation policy {policy.slug}")
    return uses


def update_person(
    session: Session, principal: Principal, handle: str, patch: PersonPatch, now: datetime
) -> Person:
    require(principal, EDITING, "editing on-call people")
    person = get_person(session, handle)
    before = audit.snapshot(person)
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("active") is False and person.active:
        uses = _where_scheduled(session, person)
        if uses:
            raise Conflict(
                f"{person.handle} is still on call in: {'; '.join(uses)}; take them out first",
                uses=uses,
            )
    for field, value in changes.items():
        setattr(person, field, value)
    if audit.snapshot(person) == before:
        return person
    person.updated_at = now
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.person_updated",
        "oncall_person",
        person.handle,
        before,
        audit.snapshot(person),
        now,
    )
    return person


# ---------------------------------------------------------------- teams


def team_out(session: Session, team: Team) -> TeamOut:
    members = list(
        session.scalars(
            select(Person.handle)
            .join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_id == team.id)
            .order_by(TeamMember.position, Person.handle)
        )
    )
    schedule = session.get(Schedule, team.schedule_id) if team.schedule_id else None
    policy = (
        session.get(EscalationPolicy, team.escalation_policy_id)
        if team.escalation_policy_id
        else None
    )
    return TeamOut(
        id=team.id,
        slug=team.slug,
        name=team.name,
        function=TeamFunction(team.function),
        description=team.description,
        members=members,
        schedule=schedule.slug if schedule else None,
        escalation_policy=policy.slug if policy else None,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


def list_teams(session: Session, function: TeamFunction | None = None) -> list[Team]:
    query = select(Team).order_by(Team.slug)
    if function is not None:
        query = query.where(Team.function == function.value)
    return list(session.scalars(query))


def _set_members(session: Session, team: Team, handles: Sequence[str]) -> None:
    people = _people(session, handles, active=False)
    for member in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id)):
        session.delete(member)
    session.flush()
    for index, person in enumerate(people):
        session.add(TeamMember(team_id=team.id, person_id=person.id, position=index))


def create_team(session: Session, principal: Principal, data: TeamCreate, now: datetime) -> Team:
    require(principal, EDITING, "creating teams")
    if session.scalars(select(Team.id).where(Team.slug == data.slug)).first():
        raise Conflict(f"team {data.slug!r} already exists")
    schedule = _ref(session, Schedule, data.schedule, "schedule")
    policy = _ref(session, EscalationPolicy, data.escalation_policy, "escalation policy")
    team = Team(
        slug=data.slug,
        name=data.name,
        function=data.function.value,
        description=data.description,
        schedule_id=schedule.id if schedule else None,
        escalation_policy_id=policy.id if policy else None,
        created_at=now,
        updated_at=now,
    )
    session.add(team)
    session.flush()
    _set_members(session, team, data.members)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.team_created",
        "oncall_team",
        team.slug,
        None,
        _dump(team_out(session, team)),
        now,
    )
    return team


def update_team(
    session: Session, principal: Principal, slug: str, patch: TeamPatch, now: datetime
) -> Team:
    require(principal, EDITING, "editing teams")
    team = get_team(session, slug)
    before = _dump(team_out(session, team))
    changes = patch.model_dump(exclude_unset=True)
    for field in ("name", "description"):
        if field in changes:
            setattr(team, field, changes[field])
    if "function" in changes:
        team.function = changes["function"].value
    if "schedule" in changes:
        schedule = _ref(session, Schedule, changes["schedule"], "schedule")
        team.schedule_id = schedule.id if schedule else None
    if "escalation_policy" in changes:
        policy = _ref(session, EscalationPolicy, changes["escalation_policy"], "escalation policy")
        team.escalation_policy_id = policy.id if policy else None
    if "members" in changes:
        _set_members(session, team, changes["members"])
    session.flush()
    after = _dump(team_out(session, team))
    if after == before:
        return team
    team.updated_at = now
    after["updated_at"] = audit.jsonable(now)
    _audit(
        session,
        principal.subject,
        "oncall.team_updated",
        "oncall_team",
        team.slug,
        before,
        after,
        now,
    )
    return team


def delete_team(session: Session, principal: Principal, slug: str, now: datetime) -> TeamOut:
    require(principal, EDITING, "deleting teams")
    team = get_team(session, slug)
    rules = [r.name for r in session.scalars(select(RoutingRule)) if team.id in r.team_ids]
    if rules:
        raise Conflict(
            f"routing rules engage team {team.slug}: {', '.join(rules)}; change them first",
            rules=rules,
        )
    out = team_out(session, team)
    session.delete(team)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.team_deleted",
        "oncall_team",
        out.slug,
        _dump(out),
        None,
        now,
    )
    return out


# ---------------------------------------------------------------- schedules


def _window_row(days: Sequence[str], start: time, end: time) -> dict[str, Any]:
    return {
        "days": sorted(coverage.WEEKDAYS.index(d) for d in days),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }


def _layer_row(schedule_id: int, data: LayerIn) -> Layer:
    return Layer(
        schedule_id=schedule_id,
        name=data.name,
        position=data.position,
        participants=list(data.participants),
        rotation_unit=data.rotation_unit.value,
        rotation_length=data.rotation_length,
        handoff_time=data.handoff_time,
        timezone=data.timezone,
        starts_on=data.starts_on,
        restrictions=[_window_row(w.days, w.start, w.end) for w in data.restrictions],
        holiday_country=data.holiday_country,
        holiday_subdivision=data.holiday_subdivision or None,
        covers_holidays=data.covers_holidays,
        covers_weekends=data.covers_weekends,
        backup_layer=data.backup_layer,
        backup_only=data.backup_only,
    )


def _layers(session: Session, schedule: Schedule) -> list[Layer]:
    return list(
        session.scalars(
            select(Layer)
            .where(Layer.schedule_id == schedule.id)
            .order_by(Layer.position.desc(), Layer.name)
        )
    )


def layer_spec(layer: Layer) -> coverage.Layer:
    return coverage.Layer(
        name=layer.name,
        position=layer.position,
        rotation=Rotation(
            participants=tuple(layer.participants),
            unit=RotationUnit(layer.rotation_unit),
            length=layer.rotation_length,
            handoff=layer.handoff_time,
            start=layer.starts_on,
            tz=layer.timezone,
        ),
        windows=tuple(
            coverage.Window(
                frozenset(w["days"]), time.fromisoformat(w["start"]), time.fromisoformat(w["end"])
            )
            for w in layer.restrictions
        ),
        holiday_country=layer.holiday_country,
        holiday_subdivision=layer.holiday_subdivision,
        covers_holidays=layer.covers_holidays,
        covers_weekends=layer.covers_weekends,
        backup=layer.backup_layer,
        backup_only=layer.backup_only,
    )


def schedule_spec(
    session: Session, schedule: Schedule, start: datetime, end: datetime
) -> coverage.Schedule:
    """The schedule as the pure coverage functions see it, with overrides touching the window."""
    overrides = session.execute(
        select(Override, Person.handle)
        .join(Person, Person.id == Override.person_id)
        .where(
            Override.schedule_id == schedule.id,
            Override.starts_at < end,
            Override.ends_at > start,
        )
    ).all()
    return coverage.Schedule(
        layers=tuple(layer_spec(layer) for layer in _layers(session, schedule)),
        overrides=tuple(
            coverage.Override(o.id, handle, o.starts_at, o.ends_at, o.reason)
            for o, handle in overrides
        ),
    )


def schedule_out(session: Session, schedule: Schedule) -> ScheduleOut:
    teams = list(
        session.scalars(
            select(Team.slug).where(Team.schedule_id == schedule.id).order_by(Team.slug)
        )
    )
    return ScheduleOut(
        id=schedule.id,
        slug=schedule.slug,
        name=schedule.name,
        description=schedule.description,
        timezone=schedule.timezone,
        layers=[
            LayerOut(
                name=layer.name,
                position=layer.position,
                participants=list(layer.participants),
                rotation_unit=RotationUnit(layer.rotation_unit),
                rotation_length=layer.rotation_length,
                handoff_time=layer.handoff_time,
                timezone=layer.timezone,
                starts_on=layer.starts_on,
                restrictions=[
                    WindowOut(
                        days=[coverage.WEEKDAYS[d] for d in w["days"]],
                        start=time.fromisoformat(w["start"]),
                        end=time.fromisoformat(w["end"]),
                    )
                    for w in layer.restrictions
                ],
                holiday_country=layer.holiday_country,
                holiday_subdivision=layer.holiday_subdivision,
                covers_holidays=layer.covers_holidays,
                covers_weekends=layer.covers_weekends,
                backup_layer=layer.backup_layer,
                backup_only=layer.backup_only,
            )
            for layer in _layers(session, schedule)
        ],
        teams=teams,
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
    )


def list_schedules(session: Session) -> list[Schedule]:
    return list(session.scalars(select(Schedule).order_by(Schedule.slug)))


def _replace_layers(session: Session, schedule: Schedule, layers: Sequence[LayerIn]) -> None:
    _people(session, (h for layer in layers for h in layer.participants))
    for old in _layers(session, schedule):
        session.delete(old)
    session.flush()  # free the (schedule, name) and (schedule, position) keys first
    for layer in layers:
        session.add(_layer_row(schedule.id, layer))
    session.flush()


def create_schedule(
    session: Session, principal: Principal, data: ScheduleCreate, now: datetime
) -> Schedule:
    require(principal, EDITING, "creating schedules")
    if session.scalars(select(Schedule.id).where(Schedule.slug == data.slug)).first():
        raise Conflict(f"schedule {data.slug!r} already exists")
    schedule = Schedule(
        slug=data.slug,
        name=data.name,
        description=data.description,
        timezone=data.timezone,
        created_at=now,
        updated_at=now,
    )
    session.add(schedule)
    session.flush()
    _replace_layers(session, schedule, data.layers)
    _audit(
        session,
        principal.subject,
        "oncall.schedule_created",
        "oncall_schedule",
        schedule.slug,
        None,
        _dump(schedule_out(session, schedule)),
        now,
    )
    return schedule


def update_schedule(
    session: Session, principal: Principal, ref: str, patch: SchedulePatch, now: datetime
) -> Schedule:
    require(principal, EDITING, "editing schedules")
    schedule = get_schedule(session, ref)
    before = _dump(schedule_out(session, schedule))
    changes = patch.model_dump(exclude_unset=True, exclude={"layers"})
    for field, value in changes.items():
        setattr(schedule, field, value)
    if patch.layers is not None:
        _replace_layers(session, schedule, patch.layers)
    session.flush()
    after = _dump(schedule_out(session, schedule))
    if after == before:
        return schedule
    schedule.updated_at = now
    after["updated_at"] = audit.jsonable(now)
    _audit(
        session,
        principal.subject,
        "oncall.schedule_updated",
        "oncall_schedule",
        schedule.slug,
        before,
        after,
        now,
    )
    return schedule


def _policies_using_schedule(session: Session, schedule: Schedule) -> list[str]:
    return [
        p.slug
        for p in session.scalars(select(EscalationPolicy))
        if any(t.get("schedule_id") == schedule.id for lv in p.levels for t in lv["targets"])
    ]


def delete_schedule(session: Session, principal: Principal, ref: str, now: datetime) -> ScheduleOut:
    require(principal, EDITING, "deleting schedules")
    schedule = get_schedule(session, ref)
    policies = _policies_using_schedule(session, schedule)
    if policies:
        raise Conflict(
            f"escalation policies page schedule {schedule.slug}: {', '.join(policies)}; "
            "change them first",
            policies=policies,
        )
    out = schedule_out(session, schedule)
    if out.teams:
        raise Conflict(
            f"teams answer through schedule {schedule.slug}: {', '.join(out.teams)}; "
            "give them another schedule first",
            teams=out.teams,
        )
    for row in session.scalars(select(Override).where(Override.schedule_id == schedule.id)):
        session.delete(row)
    for layer in _layers(session, schedule):
        session.delete(layer)
    session.flush()
    session.delete(schedule)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.schedule_deleted",
        "oncall_schedule",
        out.slug,
        _dump(out),
        None,
        now,
    )
    return out


def _name_of(session: Session, handle: str | None) -> str | None:
    if handle is None:
        return None
    return session.scalars(select(Person.name).where(Person.handle == handle)).first()


def who_is_on_call(session: Session, ref: str, at: datetime) -> OnCallOut:
    """Who is on call for a schedule at ``at``, why, and until when."""
    at = _utc(at, "at")
    schedule = get_schedule(session, ref)
    spec = schedule_spec(session, schedule, at, at + UNTIL_HORIZON)
    who = coverage.on_call(spec, at)
    until = None
    for segment in coverage.final_schedule(spec, at, at + UNTIL_HORIZON):
        if segment.person != who.person:
            until = segment.start
            break
    return OnCallOut(
        schedule=schedule.slug,
        at=at,
        person=who.person,
        name=_name_of(session, who.person),
        layer=who.layer,
        source=who.source,
        reason=who.reason,
        until=until,
    )


def who_is_on_call_for_team(session: Session, slug: str, at: datetime) -> OnCallOut:
    team = get_team(session, slug)
    if team.schedule_id is None:
        raise Conflict(f"team {team.slug} has no on-call schedule; set one (schedule)")
    return who_is_on_call(session, str(team.schedule_id), at)


def _segment_out(segment: coverage.Segment) -> SegmentOut:
    return SegmentOut(
        start=segment.start,
        end=segment.end,
        person=segment.person,
        layer=segment.layer,
        source=segment.source,
        reason=segment.reason,
    )


def final_schedule(session: Session, ref: str, start: datetime, end: datetime) -> FinalScheduleOut:
    start, end = window(start, end)
    schedule = get_schedule(session, ref)
    segments = coverage.final_schedule(schedule_spec(session, schedule, start, end), start, end)
    return FinalScheduleOut(
        schedule=schedule.slug,
        start=start,
        end=end,
        segments=[_segment_out(s) for s in segments],
        uncovered_seconds=sum(s.duration.total_seconds() for s in segments if s.person is None),
    )


def handoffs(session: Session, ref: str, start: datetime, end: datetime) -> list[HandoffOut]:
    start, end = window(start, end)
    schedule = get_schedule(session, ref)
    spec = schedule_spec(session, schedule, start, end)
    return [
        HandoffOut(
            at=h.at,
            from_person=h.from_person,
            to_person=h.to_person,
            from_layer=h.from_layer,
            to_layer=h.to_layer,
            reason=h.reason,
        )
        for h in coverage.handoffs(spec, start, end)
    ]


def _whole_segments(
    session: Session, schedule: Schedule, start: datetime, end: datetime
) -> list[coverage.Segment]:
    """Segments touching [start, end), uncut, so their iCalendar UIDs stay stable."""
    spec = schedule_spec(session, schedule, start - EXPORT_PAD, end + EXPORT_PAD)
    return [
        s
        for s in coverage.final_schedule(spec, start - EXPORT_PAD, end + EXPORT_PAD)
        if s.end > start and s.start < end
    ]


def schedule_ical(
    session: Session, ref: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    start, end = window(start, end)
    schedule = get_schedule(session, ref)
    shifts = [
        ical.Shift(schedule.slug, schedule.name, s)
        for s in _whole_segments(session, schedule, start, end)
    ]
    return ical.calendar(f"On call: {schedule.name}", shifts, now)


def _person_shifts(
    session: Session, person: Person, start: datetime, end: datetime
) -> list[ical.Shift]:
    found: list[ical.Shift] = []
    for schedule in list_schedules(session):
        for segment in _whole_segments(session, schedule, start, end):
            if segment.person == person.handle:
                found.append(ical.Shift(schedule.slug, schedule.name, segment))
    return sorted(found, key=lambda s: (s.segment.start, s.schedule))


def person_shifts(session: Session, handle: str, start: datetime, end: datetime) -> list[ShiftOut]:
    """A person's stretches on call across every schedule."""
    start, end = window(start, end)
    person = get_person(session, handle)
    return [
        ShiftOut(schedule=s.schedule, **_dump(_segment_out(s.segment)))
        for s in _person_shifts(session, person, start, end)
    ]


def person_ical(
    session: Session, handle: str, start: datetime, end: datetime, now: datetime
) -> bytes:
    start, end = window(start, end)
    person = get_person(session, handle)
    return ical.calendar(
        f"On call: {person.name}", _person_shifts(session, person, start, end), now
    )


# ---------------------------------------------------------------- overrides


def override_out(session: Session, override: Override) -> OverrideOut:
    schedule = session.get(Schedule, override.schedule_id)
    person = session.get(Person, override.person_id)
    assert schedule is not None
    assert person is not None
    return OverrideOut(
        id=override.id,
        schedule=schedule.slug,
        person=person.handle,
        starts_at=override.starts_at,
        ends_at=override.ends_at,
        reason=override.reason,
        created_by=override.created_by,
        created_at=override.created_at,
    )


def list_overrides(
    session: Session,
    schedule_ref: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Override]:
    query = select(Override).order_by(Override.starts_at, Override.id)
    if schedule_ref is not None:
        query = query.where(Override.schedule_id == get_schedule(session, schedule_ref).id)
    if start is not None:
        query = query.where(Override.ends_at > _utc(start, "start"))
    if end is not None:
        query = query.where(Override.starts_at < _utc(end, "end"))
    return list(session.scalars(query))


def create_override(
    session: Session, principal: Principal, data: OverrideCreate, now: datetime
) -> Override:
    require(principal, EDITING, "overriding schedules")
    schedule = _ref(session, Schedule, data.schedule, "schedule")
    [person] = _people(session, [data.person])
    override = Override(
        schedule_id=schedule.id,
        person_id=person.id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
        created_by=principal.subject,
        created_at=now,
    )
    session.add(override)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.override_created",
        "oncall_override",
        override.id,
        None,
        _dump(override_out(session, override)),
        now,
    )
    return override


def delete_override(
    session: Session, principal: Principal, override_id: int, now: datetime
) -> OverrideOut:
    require(principal, EDITING, "removing overrides")
    override = session.get(Override, override_id)
    if override is None:
        raise NotFound(f"no override {override_id}")
    out = override_out(session, override)
    session.delete(override)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.override_deleted",
        "oncall_override",
        override_id,
        _dump(out),
        None,
        now,
    )
    return out


# ---------------------------------------------------------------- escalation policies


def _levels_rows(session: Session, levels: Sequence[LevelIn]) -> list[dict[str, Any]]:
    rows = []
    for level in levels:
        targets: list[dict[str, Any]] = []
        for target in level.targets:
            if target.schedule is not None:
                schedule = _ref(session, Schedule, target.schedule, "schedule")
                targets.append({"schedule_id": schedule.id})
            else:
                [person] = _people(session, [target.person or ""])
                targets.append({"person_id": person.id})
        rows.append({"wait_minutes": level.wait_minutes, "targets": targets})
    return rows


def _target_out(session: Session, target: dict[str, Any]) -> TargetOut:
    if "schedule_id" in target:
        schedule = session.get(Schedule, target["schedule_id"])
        return TargetOut(kind="schedule", ref=schedule.slug if schedule else "(deleted)")
    person = session.get(Person, target["person_id"])
    return TargetOut(kind="person", ref=person.handle if person else "(deleted)")


def policy_out(session: Session, policy: EscalationPolicy) -> PolicyOut:
    return PolicyOut(
        id=policy.id,
        slug=policy.slug,
        name=policy.name,
        description=policy.description,
        repeat=policy.repeat,
        levels=[
            LevelOut(
                wait_minutes=level["wait_minutes"],
                targets=[_target_out(session, t) for t in level["targets"]],
            )
            for level in policy.levels
        ],
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def list_policies(session: Session) -> list[EscalationPolicy]:
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.slug)))


def create_policy(
    session: Session, principal: Principal, data: PolicyCreate, now: datetime
) -> EscalationPolicy:
    require(principal, EDITING, "creating escalation policies")
    if session.scalars(
        select(EscalationPolicy.id).where(EscalationPolicy.slug == data.slug)
    ).first():
        raise Conflict(f"escalation policy {data.slug!r} already exists")
    policy = EscalationPolicy(
        slug=data.slug,
        name=data.name,
        description=data.description,
        repeat=data.repeat,
        levels=_levels_rows(session, data.levels),
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.policy_created",
        "oncall_escalation_policy",
        policy.slug,
        None,
        _dump(policy_out(session, policy)),
        now,
    )
    return policy


def update_policy(
    session: Session, principal: Principal, ref: str, patch: PolicyPatch, now: datetime
) -> EscalationPolicy:
    require(principal, EDITING, "editing escalation policies")
    policy = get_policy(session, ref)
    before = _dump(policy_out(session, policy))
    for field in ("name", "description", "repeat"):
        if field in patch.model_fields_set:
            setattr(policy, field, getattr(patch, field))
    if patch.levels is not None:
        policy.levels = _levels_rows(session, patch.levels)
    session.flush()
    after = _dump(policy_out(session, policy))
    if after == before:
        return policy
    policy.updated_at = now
    after["updated_at"] = audit.jsonable(now)
    _audit(
        session,
        principal.subject,
        "oncall.policy_updated",
        "oncall_escalation_policy",
        policy.slug,
        before,
        after,
        now,
    )
    return policy


def delete_policy(session: Session, principal: Principal, ref: str, now: datetime) -> PolicyOut:
    require(principal, EDITING, "deleting escalation policies")
    policy = get_policy(session, ref)
    users = [
        f"team {t.slug}"
        for t in session.scalars(select(Team).where(Team.escalation_policy_id == policy.id))
    ]
    users += [
        f"routing rule {r.name!r}"
        for r in session.scalars(
            select(RoutingRule).where(RoutingRule.escalation_policy_id == policy.id)
        )
    ]
    if session.scalars(select(Page.id).where(Page.escalation_policy_id == policy.id)).first():
        users.append("pages (a policy that has paged is kept for the record)")
    if users:
        raise Conflict(
            f"escalation policy {policy.slug} is used by {', '.join(users)}", used_by=users
        )
    out = policy_out(session, policy)
    session.delete(policy)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.policy_deleted",
        "oncall_escalation_policy",
        out.slug,
        _dump(out),
        None,
        now,
    )
    return out


# ---------------------------------------------------------------- routing rules


def rule_out(session: Session, rule: RoutingRule) -> RuleOut:
    teams = {t.id: t.slug for t in session.scalars(select(Team).where(Team.id.in_(rule.team_ids)))}
    policy = (
        session.get(EscalationPolicy, rule.escalation_policy_id)
        if rule.escalation_policy_id
        else None
    )
    return RuleOut(
        id=rule.id,
        name=rule.name,
        position=rule.position,
        harm_types=[HarmType(h) for h in rule.harm_types],
        min_severity=Severity(rule.min_severity),
        regions=list(rule.regions),
        teams=[teams[t] for t in rule.team_ids if t in teams],
        escalation_policy=policy.slug if policy else None,
        stop=rule.stop,
        enabled=rule.enabled,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def list_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"no routing rule {rule_id}")
    return rule


def _team_ids(session: Session, slugs: Sequence[str]) -> list[int]:
    return [_ref(session, Team, slug, "team").id for slug in dict.fromkeys(slugs)]


def _unique_rule_name(session: Session, name: str, rule_id: int | None = None) -> None:
    other = session.scalars(select(RoutingRule.id).where(RoutingRule.name == name)).first()
    if other is not None and other != rule_id:
        raise Conflict(f"a routing rule is already called {name!r}")


def create_rule(
    session: Session, principal: Principal, data: RuleCreate, now: datetime
) -> RoutingRule:
    require(principal, EDITING, "creating routing rules")
    _unique_rule_name(session, data.name)
    policy = _ref(session, EscalationPolicy, data.escalation_policy, "escalation policy")
    rule = RoutingRule(
        name=data.name,
        position=data.position,
        harm_types=[h.value for h in dict.fromkeys(data.harm_types)],
        min_severity=data.min_severity.value,
        regions=list(data.regions),
        team_ids=_team_ids(session, data.teams),
        escalation_policy_id=policy.id if policy else None,
        stop=data.stop,
        enabled=data.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.rule_created",
        "oncall_routing_rule",
        rule.id,
        None,
        _dump(rule_out(session, rule)),
        now,
    )
    return rule


def update_rule(
    session: Session, principal: Principal, rule_id: int, patch: RulePatch, now: datetime
) -> RoutingRule:
    require(principal, EDITING, "editing routing rules")
    rule = get_rule(session, rule_id)
    before = _dump(rule_out(session, rule))
    changes = patch.model_dump(exclude_unset=True)
    if "name" in changes:
        _unique_rule_name(session, changes["name"], rule.id)
        rule.name = changes["name"]
    for field in ("position", "stop", "enabled"):
        if field in changes:
            setattr(rule, field, changes[field])
    if "harm_types" in changes:
        rule.harm_types = [h.value for h in dict.fromkeys(changes["harm_types"])]
    if "min_severity" in changes:
        rule.min_severity = changes["min_severity"].value
    if "regions" in changes:
        rule.regions = list(changes["regions"])
    if "teams" in changes:
        rule.team_ids = _team_ids(session, changes["teams"])
    if "escalation_policy" in changes:
        policy = _ref(session, EscalationPolicy, changes["escalation_policy"], "escalation policy")
        rule.escalation_policy_id = policy.id if policy else None
    if not rule.team_ids and rule.escalation_policy_id is None:
        raise InvalidInput("a rule engages at least one team or an escalation policy")
    session.flush()
    after = _dump(rule_out(session, rule))
    if after == before:
        return rule
    rule.updated_at = now
    after["updated_at"] = audit.jsonable(now)
    _audit(
        session,
        principal.subject,
        "oncall.rule_updated",
        "oncall_routing_rule",
        rule.id,
        before,
        after,
        now,
    )
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: int, now: datetime) -> RuleOut:
    require(principal, EDITING, "deleting routing rules")
    rule = get_rule(session, rule_id)
    out = rule_out(session, rule)
    session.delete(rule)
    session.flush()
    _audit(
        session,
        principal.subject,
        "oncall.rule_deleted",
        "oncall_routing_rule",
        rule_id,
        _dump(out),
        None,
        now,
    )
    return out


def _function_engagements(
    session: Session, functions: Sequence[str], already: Sequence[routing.Engagement]
) -> list[routing.Engagement]:
    """Teams a playbook escalates to by function, unless routing already engaged them."""
    if not functions:
        return []
    engaged = {e.team for e in already}
    policies = {p.id: p.slug for p in session.scalars(select(EscalationPolicy))}
    out = []
    for team in session.scalars(
        select(Team).where(Team.function.in_(list(functions))).order_by(Team.slug)
    ):
        if team.slug in engaged or team.escalation_policy_id not in policies:
            continue
        out.append(
            routing.Engagement(
                team=team.slug,
                escalation_policy=policies[team.escalation_policy_id],
                rules=(),
                reasons=(f"the playbook escalates to {team.function}",),
            )
        )
    return out


def on_call_for_function(session: Session, function: str, at: datetime) -> str | None:
    """Who is on call now for a function (its first team with a schedule), if anyone."""
    for team in session.scalars(select(Team).where(Team.function == function).order_by(Team.slug)):
        if team.schedule_id is None:
            continue
        person = who_is_on_call(session, str(team.schedule_id), at).person
        if person:
            return person
    return None


def _route(
    session: Session, harm_type: str, severity: Severity, regions: Sequence[str]
) -> list[routing.Engagement]:
    rules = list_rules(session)
    if not rules:
        return []
    teams = {t.id: t for t in session.scalars(select(Team))}
    policies = {p.id: p.slug for p in session.scalars(select(EscalationPolicy))}
    specs = [
        routing.Rule(
            name=r.name,
            position=r.position,
            harm_types=frozenset(r.harm_types),
            min_severity=Severity(r.min_severity),
            regions=frozenset(r.regions),
            teams=tuple(teams[t].slug for t in r.team_ids if t in teams),
            escalation_policy=policies.get(r.escalation_policy_id or 0),
            stop=r.stop,
            enabled=r.enabled,
        )
        for r in rules
    ]
    team_policies = {
        t.slug: policies[t.escalation_policy_id]
        for t in teams.values()
        if t.escalation_policy_id in policies
    }
    return routing.route(specs, harm_type, severity, regions, team_policies)


def _engagement_out(
    session: Session, engagement: routing.Engagement, at: datetime
) -> EngagementOut:
    responders: list[Responder] = []
    if engagement.escalation_policy:
        policy = get_policy(session, engagement.escalation_policy)
        if policy.levels:
            responders = [
                Responder(person=p.handle, name=p.name, via=via)
                for p, via in _recipients(session, policy.levels[0], at)
            ]
    return EngagementOut(
        team=engagement.team,
        escalation_policy=engagement.escalation_policy,
        rules=list(engagement.rules),
        reasons=list(engagement.reasons),
        first_responders=responders,
    )


def preview_routing(
    session: Session,
    harm_type: HarmType,
    severity: Severity,
    regions: Sequence[str],
    at: datetime,
) -> RoutingPreviewOut:
    """Who would be engaged, and who would be paged first, for an incident of this kind."""
    at = _utc(at, "at")
    engagements = _route(session, harm_type.value, severity, regions)
    return RoutingPreviewOut(
        harm_type=harm_type,
        severity=severity,
        regions=list(regions),
        at=at,
        engagements=[_engagement_out(session, e, at) for e in engagements],
    )


# ---------------------------------------------------------------- paging


def _deliver(
    session: Session,
    *,
    channel: Channel,
    target: str,
    subject: str,
    body: str,
    idempotency_key: str,
    now: datetime,
    incident_key: str | None,
    payload: dict[str, Any],
) -> int | None:
    """Hand one notification to the comms domain (delivery row + outbox, same transaction).

    The idempotency key makes a retried step reuse the delivery it already queued.
    """
    delivery = comms.deliver(
        session,
        channel=CommsChannel(channel.value),
        target=target,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        now=now,
        incident_key=incident_key,
        payload=payload,
    )
    return int(delivery.id)


def _recipients(session: Session, level: dict[str, Any], at: datetime) -> list[tuple[Person, str]]:
    """The active people a level's targets reach at ``at``, each once, with how."""
    found: dict[str, tuple[Person, str]] = {}
    for target in level["targets"]:
        if "schedule_id" in target:
            schedule = session.get(Schedule, target["schedule_id"])
            if schedule is None:
                continue
            who = coverage.on_call(
                schedule_spec(session, schedule, at, at + timedelta(seconds=1)), at
            )
            if who.person is None:
                continue
            person = session.scalars(select(Person).where(Person.handle == who.person)).first()
            via = f"schedule {schedule.slug} ({who.layer or who.source.value})"
        else:
            person = session.get(Person, target["person_id"])
            via = "named in the policy"
        if person is not None and person.active and person.handle not in found:
            found[person.handle] = (person, via)
    return list(found.values())


def contact_targets(session: Session, handle: str) -> list[tuple[str, str]]:
    """Where to reach a person: [(channel, target), …] ("email", "slack", "webhook").

    The comms domain resolves reminder recipients through this. Unknown or inactive
    people have no targets.
    """
    person = session.scalars(select(Person).where(Person.handle == handle)).one_or_none()
    if person is None or not person.active:
        return []
    return [(channel.value, target) for channel, target in _contacts(person)]


def _contacts(person: Person) -> list[tuple[Channel, str]]:
    contacts = [
        (Channel.EMAIL, person.email),
        (Channel.SLACK, person.slack_webhook_url),
        (Channel.WEBHOOK, person.webhook_url),
    ]
    return [(channel, target) for channel, target in contacts if target]


def _notify(
    session: Session, page: Page, step: Step, person: Person, via: str, now: datetime
) -> list[PageNotification]:
    notes: list[PageNotification] = []
    contacts: list[tuple[Channel, str | None]] = list(_contacts(person)) or [(Channel.NONE, None)]
    subject = f"[{page.severity or 'PAGE'}] {page.summary}"[:300]
    body = (
        f"{page.summary}\n\n"
        + (f"Incident: {page.incident_key}\n" if page.incident_key else "")
        + f"Page #{page.id}, escalation level {step.level + 1}, round {step.round + 1}; "
        f"you are paged via {via}.\n"
        f"Acknowledge: rapidresponse oncall page ack {page.id}  "
        f"(or POST /api/v1/pages/{page.id}/acknowledge)\n"
    )
    for channel, target in contacts:
        exists = session.scalars(
            select(PageNotification.id).where(
                PageNotification.page_id == page.id,
                PageNotification.level == step.level,
                PageNotification.round == step.round,
                PageNotification.person == person.handle,
                PageNotification.channel == channel.value,
            )
        ).first()
        if exists is not None:
            continue
        delivery_id, error = None, None
        if target is not None:
            try:
                with session.begin_nested():
                    delivery_id = _deliver(
                        session,
                        channel=channel,
                        target=target,
                        subject=subject,
                        body=body,
                        idempotency_key=escalation.delivery_key(
                            page.id, step, person.handle, channel
                        ),
                        now=now,
                        incident_key=page.incident_key,
                        payload={
                            "kind": "page",
                            "page_id": page.id,
                            "incident_key": page.incident_key,
                            "severity": page.severity,
                            "summary": page.summary,
                            "person": person.handle,
                            "level": step.level,
                            "round": step.round,
                        },
                    )
            except (DomainError, ValueError) as exc:
                # One unusable address must not stop the page reaching the others.
                error = f"not queued: {exc}"[:2000]
        note = PageNotification(
            page_id=page.id,
            person=person.handle,
            level=step.level,
            round=step.round,
            channel=channel.value,
            target=target,
            delivery_id=delivery_id,
            via=via[:200],
            error=error,
            notified_at=now,
        )
        session.add(note)
        notes.append(note)
    session.flush()
    return notes


def _page_event(
    session: Session,
    page: Page,
    actor: Principal,
    event: str,
    text: str,
    now: datetime,
    before: dict[str, Any] | None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record one page event in the audit log and, for incident pages, the timeline."""
    session.flush()
    _audit(
        session,
        actor.subject,
        f"oncall.page_{event}",
        "oncall_page",
        page.id,
        before,
        audit.snapshot(page),
        now,
    )
    if page.incident_key:
        # The paged person acts on the page they were sent even when the incident is
        # need-to-know and they are not (yet) on it: the entry keeps their name.
        writer = Principal(subject=actor.subject, role=Role.ADMIN, token_id=actor.token_id)
        incidents.record_event(
            session,
            writer,
            page.incident_key,
            TimelineKind.PAGE,
            f"Page #{page.id}: {text}",
            now,
            {"page_id": page.id, "event": event, "status": page.status, **(data or {})},
        )


def _snapshot_policy(policy: EscalationPolicy) -> dict[str, Any]:
    return {"slug": policy.slug, "repeat": policy.repeat, "levels": policy.levels}


def _run_step(session: Session, page: Page, step: Step, actor: Principal, now: datetime) -> None:
    """Notify ``step``'s targets and arm its timer; move on at once past levels nobody covers."""
    levels = page.policy_snapshot["levels"]
    repeat = int(page.policy_snapshot["repeat"])
    current: Step | None = step
    while current is not None:
        page.level, page.round = current.level, current.round
        level = levels[current.level]
        recipients = _recipients(session, level, now)
        notified: list[str] = []
        for person, via in recipients:
            notes = _notify(session, page, current, person, via, now)
            channels = ", ".join(n.channel for n in notes) or "already notified"
            notified.append(f"{person.handle} ({via}; {channels})")
        where = f"level {current.level + 1} round {current.round + 1}"
        if recipients:
            due = now + escalation.wait(int(level["wait_minutes"]))
            outbox.schedule(
                session,
                escalation.TIMER_TOPIC,
                {"page_id": page.id, "level": current.level, "round": current.round},
                due_at=due,
                key=escalation.timer_key(page.id, current),
                now=now,
            )
            page.next_escalation_at = due
            page.updated_at = now
            _page_event(
                session,
                page,
                actor,
                "notified",
                f"{where}: notified {'; '.join(notified)}; escalates at {due:%H:%M} UTC "
                "unless acknowledged",
                now,
                None,
                {
                    "level": current.level,
                    "round": current.round,
                    "people": [p.handle for p, _ in recipients],
                    "escalates_at": due,
                },
            )
            return
        _page_event(
            session,
            page,
            actor,
            "unstaffed",
            f"{where}: nobody to notify (no one on call); escalating at once",
            now,
            None,
            {"level": current.level, "round": current.round},
        )
        current = escalation.next_step(current, len(levels), repeat)
    _exhaust(session, page, actor, now)


def _exhaust(session: Session, page: Page, actor: Principal, now: datetime) -> None:
    before = audit.snapshot(page)
    page.status = PageStatus.EXHAUSTED.value
    page.exhausted_at = now
    page.next_escalation_at = None
    page.updated_at = now
    _page_event(
        session,
        page,
        actor,
        "exhausted",
        "escalation policy exhausted with nobody acknowledging; "
        "page stays open until acknowledged or resolved",
        now,
        before,
    )


def trigger_page(
    session: Session,
    principal: Principal,
    data: PageCreate,
    now: datetime,
    *,
    dedup_key: str | None = None,
) -> Page:
    """Page an escalation policy: notify its first level now and arm the escalation timer."""
    require(principal, Role.RESPONDER, "paging")
    policy = _ref(session, EscalationPolicy, data.escalation_policy, "escalation policy")
    incident_key = None
    if data.incident_key:
        if not _INCIDENT_KEY.match(data.incident_key):
            raise NotFound(f"no incident {data.incident_key}")
        incident_key = incidents.get_incident(session, principal, data.incident_key).key
    page = Page(
        incident_key=incident_key,
        escalation_policy_id=policy.id,
        dedup_key=dedup_key,
        summary=data.summary,
        severity=data.severity.value if data.severity else None,
        status=PageStatus.TRIGGERED.value,
        level=0,
        round=0,
        policy_snapshot=_snapshot_policy(policy),
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
    )
    session.add(page)
    session.flush()
    _page_event(
        session,
        page,
        principal,
        "triggered",
        f"triggered {policy.slug} by {principal.subject}: {page.summary}",
        now,
        None,
        {"escalation_policy": policy.slug},
    )
    _run_step(session, page, escalation.first_step(), principal, now)
    return page


def escalation_timer_fired(session: Session, payload: dict[str, Any], now: datetime) -> None:
    """Outbox session handler for "oncall.escalate": runs once, in the delivery transaction."""
    page = session.scalars(
        select(Page).where(Page.id == int(payload["page_id"])).with_for_update()
    ).one_or_none()
    if page is None or page.status != PageStatus.TRIGGERED.value:
        return  # acknowledged, resolved or exhausted meanwhile: nothing to escalate
    fired = Step(round=int(payload["round"]), level=int(payload["level"]))
    if (page.round, page.level) != (fired.round, fired.level):
        return  # a stale timer for a step the page has already left
    snapshot = page.policy_snapshot
    step = escalation.next_step(fired, len(snapshot["levels"]), int(snapshot["repeat"]))
    if step is None:
        _exhaust(session, page, ESCALATOR, now)
        return
    before = audit.snapshot(page)
    _page_event(
        session,
        page,
        ESCALATOR,
        "escalated",
        f"unacknowledged after {snapshot['levels'][fired.level]['wait_minutes']} min; "
        f"escalating to level {step.level + 1} round {step.round + 1}",
        now,
        before,
        {
            "from_level": fired.level,
            "from_round": fired.round,
            "level": step.level,
            "round": step.round,
        },
    )
    _run_step(session, page, step, ESCALATOR, now)


def get_page(session: Session, principal: Principal, page_id: int) -> Page:
    page = session.get(Page, page_id)
    if page is None or not _may_see(session, principal, page):
        raise NotFound(f"no page {page_id}")
    return page


def _may_see(session: Session, principal: Principal, page: Page) -> bool:
    """Pages of a need-to-know incident are seen by those who see it and those paged."""
    if page.incident_key is None or principal.role is Role.ADMIN:
        return True
    if principal.subject in _notified(session, page):
        return True
    try:
        incidents.get_incident(session, principal, page.incident_key)
    except NotFound:
        return False
    return True


def _notified(session: Session, page: Page) -> set[str]:
    return set(
        session.scalars(select(PageNotification.person).where(PageNotification.page_id == page.id))
    )


def list_pages(
    session: Session,
    principal: Principal,
    status: Sequence[PageStatus] | None = None,
    incident_key: str | None = None,
    limit: int = 100,
) -> list[Page]:
    query = select(Page).order_by(Page.id.desc())
    if status:
        query = query.where(Page.status.in_([s.value for s in status]))
    if incident_key:
        if not _INCIDENT_KEY.match(incident_key.strip()):
            return []
        query = query.where(Page.incident_key == incident_key.strip().upper())
    pages = []
    for page in session.scalars(query):
        if _may_see(session, principal, page):
            pages.append(page)
            if len(pages) >= limit:
                break
    return pages


def _may_answer(session: Session, principal: Principal, page: Page, action: str) -> None:
    if principal.has(Role.INCIDENT_MANAGER) or principal.subject in _notified(session, page):
        return
    raise Forbidden(
        f"{action} page {page.id} needs the incident_manager role or being one of the people "
        "it notified"
    )


def _settle(
    session: Session,
    principal: Principal,
    page_id: int,
    target: PageStatus,
    now: datetime,
    note: str | None,
) -> Page:
    action = "acknowledging" if target is PageStatus.ACKNOWLEDGED else "resolving"
    page = get_page(session, principal, page_id)
    _may_answer(session, principal, page, action)
    # Cancel the pending timer before locking the page: the worker locks the timer first and
    # the page second, and taking them in the same order rules out a deadlock.
    outbox.cancel(session, escalation.timer_key(page.id, Step(page.round, page.level)))
    locked = session.scalars(select(Page).where(Page.id == page.id).with_for_update()).one()
    current = PageStatus(locked.status)
    if current is target:
        return locked  # asking twice is harmless
    if target not in escalation.TRANSITIONS[current]:
        raise Conflict(f"page {page.id} is {current.value}; it cannot be {target.value}")
    outbox.cancel(session, escalation.timer_key(locked.id, Step(locked.round, locked.level)))
    before = audit.snapshot(locked)
    locked.status = target.value
    locked.next_escalation_at = None
    locked.updated_at = now
    if target is PageStatus.ACKNOWLEDGED:
        locked.acknowledged_at, locked.acknowledged_by = now, principal.subject
    else:
        locked.resolved_at, locked.resolved_by = now, principal.subject
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by = now, principal.subject
    verb = "acknowledged" if target is PageStatus.ACKNOWLEDGED else "resolved"
    _page_event(
        session,
        locked,
        principal,
        verb,
        f"{verb} by {principal.subject}" + (f": {note}" if note else ""),
        now,
        before,
        {"note": note} if note else None,
    )
    return locked


def acknowledge_page(
    session: Session, principal: Principal, page_id: int, now: datetime, note: str | None = None
) -> Page:
    """Stop escalation: only someone the page notified, or an incident manager, may."""
    return _settle(session, principal, page_id, PageStatus.ACKNOWLEDGED, now, note)


def resolve_page(
    session: Session, principal: Principal, page_id: int, now: datetime, note: str | None = None
) -> Page:
    return _settle(session, principal, page_id, PageStatus.RESOLVED, now, note)


def page_out(session: Session, page: Page) -> PageOut:
    notes = session.scalars(
        select(PageNotification)
        .where(PageNotification.page_id == page.id)
        .order_by(PageNotification.round, PageNotification.level, PageNotification.id)
    )
    return PageOut(
        id=page.id,
        incident_key=page.incident_key,
        escalation_policy=str(page.policy_snapshot.get("slug", page.escalation_policy_id)),
        summary=page.summary,
        severity=Severity(page.severity) if page.severity else None,
        status=PageStatus(page.status),
        level=page.level,
        round=page.round,
        created_at=page.created_at,
        created_by=page.created_by,
        next_escalation_at=page.next_escalation_at,
        acknowledged_at=page.acknowledged_at,
        acknowledged_by=page.acknowledged_by,
        resolved_at=page.resolved_at,
        resolved_by=page.resolved_by,
        exhausted_at=page.exhausted_at,
        notifications=[
            NotificationOut(
                person=n.person,
                level=n.level,
                round=n.round,
                channel=Channel(n.channel),
                delivery_id=n.delivery_id,
                via=n.via,
                error=n.error,
                notified_at=n.notified_at,
            )
            for n in notes
        ],
    )


# ---------------------------------------------------------------- incidents


def incident_dedup_key(incident_key: str, policy_id: int) -> str:
    return f"incident:{incident_key}:policy:{policy_id}"


def engage_for_incident(
    session: Session,
    principal: Principal,
    incident_key: str,
    now: datetime,
    functions: Sequence[str] = (),
) -> EngageOut:
    """Route an incident and page each matching escalation policy once.

    Called when an incident is declared or re-planned. ``functions`` are the functions the
    incident's playbook escalates to at its severity: every team of such a function that has
    an escalation policy is engaged too, alongside what the routing rules pick. Idempotent
    per incident and policy: a policy this incident has already paged (whatever that page's
    state) is reported, not paged again, so re-planning never pages twice.
    """
    require(principal, Role.RESPONDER, "engaging on-call for an incident")
    if not _INCIDENT_KEY.match(incident_key):
        raise NotFound(f"no incident {incident_key}")
    incident = incidents.get_incident(session, principal, incident_key)
    severity = Severity(incident.severity)
    engagements = _route(session, incident.harm_type, severity, incident.regions)
    engagements += _function_engagements(session, functions, engagements)
    pages: list[PageRef] = []
    for slug in routing.policies_to_page(engagements):
        policy = get_policy(session, slug)
        key = incident_dedup_key(incident.key, policy.id)
        existing = session.scalars(select(Page).where(Page.dedup_key == key)).one_or_none()
        created = False
        if existing is None:
            teams = [e.team for e in engagements if e.escalation_policy == slug and e.team]
            data = PageCreate(
                escalation_policy=policy.slug,
                summary=f"{incident.key} {severity.value}: {incident.title}"[:500],
                severity=severity,
                incident_key=incident.key,
            )
            try:
                with session.begin_nested():
                    existing = trigger_page(session, principal, data, now, dedup_key=key)
                created = True
            except IntegrityError:  # a concurrent re-plan paged it first
                existing = session.scalars(select(Page).where(Page.dedup_key == key)).one()
            if created and teams:
                _audit(
                    session,
                    principal.subject,
                    "oncall.teams_engaged",
                    "oncall_page",
                    existing.id,
                    None,
                    {"incident": incident.key, "teams": teams},
                    now,
                )
        pages.append(
            PageRef(
                page_id=existing.id,
                escalation_policy=policy.slug,
                status=PageStatus(existing.status),
                created=created,
            )
        )
    return EngageOut(
        incident_key=incident.key,
        harm_type=HarmType(incident.harm_type),
        severity=severity,
        regions=list(incident.regions),
        engagements=[_engagement_out(session, e, now) for e in engagements],
        pages=pages,
    )


def session_handlers() -> dict[str, SessionHandler]:
    """The outbox session handlers this domain registers (see outbox/handlers.py)."""
    return {escalation.TIMER_TOPIC: escalation_timer_fired}

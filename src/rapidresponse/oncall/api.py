"""On-call endpoints under /api/v1: a thin translation of HTTP into on-call use cases.

Reads need any role (viewer and up); editing people, teams, schedules, overrides, policies
and routing rules needs incident_manager; anyone from responder up may page; a page is
acknowledged or resolved by someone it notified or by an incident manager.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from rapidresponse.auth.policy import Principal
from rapidresponse.errors import InvalidInput
from rapidresponse.http import RowId, current_principal, unit_of_work
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.oncall import service
from rapidresponse.oncall.escalation import PageStatus
from rapidresponse.oncall.schemas import (
    EngageOut,
    FinalScheduleOut,
    HandoffOut,
    OnCallOut,
    OverrideCreate,
    OverrideOut,
    PageActionIn,
    PageCreate,
    PageOut,
    PersonCreate,
    PersonOut,
    PersonPatch,
    PolicyCreate,
    PolicyOut,
    PolicyPatch,
    RoutingPreviewOut,
    RuleCreate,
    RuleOut,
    RulePatch,
    ScheduleCreate,
    ScheduleOut,
    SchedulePatch,
    ShiftOut,
    TeamCreate,
    TeamFunction,
    TeamOut,
    TeamPatch,
    normalise_rule_regions,
)

router = APIRouter(tags=["oncall"])
Auth = Annotated[Principal, Depends(current_principal)]
Id = RowId
Ref = Annotated[str, Path(max_length=120, description="Slug or numeric id")]
HandlePath = Annotated[str, Path(max_length=120)]
At = Annotated[datetime | None, Query(description="Instant, with zone (default: now)")]
Start = Annotated[datetime | None, Query(description="Window start, with zone (default: now)")]
End = Annotated[
    datetime | None,
    Query(description="Window end, with zone (default: start + 7 days; 60 for iCalendar)"),
]
CALENDAR = "text/calendar; charset=utf-8"


def _now(request: Request) -> datetime:
    return request.app.state.clock.now()  # type: ignore[no-any-return]


def _window(
    request: Request, start: datetime | None, end: datetime | None, days: int = 7
) -> tuple[datetime, datetime]:
    return service.window(start or _now(request), end, timedelta(days=days))


def _calendar(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type=CALENDAR,
        headers={"Content-Disposition": f'attachment; filename="{name}.ics"'},
    )


# ---------------------------------------------------------------- people


@router.get("/people", response_model=list[PersonOut], summary="People who can be on call")
def list_people(request: Request, principal: Auth, active: bool | None = None) -> list[PersonOut]:
    with unit_of_work(request) as session:
        return [
            service.person_out(session, p, principal) for p in service.list_people(session, active)
        ]


@router.post(
    "/people", response_model=PersonOut, status_code=status.HTTP_201_CREATED, summary="Add a person"
)
def create_person(request: Request, principal: Auth, body: PersonCreate) -> PersonOut:
    with unit_of_work(request) as session:
        person = service.create_person(session, principal, body, _now(request))
        return service.person_out(session, person, principal)


@router.get("/people/{handle}", response_model=PersonOut, summary="One person")
def get_person(request: Request, principal: Auth, handle: HandlePath) -> PersonOut:
    with unit_of_work(request) as session:
        return service.person_out(session, service.get_person(session, handle), principal)


@router.patch("/people/{handle}", response_model=PersonOut, summary="Edit or deactivate a person")
def update_person(
    request: Request, principal: Auth, handle: HandlePath, body: PersonPatch
) -> PersonOut:
    with unit_of_work(request) as session:
        person = service.update_person(session, principal, handle, body, _now(request))
        return service.person_out(session, person, principal)


@router.get(
    "/people/{handle}/shifts",
    response_model=list[ShiftOut],
    summary="A person's on-call shifts across every schedule",
)
def person_shifts(
    request: Request, principal: Auth, handle: HandlePath, start: Start = None, end: End = None
) -> list[ShiftOut]:
    start, end = _window(request, start, end)
    with unit_of_work(request) as session:
        return service.person_shifts(session, handle, start, end)


@router.get(
    "/people/{handle}/ical",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    summary="A person's on-call shifts as iCalendar (default: next 60 days)",
)
def person_ical(
    request: Request, principal: Auth, handle: HandlePath, start: Start = None, end: End = None
) -> Response:
    start, end = _window(request, start, end, days=60)
    with unit_of_work(request) as session:
        body = service.person_ical(session, handle, start, end, _now(request))
    return _calendar(body, f"oncall-{handle}")


# ---------------------------------------------------------------- teams


@router.get("/teams", response_model=list[TeamOut], summary="Teams and their functions")
def list_teams(
    request: Request, principal: Auth, function: TeamFunction | None = None
) -> list[TeamOut]:
    with unit_of_work(request) as session:
        return [service.team_out(session, t) for t in service.list_teams(session, function)]


@router.post(
    "/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED, summary="Add a team"
)
def create_team(request: Request, principal: Auth, body: TeamCreate) -> TeamOut:
    with unit_of_work(request) as session:
        return service.team_out(
            session, service.create_team(session, principal, body, _now(request))
        )


@router.get("/teams/{slug}", response_model=TeamOut, summary="One team")
def get_team(request: Request, principal: Auth, slug: Ref) -> TeamOut:
    with unit_of_work(request) as session:
        return service.team_out(session, service.get_team(session, slug))


@router.patch("/teams/{slug}", response_model=TeamOut, summary="Edit a team (members replace)")
def update_team(request: Request, principal: Auth, slug: Ref, body: TeamPatch) -> TeamOut:
    with unit_of_work(request) as session:
        return service.team_out(
            session, service.update_team(session, principal, slug, body, _now(request))
        )


@router.delete("/teams/{slug}", response_model=TeamOut, summary="Delete a team")
def delete_team(request: Request, principal: Auth, slug: Ref) -> TeamOut:
    with unit_of_work(request) as session:
        return service.delete_team(session, principal, slug, _now(request))


@router.get(
    "/teams/{slug}/oncall", response_model=OnCallOut, summary="Who is on call for a team at a time"
)
def team_oncall(request: Request, principal: Auth, slug: Ref, at: At = None) -> OnCallOut:
    with unit_of_work(request) as session:
        return service.who_is_on_call_for_team(session, slug, at or _now(request))


# ---------------------------------------------------------------- schedules


@router.get("/schedules", response_model=list[ScheduleOut], summary="On-call schedules")
def list_schedules(request: Request, principal: Auth) -> list[ScheduleOut]:
    with unit_of_work(request) as session:
        return [service.schedule_out(session, s) for s in service.list_schedules(session)]


@router.post(
    "/schedules",
    response_model=ScheduleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a schedule with its layers",
)
def create_schedule(request: Request, principal: Auth, body: ScheduleCreate) -> ScheduleOut:
    with unit_of_work(request) as session:
        return service.schedule_out(
            session, service.create_schedule(session, principal, body, _now(request))
        )


@router.get("/schedules/{ref}", response_model=ScheduleOut, summary="One schedule")
def get_schedule(request: Request, principal: Auth, ref: Ref) -> ScheduleOut:
    with unit_of_work(request) as session:
        return service.schedule_out(session, service.get_schedule(session, ref))


@router.patch(
    "/schedules/{ref}", response_model=ScheduleOut, summary="Edit a schedule (layers replace)"
)
def update_schedule(
    request: Request, principal: Auth, ref: Ref, body: SchedulePatch
) -> ScheduleOut:
    with unit_of_work(request) as session:
        return service.schedule_out(
            session, service.update_schedule(session, principal, ref, body, _now(request))
        )


@router.delete("/schedules/{ref}", response_model=ScheduleOut, summary="Delete a schedule")
def delete_schedule(request: Request, principal: Auth, ref: Ref) -> ScheduleOut:
    with unit_of_work(request) as session:
        return service.delete_schedule(session, principal, ref, _now(request))


@router.get("/schedules/{ref}/oncall", response_model=OnCallOut, summary="Who is on call at a time")
def schedule_oncall(request: Request, principal: Auth, ref: Ref, at: At = None) -> OnCallOut:
    with unit_of_work(request) as session:
        return service.who_is_on_call(session, ref, at or _now(request))


@router.get(
    "/schedules/{ref}/final",
    response_model=FinalScheduleOut,
    summary="The final schedule: who covers each stretch of a window, and why",
)
def schedule_final(
    request: Request, principal: Auth, ref: Ref, start: Start = None, end: End = None
) -> FinalScheduleOut:
    start, end = _window(request, start, end)
    with unit_of_work(request) as session:
        return service.final_schedule(session, ref, start, end)


@router.get(
    "/schedules/{ref}/handoffs",
    response_model=list[HandoffOut],
    summary="When the pager changes hands within a window",
)
def schedule_handoffs(
    request: Request, principal: Auth, ref: Ref, start: Start = None, end: End = None
) -> list[HandoffOut]:
    start, end = _window(request, start, end)
    with unit_of_work(request) as session:
        return service.handoffs(session, ref, start, end)


@router.get(
    "/schedules/{ref}/ical",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
    summary="The schedule as iCalendar (default: next 60 days)",
)
def schedule_ical(
    request: Request, principal: Auth, ref: Ref, start: Start = None, end: End = None
) -> Response:
    start, end = _window(request, start, end, days=60)
    with unit_of_work(request) as session:
        body = service.schedule_ical(session, ref, start, end, _now(request))
        slug = service.get_schedule(session, ref).slug
    return _calendar(body, f"oncall-{slug}")


# ---------------------------------------------------------------- overrides


@router.get("/overrides", response_model=list[OverrideOut], summary="Schedule overrides")
def list_overrides(
    request: Request,
    principal: Auth,
    schedule: Annotated[str | None, Query(max_length=120)] = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[OverrideOut]:
    with unit_of_work(request) as session:
        return [
            service.override_out(session, o)
            for o in service.list_overrides(session, schedule, start, end)
        ]


@router.post(
    "/overrides",
    response_model=OverrideOut,
    status_code=status.HTTP_201_CREATED,
    summary="Someone covers a schedule for a while",
)
def create_override(request: Request, principal: Auth, body: OverrideCreate) -> OverrideOut:
    with unit_of_work(request) as session:
        return service.override_out(
            session, service.create_override(session, principal, body, _now(request))
        )


@router.delete("/overrides/{override_id}", response_model=OverrideOut, summary="Remove an override")
def delete_override(request: Request, principal: Auth, override_id: Id) -> OverrideOut:
    with unit_of_work(request) as session:
        return service.delete_override(session, principal, override_id, _now(request))


# ---------------------------------------------------------------- escalation policies


@router.get("/escalation-policies", response_model=list[PolicyOut], summary="Escalation policies")
def list_policies(request: Request, principal: Auth) -> list[PolicyOut]:
    with unit_of_work(request) as session:
        return [service.policy_out(session, p) for p in service.list_policies(session)]


@router.post(
    "/escalation-policies",
    response_model=PolicyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an escalation policy",
)
def create_policy(request: Request, principal: Auth, body: PolicyCreate) -> PolicyOut:
    with unit_of_work(request) as session:
        return service.policy_out(
            session, service.create_policy(session, principal, body, _now(request))
        )


@router.get("/escalation-policies/{ref}", response_model=PolicyOut, summary="One policy")
def get_policy(request: Request, principal: Auth, ref: Ref) -> PolicyOut:
    with unit_of_work(request) as session:
        return service.policy_out(session, service.get_policy(session, ref))


@router.patch(
    "/escalation-policies/{ref}", response_model=PolicyOut, summary="Edit an escalation policy"
)
def update_policy(request: Request, principal: Auth, ref: Ref, body: PolicyPatch) -> PolicyOut:
    with unit_of_work(request) as session:
        return service.policy_out(
            session, service.update_policy(session, principal, ref, body, _now(request))
        )


@router.delete(
    "/escalation-policies/{ref}", response_model=PolicyOut, summary="Delete an unused policy"
)
def delete_policy(request: Request, principal: Auth, ref: Ref) -> PolicyOut:
    with unit_of_work(request) as session:
        return service.delete_policy(session, principal, ref, _now(request))


# ---------------------------------------------------------------- routing rules


@router.get("/routing-rules", response_model=list[RuleOut], summary="Routing rules, in order")
def list_rules(request: Request, principal: Auth) -> list[RuleOut]:
    with unit_of_work(request) as session:
        return [service.rule_out(session, r) for r in service.list_rules(session)]


@router.get(
    "/routing-rules/preview",
    response_model=RoutingPreviewOut,
    summary="Who would be engaged, and paged first, for an incident of this kind",
)
def preview_routing(
    request: Request,
    principal: Auth,
    harm_type: HarmType,
    severity: Severity,
    region: Annotated[list[str] | None, Query(max_length=300)] = None,
    at: At = None,
) -> RoutingPreviewOut:
    try:
        regions = normalise_rule_regions([r for r in region or [] if r.strip()])
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with unit_of_work(request) as session:
        return service.preview_routing(session, harm_type, severity, regions, at or _now(request))


@router.post(
    "/routing-rules",
    response_model=RuleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a routing rule",
)
def create_rule(request: Request, principal: Auth, body: RuleCreate) -> RuleOut:
    with unit_of_work(request) as session:
        return service.rule_out(
            session, service.create_rule(session, principal, body, _now(request))
        )


@router.get("/routing-rules/{rule_id}", response_model=RuleOut, summary="One routing rule")
def get_rule(request: Request, principal: Auth, rule_id: Id) -> RuleOut:
    with unit_of_work(request) as session:
        return service.rule_out(session, service.get_rule(session, rule_id))


@router.patch("/routing-rules/{rule_id}", response_model=RuleOut, summary="Edit a routing rule")
def update_rule(request: Request, principal: Auth, rule_id: Id, body: RulePatch) -> RuleOut:
    with unit_of_work(request) as session:
        return service.rule_out(
            session, service.update_rule(session, principal, rule_id, body, _now(request))
        )


@router.delete("/routing-rules/{rule_id}", response_model=RuleOut, summary="Delete a routing rule")
def delete_rule(request: Request, principal: Auth, rule_id: Id) -> RuleOut:
    with unit_of_work(request) as session:
        return service.delete_rule(session, principal, rule_id, _now(request))


# ---------------------------------------------------------------- pages


@router.get("/pages", response_model=list[PageOut], summary="Pages, newest first")
def list_pages(
    request: Request,
    principal: Auth,
    status_: Annotated[list[PageStatus] | None, Query(alias="status")] = None,
    incident: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PageOut]:
    with unit_of_work(request) as session:
        return [
            service.page_out(session, p)
            for p in service.list_pages(session, principal, status_, incident, limit)
        ]


@router.post(
    "/pages",
    response_model=PageOut,
    status_code=status.HTTP_201_CREATED,
    summary="Page an escalation policy",
)
def trigger_page(request: Request, principal: Auth, body: PageCreate) -> PageOut:
    with unit_of_work(request) as session:
        return service.page_out(
            session, service.trigger_page(session, principal, body, _now(request))
        )


@router.get("/pages/{page_id}", response_model=PageOut, summary="One page and who it notified")
def get_page(request: Request, principal: Auth, page_id: Id) -> PageOut:
    with unit_of_work(request) as session:
        return service.page_out(session, service.get_page(session, principal, page_id))


@router.post(
    "/pages/{page_id}/acknowledge",
    response_model=PageOut,
    summary="Acknowledge a page: stops its escalation",
)
def acknowledge_page(
    request: Request, principal: Auth, page_id: Id, body: PageActionIn | None = None
) -> PageOut:
    with unit_of_work(request) as session:
        page = service.acknowledge_page(
            session, principal, page_id, _now(request), body.note if body else None
        )
        return service.page_out(session, page)


@router.post("/pages/{page_id}/resolve", response_model=PageOut, summary="Resolve a page")
def resolve_page(
    request: Request, principal: Auth, page_id: Id, body: PageActionIn | None = None
) -> PageOut:
    with unit_of_work(request) as session:
        page = service.resolve_page(
            session, principal, page_id, _now(request), body.note if body else None
        )
        return service.page_out(session, page)


@router.post(
    "/incidents/{key}/engage",
    response_model=EngageOut,
    summary="Route an incident to its teams and page their escalation policies (idempotent)",
)
def engage(
    request: Request, principal: Auth, key: Annotated[str, Path(max_length=20)]
) -> EngageOut:
    with unit_of_work(request) as session:
        return service.engage_for_incident(session, principal, key, _now(request))

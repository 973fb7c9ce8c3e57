"""Incident endpoints under /api/v1: a thin translation of HTTP into incident use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from rapidresponse.auth.policy import Principal
from rapidresponse.errors import InvalidInput
from rapidresponse.http import RowId, current_principal, etag, parse_if_match, unit_of_work
from rapidresponse.incidents import service
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.schemas import (
    IncidentCreate,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    NoteIn,
    ParticipantIn,
    ParticipantOut,
    SeverityOverrideIn,
    TaskCreate,
    TaskOut,
    TaskPatch,
    TimelineKind,
    TimelineOut,
    TransitionIn,
)
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType
from rapidresponse.incidents.validation import normalise_region

router = APIRouter(tags=["incidents"])
Auth = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[
    str | None, Header(description="The ETag you read; the write fails if it changed")
]


def _respond(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@router.get("/taxonomy/harm-types", summary="The harm-type taxonomy with DSA mapping")
def harm_types(principal: Auth) -> list[dict[str, object]]:
    return [
        {
            "harm_type": info.harm_type.value,
            "label": info.label,
            "description": info.description,
            "gravity": info.gravity,
            "dsa_category": info.dsa_category,
            "dsa_category_specification": list(info.dsa_keywords),
            "restricted_by_default": info.restricted_by_default,
        }
        for info in HARM_TYPES.values()
    ]


@router.get("/incidents", response_model=IncidentPage, summary="List incidents you may see")
def list_incidents(
    request: Request,
    principal: Auth,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    harm_type: HarmType | None = None,
    region: Annotated[str | None, Query(max_length=2)] = None,
    open_only: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> IncidentPage:
    if region is not None:
        try:
            region = normalise_region(region)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    filters = service.IncidentFilter(status_, severity, harm_type, region, open_only, q)
    with unit_of_work(request) as session:
        rows, total = service.list_incidents(session, principal, filters, limit, offset)
        return IncidentPage(
            items=[service.summarise(r) for r in rows], total=total, limit=limit, offset=offset
        )


@router.post(
    "/incidents",
    response_model=IncidentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Declare an incident",
)
def declare(
    request: Request, response: Response, principal: Auth, body: IncidentCreate
) -> IncidentOut:
    with unit_of_work(request) as session:
        incident = service.declare(session, principal, body, request.app.state.clock.now())
        out = service.describe(session, incident)
    _respond(response, out.version)
    response.headers["Location"] = f"/api/v1/incidents/{out.key}"
    return out


@router.get("/incidents/{key}", response_model=IncidentOut, summary="One incident")
def get(request: Request, response: Response, principal: Auth, key: str) -> IncidentOut:
    with unit_of_work(request) as session:
        out = service.describe(session, service.get_incident(session, principal, key))
    _respond(response, out.version)
    return out


@router.patch(
    "/incidents/{key}",
    response_model=IncidentOut,
    summary="Edit an incident (needs If-Match or version)",
)
def patch(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    body: IncidentPatch,
    if_match: IfMatch = None,
) -> IncidentOut:
    with unit_of_work(request) as session:
        incident = service.update(
            session, principal, key, body, parse_if_match(if_match), request.app.state.clock.now()
        )
        out = service.describe(session, incident)
    _respond(response, out.version)
    return out


@router.post(
    "/incidents/{key}/transitions",
    response_model=IncidentOut,
    summary="Move an incident through its lifecycle",
)
def transition(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    body: TransitionIn,
    if_match: IfMatch = None,
) -> IncidentOut:
    with unit_of_work(request) as session:
        incident = service.change_status(
            session, principal, key, body, parse_if_match(if_match), request.app.state.clock.now()
        )
        out = service.describe(session, incident)
    _respond(response, out.version)
    return out


@router.post(
    "/incidents/{key}/severity",
    response_model=IncidentOut,
    summary="Override severity (or clear the override) with a reason",
)
def severity_override(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    body: SeverityOverrideIn,
    if_match: IfMatch = None,
) -> IncidentOut:
    with unit_of_work(request) as session:
        incident = service.override_severity(
            session, principal, key, body, parse_if_match(if_match), request.app.state.clock.now()
        )
        out = service.describe(session, incident)
    _respond(response, out.version)
    return out


@router.get(
    "/incidents/{key}/timeline",
    response_model=list[TimelineOut],
    summary="The incident's append-only timeline",
)
def get_timeline(
    request: Request,
    principal: Auth,
    key: str,
    kind: Annotated[list[TimelineKind] | None, Query()] = None,
) -> list[TimelineOut]:
    with unit_of_work(request) as session:
        return [service.timeline_out(e) for e in service.timeline(session, principal, key, kind)]


@router.post(
    "/incidents/{key}/timeline",
    response_model=TimelineOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a note or a decision",
)
def add_note(request: Request, principal: Auth, key: str, body: NoteIn) -> TimelineOut:
    with unit_of_work(request) as session:
        return service.timeline_out(
            service.add_note(session, principal, key, body, request.app.state.clock.now())
        )


@router.get(
    "/incidents/{key}/participants",
    response_model=list[ParticipantOut],
    summary="People and their roles",
)
def list_participants(
    request: Request, principal: Auth, key: str, include_removed: bool = False
) -> list[ParticipantOut]:
    with unit_of_work(request) as session:
        return [
            service.participant_out(p)
            for p in service.participants(session, principal, key, include_removed)
        ]


@router.post(
    "/incidents/{key}/participants",
    response_model=ParticipantOut,
    status_code=status.HTTP_201_CREATED,
    summary="Assign a person to a role",
)
def add_participant(
    request: Request, principal: Auth, key: str, body: ParticipantIn
) -> ParticipantOut:
    with unit_of_work(request) as session:
        return service.participant_out(
            service.add_participant(session, principal, key, body, request.app.state.clock.now())
        )


@router.delete(
    "/incidents/{key}/participants/{participant_id}",
    response_model=ParticipantOut,
    summary="Release a person from a role (kept in history)",
)
def remove_participant(
    request: Request, principal: Auth, key: str, participant_id: RowId
) -> ParticipantOut:
    with unit_of_work(request) as session:
        return service.participant_out(
            service.remove_participant(
                session, principal, key, participant_id, request.app.state.clock.now()
            )
        )


@router.get("/incidents/{key}/tasks", response_model=list[TaskOut], summary="Tasks")
def list_tasks(request: Request, principal: Auth, key: str) -> list[TaskOut]:
    now = request.app.state.clock.now()
    with unit_of_work(request) as session:
        return [service.task_out(t, now) for t in service.tasks(session, principal, key)]


@router.post(
    "/incidents/{key}/tasks",
    response_model=TaskOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a task",
)
def add_task(
    request: Request, response: Response, principal: Auth, key: str, body: TaskCreate
) -> TaskOut:
    now = request.app.state.clock.now()
    with unit_of_work(request) as session:
        out = service.task_out(service.add_task(session, principal, key, body, now), now)
    _respond(response, out.version)
    return out


@router.patch(
    "/incidents/{key}/tasks/{task_id}",
    response_model=TaskOut,
    summary="Update a task (needs If-Match or version)",
)
def patch_task(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    task_id: RowId,
    body: TaskPatch,
    if_match: IfMatch = None,
) -> TaskOut:
    now = request.app.state.clock.now()
    with unit_of_work(request) as session:
        task = service.update_task(
            session, principal, key, task_id, body, parse_if_match(if_match), now
        )
        out = service.task_out(task, now)
    _respond(response, out.version)
    return out

"""Playbook library, plan preview, incident plans and next actions under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.http import current_principal, unit_of_work
from rapidresponse.incidents.severity import Severity
from rapidresponse.playbooks import service
from rapidresponse.playbooks.schema import Playbook
from rapidresponse.playbooks.schemas import (
    IncidentPlanOut,
    NextActionsOut,
    PlanOut,
    PlaybookSummary,
)

router = APIRouter(tags=["playbooks"])
Auth = Annotated[Principal, Depends(current_principal)]


@router.get("/playbooks", response_model=list[PlaybookSummary], summary="The playbook library")
def list_playbooks(principal: Auth) -> list[PlaybookSummary]:
    return [service.summary_of(p) for p in service.library()]


@router.get("/playbook-schema", summary="JSON Schema of the playbook format")
def playbook_schema(principal: Auth) -> dict[str, Any]:
    return Playbook.model_json_schema()


@router.get("/playbooks/{playbook_id}", response_model=Playbook, summary="One playbook")
def get_playbook(principal: Auth, playbook_id: str) -> Playbook:
    return service.get_playbook(playbook_id)


@router.get(
    "/playbooks/{playbook_id}/preview",
    response_model=PlanOut,
    summary="The plan an incident would get at a severity and in regions",
)
def preview(
    request: Request,
    principal: Auth,
    playbook_id: str,
    severity: Severity,
    region: Annotated[list[str], Query(min_length=1, max_length=100)],
) -> PlanOut:
    return service.plan_out(
        service.preview(playbook_id, severity, region, request.app.state.clock.now())
    )


@router.get(
    "/incidents/{key}/plan",
    response_model=IncidentPlanOut,
    summary="The playbook plan applied to an incident",
)
def incident_plan(request: Request, principal: Auth, key: str) -> IncidentPlanOut:
    with unit_of_work(request) as session:
        return service.incident_plan(session, principal, key)


@router.post(
    "/incidents/{key}/plan",
    response_model=IncidentPlanOut,
    summary="Re-apply the playbook (adds missing steps, keeps completed work)",
)
def replan(request: Request, principal: Auth, key: str) -> IncidentPlanOut:
    require(principal, Role.INCIDENT_MANAGER, "re-planning an incident")
    with unit_of_work(request) as session:
        service.plan_incident(
            session, principal, key, request.app.state.clock.now(), "re-planned on request"
        )
        return service.incident_plan(session, principal, key)


@router.get(
    "/incidents/{key}/next-actions",
    response_model=NextActionsOut,
    summary="What is overdue, due soon, blocked or unstaffed on one incident",
)
def incident_next_actions(request: Request, principal: Auth, key: str) -> NextActionsOut:
    with unit_of_work(request) as session:
        return service.next_actions_out(
            service.next_actions(session, principal, request.app.state.clock.now(), key)
        )


@router.get(
    "/next-actions",
    response_model=NextActionsOut,
    summary="What is overdue, due soon, blocked or unstaffed across open incidents",
)
def next_actions(
    request: Request,
    principal: Auth,
    horizon_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 120,
) -> NextActionsOut:
    from datetime import timedelta

    with unit_of_work(request) as session:
        return service.next_actions_out(
            service.next_actions(
                session,
                principal,
                request.app.state.clock.now(),
                horizon=timedelta(minutes=horizon_minutes),
            )
        )

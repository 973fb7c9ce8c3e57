"""Enforcement endpoints under /api/v1: the content cluster and containment actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import BaseModel

from rapidresponse.auth.policy import Principal
from rapidresponse.enforcement import service
from rapidresponse.enforcement.actions import Subject
from rapidresponse.enforcement.schemas import (
    ActionIn,
    ActionItemOut,
    ActionOut,
    ItemPage,
    ItemsAdded,
    ItemsIn,
    ReasonIn,
)
from rapidresponse.http import RowId, current_principal, etag, parse_if_match, unit_of_work

router = APIRouter(tags=["enforcement"])
Auth = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[
    str | None,
    Header(description="The ETag you read (optional); the step fails if the action changed"),
]
ITEMS = "/incidents/{key}/content"
ACTIONS = "/incidents/{key}/actions"
ONE = ACTIONS + "/{action_id}"
Outcome = Annotated[str | None, Query(pattern="^(pending|applied|unchanged|skipped|reverted)$")]


class ActionItemPage(BaseModel):
    items: list[ActionItemOut]
    total: int
    limit: int
    offset: int


def _answer(response: Response, out: ActionOut) -> ActionOut:
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ITEMS,
    response_model=ItemsAdded,
    summary="Add content, accounts or keys to the incident's cluster (merged when known)",
)
def add_items(request: Request, principal: Auth, key: str, body: ItemsIn) -> ItemsAdded:
    with unit_of_work(request) as session:
        return service.add_items(session, principal, key, body.items, request.app.state.clock.now())


@router.get(ITEMS, response_model=ItemPage, summary="The incident's content cluster")
def list_items(
    request: Request,
    principal: Auth,
    key: str,
    subject: Subject | None = None,
    carrying: Annotated[str | None, Query(max_length=100, description="A key, e.g. #tag")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> ItemPage:
    with unit_of_work(request) as session:
        rows, total = service.list_items(
            session, principal, key, subject=subject, carrying=carrying, limit=limit, offset=offset
        )
        return ItemPage(
            items=[service.item_out(r) for r in rows], total=total, limit=limit, offset=offset
        )


@router.post(
    ACTIONS,
    response_model=ActionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Plan a containment action (dry run): fixes its items and shows the blast radius",
)
def plan(
    request: Request, response: Response, principal: Auth, key: str, body: ActionIn
) -> ActionOut:
    with unit_of_work(request) as session:
        row = service.plan(
            session,
            principal,
            key,
            body,
            request.app.state.clock.now(),
            approval_threshold=request.app.state.settings.approval_threshold,
        )
        out = service.action_out(session, row)
    response.headers["Location"] = f"/api/v1/incidents/{out.incident}/actions/{out.id}"
    return _answer(response, out)


@router.get(ACTIONS, response_model=list[ActionOut], summary="The incident's containment actions")
def list_actions(request: Request, principal: Auth, key: str) -> list[ActionOut]:
    with unit_of_work(request) as session:
        return [
            service.action_out(session, r) for r in service.list_actions(session, principal, key)
        ]


@router.get(ONE, response_model=ActionOut, summary="One action with its blast radius and progress")
def get_action(
    request: Request, response: Response, principal: Auth, key: str, action_id: RowId
) -> ActionOut:
    with unit_of_work(request) as session:
        out = service.action_out(session, service.get_action(session, principal, key, action_id))
    return _answer(response, out)


@router.get(ONE + "/items", response_model=ActionItemPage, summary="Each item's outcome")
def action_items(
    request: Request,
    principal: Auth,
    key: str,
    action_id: RowId,
    outcome: Outcome = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> ActionItemPage:
    with unit_of_work(request) as session:
        items, total = service.action_items(
            session, principal, key, action_id, outcome=outcome, limit=limit, offset=offset
        )
    return ActionItemPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    ONE + "/approve",
    response_model=ActionOut,
    summary="Second incident manager's approval of an action above the threshold",
)
def approve(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    action_id: RowId,
    if_match: IfMatch = None,
) -> ActionOut:
    with unit_of_work(request) as session:
        row = service.approve(
            session,
            principal,
            key,
            action_id,
            request.app.state.clock.now(),
            parse_if_match(if_match),
        )
        out = service.action_out(session, row)
    return _answer(response, out)


@router.post(
    ONE + "/execute",
    response_model=ActionOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run the action (in batches, by the worker); idempotent",
)
def execute(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    action_id: RowId,
    if_match: IfMatch = None,
) -> ActionOut:
    with unit_of_work(request) as session:
        row = service.start(
            session,
            principal,
            key,
            action_id,
            request.app.state.clock.now(),
            parse_if_match(if_match),
        )
        out = service.action_out(session, row)
    return _answer(response, out)


@router.post(ONE + "/cancel", response_model=ActionOut, summary="Cancel an action not yet run")
def cancel(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    action_id: RowId,
    body: ReasonIn,
) -> ActionOut:
    with unit_of_work(request) as session:
        row = service.cancel(
            session, principal, key, action_id, body.reason, request.app.state.clock.now()
        )
        out = service.action_out(session, row)
    return _answer(response, out)


@router.post(
    ONE + "/rollback",
    response_model=ActionOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Lift what a reversible action imposed (in batches, by the worker)",
)
def rollback(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    action_id: RowId,
    body: ReasonIn,
) -> ActionOut:
    with unit_of_work(request) as session:
        row = service.rollback(
            session, principal, key, action_id, body.reason, request.app.state.clock.now()
        )
        out = service.action_out(session, row)
    return _answer(response, out)

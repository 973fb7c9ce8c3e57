"""Comms endpoints under /api/v1: a thin translation of HTTP into comms use cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from rapidresponse.auth.policy import Principal
from rapidresponse.comms import service
from rapidresponse.comms.channels import DeliveryStatus
from rapidresponse.comms.schemas import (
    ApprovalIn,
    CadenceIn,
    CadenceOut,
    ComposeIn,
    DeliveryOut,
    RejectionIn,
    StatusUpdateOut,
    UpdatePatch,
)
from rapidresponse.comms.templates import UpdateKind
from rapidresponse.errors import NotFound
from rapidresponse.http import RowId, current_principal, etag, parse_if_match, unit_of_work

router = APIRouter(tags=["comms"])
Auth = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[
    str | None, Header(description="The ETag you read; the step fails if the update changed")
]
UpdateId = RowId
UPDATES = "/incidents/{key}/comms/updates"
ONE = UPDATES + "/{update_id}"


def _cadence(out: CadenceOut | None, key: str) -> CadenceOut:
    if out is None:
        raise NotFound(f"{key.upper()} has no update cadence")
    return out


@router.post(
    UPDATES,
    response_model=StatusUpdateOut,
    status_code=status.HTTP_201_CREATED,
    summary="Draft a status update from its template and the incident's live facts",
)
def compose(
    request: Request, response: Response, principal: Auth, key: str, body: ComposeIn
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.compose(session, principal, key, body, request.app.state.clock.now())
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    response.headers["Location"] = f"/api/v1/incidents/{out.incident}/comms/updates/{out.id}"
    return out


@router.get(UPDATES, response_model=list[StatusUpdateOut], summary="The incident's updates")
def list_updates(
    request: Request, principal: Auth, key: str, kind: UpdateKind | None = None
) -> list[StatusUpdateOut]:
    with unit_of_work(request) as session:
        return [
            service.update_out(session, u, key)
            for u in service.list_updates(session, principal, key, kind)
        ]


@router.get(ONE, response_model=StatusUpdateOut, summary="One status update with its approvals")
def get_update(
    request: Request, response: Response, principal: Auth, key: str, update_id: UpdateId
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        out = service.update_out(
            session, service.get_update(session, principal, key, update_id), key
        )
    response.headers["ETag"] = etag(out.version)
    return out


@router.patch(
    ONE,
    response_model=StatusUpdateOut,
    summary="Edit a draft (needs If-Match or version; editing voids approvals)",
)
def edit(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    body: UpdatePatch,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.edit(
            session,
            principal,
            key,
            update_id,
            body,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ONE + "/submit",
    response_model=StatusUpdateOut,
    summary="Submit an external statement for PR and Legal approval",
)
def submit(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.submit(
            session,
            principal,
            key,
            update_id,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ONE + "/approvals",
    response_model=StatusUpdateOut,
    summary="Approve the statement's text as PR or as Legal (needs If-Match or version)",
)
def approve(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    body: ApprovalIn,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.approve(
            session,
            principal,
            key,
            update_id,
            body,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ONE + "/rejections",
    response_model=StatusUpdateOut,
    summary="Reject the statement with a comment: back to draft, approvals voided",
)
def reject(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    body: RejectionIn,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.reject(
            session,
            principal,
            key,
            update_id,
            body,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ONE + "/publish",
    response_model=StatusUpdateOut,
    summary="Mark an approved external statement published (and deliver it)",
)
def publish(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.publish(
            session,
            principal,
            key,
            update_id,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    ONE + "/send",
    response_model=StatusUpdateOut,
    summary="Send an internal update or executive summary to its recipients",
)
def send(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    update_id: UpdateId,
    if_match: IfMatch = None,
) -> StatusUpdateOut:
    with unit_of_work(request) as session:
        update = service.send(
            session,
            principal,
            key,
            update_id,
            parse_if_match(if_match),
            request.app.state.clock.now(),
        )
        out = service.update_out(session, update, key)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "/incidents/{key}/comms/cadence",
    response_model=CadenceOut,
    summary="The update cadence and when the next update is due",
)
def get_cadence(request: Request, principal: Auth, key: str) -> CadenceOut:
    with unit_of_work(request) as session:
        out = service.cadence_status(session, principal, key, request.app.state.clock.now())
    return _cadence(out, key)


@router.put(
    "/incidents/{key}/comms/cadence",
    response_model=CadenceOut,
    summary="Set the update cadence (reminders when an update is overdue)",
)
def set_cadence(request: Request, principal: Auth, key: str, body: CadenceIn) -> CadenceOut:
    now = request.app.state.clock.now()
    with unit_of_work(request) as session:
        service.set_cadence(session, principal, key, timedelta(minutes=body.every_minutes), now)
        out = service.cadence_status(session, principal, key, now)
    return _cadence(out, key)


@router.delete(
    "/incidents/{key}/comms/cadence",
    response_model=CadenceOut,
    summary="Stop update-cadence reminders",
)
def stop_cadence(request: Request, principal: Auth, key: str) -> CadenceOut:
    now = request.app.state.clock.now()
    with unit_of_work(request) as session:
        service.stop_cadence(session, principal, key, now)
        out = service.cadence_status(session, principal, key, now)
    return _cadence(out, key)


@router.get(
    "/comms/deliveries",
    response_model=list[DeliveryOut],
    summary="Deliveries (e-mail, webhook, Slack), newest first; failed ones show why",
)
def list_deliveries(
    request: Request,
    principal: Auth,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    incident: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    with unit_of_work(request) as session:
        return [
            service.delivery_out(d)
            for d in service.list_deliveries(
                session, principal, status=status_, incident_key=incident, limit=limit
            )
        ]

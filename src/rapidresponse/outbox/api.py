"""Outbox health (admin): what is pending, retrying or dead, and requeueing the dead."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.http import current_principal, unit_of_work
from rapidresponse.outbox import service

router = APIRouter(tags=["outbox"])
Auth = Annotated[Principal, Depends(current_principal)]


class OutboxMessageOut(BaseModel):
    id: int
    topic: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None


@router.get("/outbox", summary="Outbox counts by state (admin)")
def stats(request: Request, principal: Auth) -> dict[str, int]:
    require(principal, Role.ADMIN, "reading the outbox")
    with unit_of_work(request) as session:
        return service.stats(session, request.app.state.clock.now())


@router.get(
    "/outbox/messages",
    response_model=list[OutboxMessageOut],
    summary="Recent outbox messages (admin)",
)
def messages(
    request: Request,
    principal: Auth,
    status: Literal["pending", "delivered", "dead", "cancelled"] | None = None,
) -> list[OutboxMessageOut]:
    require(principal, Role.ADMIN, "reading the outbox")
    with unit_of_work(request) as session:
        return [
            OutboxMessageOut.model_validate(m, from_attributes=True)
            for m in service.list_messages(session, status)
        ]


@router.post("/outbox/requeue-dead", summary="Retry every dead message (admin)")
def requeue(request: Request, principal: Auth) -> dict[str, int]:
    require(principal, Role.ADMIN, "requeueing outbox messages")
    with unit_of_work(request) as session:
        return {
            "requeued": service.requeue_dead(
                session, request.app.state.clock.now(), principal.subject
            )
        }

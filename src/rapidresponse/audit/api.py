"""Audit log reading and verification (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from rapidresponse.audit import service
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.http import current_principal, unit_of_work

router = APIRouter(tags=["audit"])
Auth = Annotated[Principal, Depends(current_principal)]


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    problems: list[dict[str, Any]]


@router.get("/audit", response_model=list[AuditEntryOut], summary="Audit entries, newest first")
def entries(
    request: Request,
    principal: Auth,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=80)] = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryOut]:
    require(principal, Role.ADMIN, "reading the audit log")
    with unit_of_work(request) as session:
        rows = service.list_entries(
            session,
            entity_type=entity_type,
            entity_id=entity_id,
            limit=limit,
            before_seq=before_seq,
        )
        return [AuditEntryOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the audit hash chain")
def verify(request: Request, principal: Auth) -> VerifyOut:
    require(principal, Role.ADMIN, "verifying the audit log")
    with unit_of_work(request) as session:
        report = service.verify_log(session)
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        problems=[{"seq": p.seq, "problem": p.problem} for p in report.problems],
    )

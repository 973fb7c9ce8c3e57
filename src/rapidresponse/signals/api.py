"""Signal and alert endpoints under /api/v1: NDJSON ingestion, detection, alert triage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.errors import InvalidInput
from rapidresponse.http import RowId, current_principal, etag, parse_if_match, unit_of_work
from rapidresponse.incidents.schemas import Regions, Strict
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.signals import service
from rapidresponse.signals.model import Alert
from rapidresponse.signals.schema import decode_ndjson, json_schema

router = APIRouter(tags=["signals"])
Auth = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[str | None, Header(description="The alert's ETag you read (optional)")]
MAX_BATCH_BYTES = 32 * 1024 * 1024


class RejectOut(BaseModel):
    line: int
    reason: str


class IngestOut(BaseModel):
    accepted: int = Field(description="New events stored and counted (late ones stored only)")
    duplicates: int = Field(description="Events already received (same source and id)")
    late: int = Field(description="Accepted, older than the windows already closed: not counted")
    rejected: list[RejectOut]


class AlertOut(BaseModel):
    id: int
    status: str
    title: str
    harm_type: str | None
    regions: list[str]
    languages: list[str]
    series: list[str]
    score: float
    first_seen: datetime
    last_seen: datetime
    opened_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    dismissed_by: str | None
    dismissed_at: datetime | None
    dismiss_reason: str | None
    incident_key: str | None
    promoted_by: str | None
    promoted_at: datetime | None
    version: int
    evidence: dict[str, Any] | None = None


class DismissIn(Strict):
    reason: str = Field(min_length=3, max_length=2000, description="Why (kept for tuning)")


class PromoteIn(Strict):
    title: str | None = Field(default=None, min_length=3, max_length=200)
    summary: str | None = Field(default=None, max_length=4000)
    harm_type: HarmType | None = None
    regions: Regions | None = None


def alert_out(alert: Alert, evidence: dict[str, Any] | None = None) -> AlertOut:
    return AlertOut(
        id=alert.id,
        status=alert.status,
        title=alert.title,
        harm_type=alert.harm_type,
        regions=alert.regions,
        languages=alert.languages,
        series=alert.series,
        score=round(alert.score, 4),
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        opened_at=alert.opened_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        dismissed_by=alert.dismissed_by,
        dismissed_at=alert.dismissed_at,
        dismiss_reason=alert.dismiss_reason,
        incident_key=alert.incident_key,
        promoted_by=alert.promoted_by,
        promoted_at=alert.promoted_at,
        version=alert.version,
        evidence=evidence,
    )


@router.post(
    "/signals",
    response_model=IngestOut,
    summary="Send signal events: CloudEvents JSON, one per line (NDJSON); bad lines are "
    "rejected one by one with their reason",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def ingest(request: Request, principal: Auth) -> IngestOut:
    require(principal, Role.RESPONDER, "sending signals")
    data = await request.body()
    if len(data) > MAX_BATCH_BYTES:
        raise InvalidInput(f"send at most {MAX_BATCH_BYTES // (1024 * 1024)} MiB per request")
    now = request.app.state.clock.now()
    signals, rejects = decode_ndjson(data, not_after=now.timestamp() + 300)
    return _store(request, principal, signals, rejects, now)


def _store(
    request: Request, principal: Principal, signals: list[Any], rejects: list[Any], now: datetime
) -> IngestOut:
    with unit_of_work(request) as session:
        result = service.ingest(session, principal, signals, now)
    return IngestOut(
        accepted=result.accepted,
        duplicates=result.duplicates,
        late=result.late,
        rejected=[RejectOut(line=r.line, reason=r.reason) for r in rejects],
    )


@router.get("/signals/schema", summary="The JSON Schema of one signal event")
def schema(principal: Auth) -> dict[str, Any]:
    return json_schema()


@router.post(
    "/signals/detect",
    response_model=list[AlertOut],
    summary="Run detection now over the windows the watermark has closed (the worker also "
    "runs it every minute)",
)
def detect(request: Request, principal: Auth) -> list[AlertOut]:
    require(principal, Role.INCIDENT_MANAGER, "running detection")
    engine: service.DetectionEngine = request.app.state.detection_engine
    with unit_of_work(request) as session:
        return [
            alert_out(a) for a in service.detect(session, engine, request.app.state.clock.now())
        ]


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, most recent activity first")
def alerts(
    request: Request,
    principal: Auth,
    status: Annotated[
        list[str] | None, Query(description="open, acknowledged, promoted, dismissed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertOut]:
    with unit_of_work(request) as session:
        return [alert_out(a) for a in service.list_alerts(session, principal, status or [], limit)]


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert with its evidence")
def alert(request: Request, response: Response, principal: Auth, alert_id: RowId) -> AlertOut:
    with unit_of_work(request) as session:
        found = service.get_alert(session, principal, alert_id)
        out = alert_out(found, service.evidence(session, found))
    response.headers["ETag"] = etag(out.version)
    return out


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, summary="Take it")
def acknowledge(
    request: Request, response: Response, principal: Auth, alert_id: RowId, if_match: IfMatch = None
) -> AlertOut:
    with unit_of_work(request) as session:
        out = alert_out(
            service.acknowledge(
                session,
                principal,
                alert_id,
                request.app.state.clock.now(),
                parse_if_match(if_match),
            )
        )
    response.headers["ETag"] = etag(out.version)
    return out


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertOut, summary="Not an incident")
def dismiss(
    request: Request,
    response: Response,
    principal: Auth,
    alert_id: RowId,
    body: DismissIn,
    if_match: IfMatch = None,
) -> AlertOut:
    with unit_of_work(request) as session:
        out = alert_out(
            service.dismiss(
                session,
                principal,
                alert_id,
                body.reason,
                request.app.state.clock.now(),
                parse_if_match(if_match),
            )
        )
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "/alerts/{alert_id}/promote",
    response_model=AlertOut,
    summary="Declare an incident from the alert, pre-filled with its harm type, regions and "
    "evidence",
)
def promote(
    request: Request,
    response: Response,
    principal: Auth,
    alert_id: RowId,
    body: Annotated[PromoteIn, Body()] = PromoteIn(),
    if_match: IfMatch = None,
) -> AlertOut:
    with unit_of_work(request) as session:
        promoted, _ = service.promote(
            session,
            principal,
            alert_id,
            body.model_dump(mode="json", exclude_none=True),
            request.app.state.clock.now(),
            parse_if_match(if_match),
        )
        out = alert_out(promoted)
    response.headers["ETag"] = etag(out.version)
    return out

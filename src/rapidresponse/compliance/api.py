"""Compliance endpoints under /api/v1: policy, rulebook, triggers, obligations, statements,
report drafts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from rapidresponse.auth.policy import Principal
from rapidresponse.compliance import service
from rapidresponse.compliance.obligations import ObligationState
from rapidresponse.compliance.policy import shipped_policy_catalogue
from rapidresponse.compliance.rulebook import shipped_rulebook
from rapidresponse.compliance.schemas import (
    EvidenceIn,
    ObligationOut,
    ReportEditIn,
    ReportOut,
    ReviewIn,
    StatementPage,
    SubmissionIn,
    TriggerIn,
    TriggerOut,
    WaiveIn,
)
from rapidresponse.db import transaction
from rapidresponse.errors import NotFound
from rapidresponse.http import RowId, current_principal, etag, unit_of_work
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.taxonomy import HarmType

router = APIRouter(tags=["compliance"])
Auth = Annotated[Principal, Depends(current_principal)]
OBLIGATIONS = "/incidents/{key}/obligations"
REPORTS = "/incidents/{key}/reports"


# ---------------------------------------------------------------- reference data


@router.get("/policy", summary="The content policy catalogue: every harm type's sections")
def policy(principal: Auth) -> list[dict[str, Any]]:
    catalogue = shipped_policy_catalogue()
    return [catalogue.documents[h].model_dump(mode="json") for h in sorted(catalogue.documents)]


@router.get("/policy/{harm_type}", summary="One harm type's policy, with its regional variants")
def policy_for(principal: Auth, harm_type: HarmType) -> dict[str, Any]:
    return shipped_policy_catalogue().document(harm_type).model_dump(mode="json")


@router.get("/compliance/rules", summary="The jurisdiction rulebook, each rule with its citation")
def rules(principal: Auth) -> list[dict[str, Any]]:
    return [rule.model_dump(mode="json") for rule in shipped_rulebook().rules]


@router.get("/compliance/rules/{rule_id}", summary="One rule of the rulebook")
def rule(principal: Auth, rule_id: str) -> dict[str, Any]:
    try:
        return shipped_rulebook().get(rule_id).model_dump(mode="json")
    except KeyError:
        raise NotFound(f"no rule {rule_id!r} in the rulebook") from None


@router.get(
    "/compliance/obligations",
    response_model=list[ObligationOut],
    summary="Open obligations across the incidents you can see, soonest due first",
)
def obligations_across(
    request: Request,
    principal: Auth,
    state: Annotated[list[ObligationState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ObligationOut]:
    with unit_of_work(request) as session:
        return service.obligations_across(
            session,
            principal,
            request.app.state.clock.now(),
            [s.value for s in state or []],
            limit,
        )


# ---------------------------------------------------------------- one incident


@router.post(
    "/incidents/{key}/triggers",
    response_model=TriggerOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record a legal trigger (order received, CSAM confirmed, …); obligations follow",
)
def record_trigger(request: Request, principal: Auth, key: str, body: TriggerIn) -> TriggerOut:
    with unit_of_work(request) as session:
        trigger, created = service.record_trigger(
            session, principal, key, body, request.app.state.clock.now()
        )
        return service.trigger_out(trigger, key.upper(), [o.id for o in created])


@router.get(
    "/incidents/{key}/triggers", response_model=list[TriggerOut], summary="The incident's triggers"
)
def triggers(request: Request, principal: Auth, key: str) -> list[TriggerOut]:
    with unit_of_work(request) as session:
        return service.triggers(session, principal, key)


@router.get(
    OBLIGATIONS,
    response_model=list[ObligationOut],
    summary="The incident's obligations with due times, countdowns and breaches",
)
def obligations(request: Request, principal: Auth, key: str) -> list[ObligationOut]:
    with unit_of_work(request) as session:
        return service.list_obligations(session, principal, key, request.app.state.clock.now())


def _obligation(
    request: Request, response: Response, session: Any, row: Any, key: str
) -> ObligationOut:
    out = service.obligation_out(session, row, key.upper(), request.app.state.clock.now())
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    OBLIGATIONS + "/{obligation_id}/complete",
    response_model=ObligationOut,
    summary="Mark an obligation met, with its evidence",
)
def complete(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    obligation_id: RowId,
    body: EvidenceIn,
) -> ObligationOut:
    with unit_of_work(request) as session:
        row = service.complete(
            session, principal, key, obligation_id, body, request.app.state.clock.now()
        )
        return _obligation(request, response, session, row, key)


@router.post(
    OBLIGATIONS + "/{obligation_id}/waive",
    response_model=ObligationOut,
    summary="Record that an obligation does not apply, and why",
)
def waive(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    obligation_id: RowId,
    body: WaiveIn,
) -> ObligationOut:
    with unit_of_work(request) as session:
        row = service.waive(
            session, principal, key, obligation_id, body, request.app.state.clock.now()
        )
        return _obligation(request, response, session, row, key)


@router.get(
    "/incidents/{key}/statements",
    response_model=StatementPage,
    summary="DSA statements of reasons with their validation errors",
)
def statements(
    request: Request,
    principal: Auth,
    key: str,
    valid: bool | None = None,
    action_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StatementPage:
    with unit_of_work(request) as session:
        items, counts = service.list_statements(
            session,
            principal,
            key,
            valid=valid,
            action_id=action_id,
            after_id=after_id,
            limit=limit,
        )
    return StatementPage(items=items, total=counts["valid"] + counts["invalid"], **counts)


@router.get(
    "/incidents/{key}/statements.jsonl",
    summary="Statements as JSON lines for the transparency database (valid ones only)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(
    request: Request,
    principal: Auth,
    key: str,
    action_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> StreamingResponse:
    # Check access before streaming, so a refusal is a proper problem response.
    with unit_of_work(request) as session:
        incident_key = incidents.get_incident(session, principal, key).key

    def lines() -> Iterator[bytes]:
        with transaction(request.app.state.session_factory) as session:
            for line in service.export_statements(
                session, principal, incident_key, action_id=action_id, after_id=after_id
            ):
                if not line.errors:
                    yield (line.line + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{incident_key}-statements.jsonl"'},
    )


@router.get(REPORTS, response_model=list[ReportOut], summary="Report drafts awaiting human review")
def reports(request: Request, principal: Auth, key: str) -> list[ReportOut]:
    with unit_of_work(request) as session:
        return service.list_reports(session, principal, key)


@router.get(REPORTS + "/{report_id}", response_model=ReportOut, summary="One report draft")
def report(
    request: Request, response: Response, principal: Auth, key: str, report_id: RowId
) -> ReportOut:
    with unit_of_work(request) as session:
        out = service.get_report(session, principal, key, report_id)
    response.headers["ETag"] = etag(out.version)
    return out


def _report(response: Response, row: Any, key: str) -> ReportOut:
    out = service.report_out(row, key.upper())
    response.headers["ETag"] = etag(out.version)
    return out


@router.put(REPORTS + "/{report_id}", response_model=ReportOut, summary="Correct a report draft")
def edit_report(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    report_id: RowId,
    body: ReportEditIn,
) -> ReportOut:
    with unit_of_work(request) as session:
        row = service.edit_report(
            session, principal, key, report_id, body, request.app.state.clock.now()
        )
        return _report(response, row, key)


@router.post(
    REPORTS + "/{report_id}/review",
    response_model=ReportOut,
    summary="Confirm a draft is complete and correct (it is still not sent)",
)
def review_report(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    report_id: RowId,
    body: ReviewIn,
) -> ReportOut:
    with unit_of_work(request) as session:
        row = service.review_report(
            session, principal, key, report_id, body.version, request.app.state.clock.now()
        )
        return _report(response, row, key)


@router.post(
    REPORTS + "/{report_id}/submission",
    response_model=ReportOut,
    summary="Record that a person submitted the reviewed report, with its receipt",
)
def record_submission(
    request: Request,
    response: Response,
    principal: Auth,
    key: str,
    report_id: RowId,
    body: SubmissionIn,
) -> ReportOut:
    with unit_of_work(request) as session:
        row = service.record_submission(
            session, principal, key, report_id, body, request.app.state.clock.now()
        )
        return _report(response, row, key)

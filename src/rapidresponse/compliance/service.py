"""Compliance use cases: triggers in, obligations out, tracked to done; statements; drafts.

Recording a trigger (an order received, CSAM confirmed, a threat to life identified)
computes the incident's obligations from the rulebook, each with its due time from the
trigger, a warning before it and a breach timer after it (durable outbox timers, so they
fire even if the server restarts). Obligations are closed with evidence, or waived with a
reason. Reports to NCMEC or law enforcement are drafted for people to review and submit
themselves: nothing here sends a report anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.compliance import obligations as plans
from rapidresponse.compliance import reports, statements
from rapidresponse.compliance.model import (
    ComplianceTrigger,
    Obligation,
    ReportDraft,
    StatementOfReasons,
)
from rapidresponse.compliance.rulebook import (
    DraftKind,
    ObligationKind,
    Rule,
    TriggerKind,
    shipped_rulebook,
)
from rapidresponse.compliance.schemas import (
    EvidenceIn,
    ObligationOut,
    ReportEditIn,
    ReportOut,
    StatementOut,
    SubmissionIn,
    TriggerIn,
    TriggerOut,
    WaiveIn,
)
from rapidresponse.concurrency import check_version, flush_versioned
from rapidresponse.errors import Conflict, InvalidInput, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.model import Incident
from rapidresponse.incidents.schemas import TimelineKind
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import SessionHandler

OBLIGATION_TOPIC = "compliance.obligation"
OPEN, MET, WAIVED = "open", "met", "waived"
# A trigger may be recorded a little after the fact, never in the future; this much clock
# skew between a client and the server is tolerated.
CLOCK_SKEW = timedelta(minutes=2)
SYSTEM = Principal(subject="rapidresponse", role=Role.ADMIN)


def _changed(
    session: Session,
    principal: Principal,
    row: Obligation | ReportDraft,
    event: str,
    before: dict[str, Any],
    now: datetime,
) -> None:
    """Check a versioned row's version and append its change to the audit chain."""
    what = "obligation" if isinstance(row, Obligation) else "report draft"
    flush_versioned(session, f"{what} {row.id}")
    audit.record(
        session,
        actor=principal.subject,
        action=f"compliance.{event}",
        entity_type=row.__tablename__,
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row),
        at=now,
    )


# ---------------------------------------------------------------- triggers and obligations


def record_trigger(
    session: Session, principal: Principal, key: str, body: TriggerIn, now: datetime
) -> tuple[ComplianceTrigger, list[Obligation]]:
    """Record a legally relevant fact and create the obligations it starts."""
    require(principal, Role.RESPONDER, "recording a compliance trigger")
    incident = incidents.get_incident(session, principal, key)
    occurred_at = body.occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput("occurred_at: a trigger cannot be in the future")
    if body.kind is TriggerKind.CONTENT_RESTRICTED:
        raise InvalidInput(
            "kind: content_restricted is recorded by containment actions themselves; "
            "run the action instead"
        )
    trigger = ComplianceTrigger(
        incident_id=incident.id,
        kind=body.kind.value,
        occurred_at=occurred_at,
        regions=body.regions or list(incident.regions),
        reference=body.reference,
        details=body.details,
        recorded_by=principal.subject,
        recorded_at=now,
    )
    return trigger, _record(session, principal, incident, trigger, now)


def record_restriction(
    session: Session, incident: Incident, action_id: int, regions: Sequence[str], now: datetime
) -> None:
    """A containment action restricted content in the EU/EEA: statements of reasons are due.

    One trigger per action (its first batch that restricted something there).
    """
    exists = session.scalar(
        select(ComplianceTrigger.id).where(
            ComplianceTrigger.action_id == action_id,
            ComplianceTrigger.kind == TriggerKind.CONTENT_RESTRICTED.value,
        )
    )
    if exists is not None:
        return
    trigger = ComplianceTrigger(
        incident_id=incident.id,
        kind=TriggerKind.CONTENT_RESTRICTED.value,
        occurred_at=now,
        regions=list(regions),
        reference=f"containment action #{action_id}",
        details="",
        action_id=action_id,
        recorded_by=SYSTEM.subject,
        recorded_at=now,
    )
    _record(session, SYSTEM, incident, trigger, now)


def _record(
    session: Session,
    principal: Principal,
    incident: Incident,
    trigger: ComplianceTrigger,
    now: datetime,
) -> list[Obligation]:
    session.add(trigger)
    session.flush()
    fact = plans.TriggerFact(
        id=trigger.id,
        kind=TriggerKind(trigger.kind),
        occurred_at=trigger.occurred_at,
        regions=tuple(trigger.regions),
    )
    rulebook = shipped_rulebook()
    created: list[Obligation] = []
    for planned in plans.plan_obligations(rulebook, HarmType(incident.harm_type), [fact]):
        rule = rulebook.get(planned.rule_id)
        obligation = Obligation(
            incident_id=incident.id,
            trigger_id=trigger.id,
            rule_id=rule.id,
            rule_checked=rule.last_checked.isoformat(),
            regions=list(planned.regions),
            basis=planned.basis.value,
            due_at=planned.due_at,
            warn_at=planned.warn_at,
            retain_until=planned.retain_until,
            status=OPEN,
            evidence={},
            created_at=now,
        )
        session.add(obligation)
        session.flush()
        _arm(session, obligation, now)
        if rule.draft is not None:
            _draft(session, incident, obligation, rule, trigger, now)
        created.append(obligation)
    audit.record(
        session,
        actor=principal.subject,
        action="compliance.trigger_recorded",
        entity_type="compliance_trigger",
        entity_id=trigger.id,
        before=None,
        after={**audit.snapshot(trigger), "obligations": [o.rule_id for o in created]},
        at=now,
    )
    summary = ", ".join(
        f"{rulebook.get(o.rule_id).title} by {o.due_at:%Y-%m-%d %H:%M} UTC" for o in created
    )
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMPLIANCE,
        f"Recorded {trigger.kind.replace('_', ' ')}"
        + (f" ({trigger.reference})" if trigger.reference else "")
        + f" in {', '.join(trigger.regions) or 'no region'}: "
        + (
            f"{len(created)} obligation(s): {summary}"
            if created
            else "no obligation in the rulebook"
        ),
        now,
        {"trigger_id": trigger.id, "obligations": [o.id for o in created]},
    )
    return created


def _timer_keys(obligation: Obligation) -> tuple[str, str]:
    return f"obligation:{obligation.id}:warn", f"obligation:{obligation.id}:breach"


def _arm(session: Session, obligation: Obligation, now: datetime) -> None:
    warn, breach = _timer_keys(obligation)
    payload = {"obligation_id": obligation.id}
    if obligation.warn_at > now:
        outbox.schedule(
            session,
            OBLIGATION_TOPIC,
            {**payload, "stage": "warn"},
            due_at=obligation.warn_at,
            key=warn,
            now=now,
        )
    # Breached means strictly after the due time, so the check runs a second later.
    outbox.schedule(
        session,
        OBLIGATION_TOPIC,
        {**payload, "stage": "breach"},
        due_at=max(now, obligation.due_at + timedelta(seconds=1)),
        key=breach,
        now=now,
    )


def _disarm(session: Session, obligation: Obligation) -> None:
    for key in _timer_keys(obligation):
        outbox.cancel(session, key)


def fire_timer(session: Session, payload: dict[str, Any], now: datetime) -> None:
    """A warning or breach timer: note it on the incident while the obligation is open."""
    obligation = session.get(Obligation, int(payload["obligation_id"]))
    if obligation is None or obligation.status != OPEN:
        return
    rule = shipped_rulebook().get(obligation.rule_id)
    incident = session.get_one(Incident, obligation.incident_id)
    if payload.get("stage") == "warn":
        if obligation.warned_at is not None:
            return
        obligation.warned_at = now
        left = obligation.due_at - now
        text = (
            f"Due in {int(left.total_seconds() // 60)} min: {rule.title} "
            f"({rule.instrument} {rule.citation}), by {obligation.due_at:%Y-%m-%d %H:%M} UTC"
        )
    else:
        if obligation.breached_at is not None or now <= obligation.due_at:
            return
        obligation.breached_at = now
        text = (
            f"BREACHED: {rule.title} ({rule.instrument} {rule.citation}) was due "
            f"{obligation.due_at:%Y-%m-%d %H:%M} UTC"
            + (
                " (internal target; the law says " + rule.law_says + ")"
                if obligation.basis == "internal_target"
                else ""
            )
        )
    flush_versioned(session, f"obligation {obligation.id}")
    incidents.record_event(
        session,
        SYSTEM,
        incident.key,
        TimelineKind.COMPLIANCE,
        text,
        now,
        {"obligation_id": obligation.id, "stage": payload.get("stage")},
    )


@dataclass(frozen=True)
class OpenObligation:
    title: str
    citation: str
    due_at: datetime


def open_obligations(session: Session, incident_id: int) -> list[OpenObligation]:
    """An incident's open obligations, for the next-actions view (the caller checked access)."""
    rulebook = shipped_rulebook()
    out = []
    for row in session.scalars(
        select(Obligation)
        .where(Obligation.incident_id == incident_id, Obligation.status == OPEN)
        .order_by(Obligation.due_at)
    ):
        rule = rulebook.get(row.rule_id)
        out.append(OpenObligation(rule.title, f"{rule.instrument} {rule.citation}", row.due_at))
    return out


def _find_obligation(
    session: Session, principal: Principal, key: str, obligation_id: int
) -> tuple[Incident, Obligation]:
    incident = incidents.get_incident(session, principal, key)
    obligation = session.get(Obligation, obligation_id)
    if obligation is None or obligation.incident_id != incident.id:
        raise NotFound(f"no obligation {obligation_id} on {incident.key}")
    return incident, obligation


def triggers(session: Session, principal: Principal, key: str) -> list[TriggerOut]:
    incident = incidents.get_incident(session, principal, key)
    rows = session.scalars(
        select(ComplianceTrigger)
        .where(ComplianceTrigger.incident_id == incident.id)
        .order_by(ComplianceTrigger.occurred_at, ComplianceTrigger.id)
    )
    out = []
    for row in rows:
        ids = session.scalars(
            select(Obligation.id).where(Obligation.trigger_id == row.id).order_by(Obligation.id)
        )
        out.append(trigger_out(row, incident.key, list(ids)))
    return out


def trigger_out(row: ComplianceTrigger, key: str, obligation_ids: list[int]) -> TriggerOut:
    return TriggerOut(
        id=row.id,
        incident=key,
        kind=TriggerKind(row.kind),
        occurred_at=row.occurred_at,
        regions=row.regions,
        reference=row.reference,
        details=row.details,
        action_id=row.action_id,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        obligations=obligation_ids,
    )


def list_obligations(
    session: Session, principal: Principal, key: str, now: datetime
) -> list[ObligationOut]:
    incident = incidents.get_incident(session, principal, key)
    rows = session.scalars(
        select(Obligation)
        .where(Obligation.incident_id == incident.id)
        .order_by(Obligation.due_at, Obligation.id)
    )
    return [obligation_out(session, row, incident.key, now) for row in rows]


def obligations_across(
    session: Session, principal: Principal, now: datetime, states: Sequence[str], limit: int
) -> list[ObligationOut]:
    """Open obligations of every incident the principal may see, soonest due first."""
    rows = session.execute(
        select(Obligation, Incident.key)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(Obligation.status == OPEN)
        .order_by(Obligation.due_at, Obligation.id)
    ).all()
    out: list[ObligationOut] = []
    seen: dict[str, bool] = {}
    for row, key in rows:
        if key not in seen:
            try:
                incidents.get_incident(session, principal, key)
                seen[key] = True
            except NotFound:
                seen[key] = False
        if not seen[key]:
            continue
        item = obligation_out(session, row, key, now)
        if not states or item.state in states:
            out.append(item)
        if len(out) >= limit:
            break
    return out


def obligation_out(session: Session, row: Obligation, key: str, now: datetime) -> ObligationOut:
    rule = shipped_rulebook().get(row.rule_id)
    trigger = session.get_one(ComplianceTrigger, row.trigger_id)
    draft = session.scalar(select(ReportDraft.id).where(ReportDraft.obligation_id == row.id))
    state = plans.obligation_state(
        row.due_at, row.warn_at, row.done_at, now, waived=row.status == WAIVED
    )
    return ObligationOut(
        id=row.id,
        incident=key,
        rule_id=rule.id,
        title=rule.title,
        obligation=rule.obligation,
        kind=rule.kind.value,
        jurisdiction=rule.jurisdiction,
        instrument=rule.instrument,
        citation=rule.citation,
        source_url=rule.source_url,
        rule_status=rule.status.value,
        status_note=rule.status_note,
        last_checked=rule.last_checked,
        regions=row.regions,
        trigger_id=trigger.id,
        trigger_kind=TriggerKind(trigger.kind),
        triggered_at=trigger.occurred_at,
        basis=row.basis,
        law_says=rule.law_says,
        due_at=row.due_at,
        warn_at=row.warn_at,
        state=state.value,
        seconds_left=int(plans.time_left(row.due_at, now).total_seconds()),
        retain_until=row.retain_until,
        evidence_required=list(rule.evidence),
        status=row.status,
        done_at=row.done_at,
        done_by=row.done_by,
        evidence=row.evidence,
        waived_reason=row.waived_reason,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        report_draft=draft,
        version=row.version,
    )


def complete(
    session: Session,
    principal: Principal,
    key: str,
    obligation_id: int,
    body: EvidenceIn,
    now: datetime,
) -> Obligation:
    """Mark an obligation met, with the evidence that proves it."""
    require(principal, Role.RESPONDER, "completing an obligation")
    incident, obligation = _find_obligation(session, principal, key, obligation_id)
    check_version(obligation.version, body.version, f"obligation {obligation_id}")
    done_at = body.done_at or now
    return _complete(
        session, principal, incident, obligation, body.text, body.references, done_at, now
    )


def _complete(
    session: Session,
    principal: Principal,
    incident: Incident,
    obligation: Obligation,
    text: str,
    references: Sequence[str],
    done_at: datetime,
    now: datetime,
) -> Obligation:
    if obligation.status != OPEN:
        raise Conflict(f"obligation {obligation.id} is already {obligation.status}")
    trigger = session.get_one(ComplianceTrigger, obligation.trigger_id)
    if done_at > now + CLOCK_SKEW:
        raise InvalidInput("done_at: cannot be in the future")
    if done_at < trigger.occurred_at:
        raise InvalidInput(
            f"done_at: {done_at:%Y-%m-%d %H:%M} is before the trigger "
            f"({trigger.occurred_at:%Y-%m-%d %H:%M})"
        )
    before = audit.snapshot(obligation)
    obligation.status, obligation.done_at, obligation.done_by = MET, done_at, principal.subject
    obligation.evidence = {"text": text, "references": list(references)}
    rulebook = shipped_rulebook()
    rule = rulebook.get(obligation.rule_id)
    if rule.kind in (ObligationKind.REPORT, ObligationKind.REMOVE):
        _extend_preservation(session, obligation, rule, done_at)
    _changed(session, principal, obligation, "obligation_met", before, now)
    _disarm(session, obligation)
    late = done_at > obligation.due_at
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMPLIANCE,
        f"{'Met late' if late else 'Met'}: {rule.title} ({rule.instrument} {rule.citation})"
        + (f" — {', '.join(references)}" if references else ""),
        now,
        {"obligation_id": obligation.id},
    )
    return obligation


def _extend_preservation(
    session: Session, report: Obligation, rule: Rule, done_at: datetime
) -> None:
    """Preservation that the law counts from a report or a removal runs from when it was done.

    A preservation duty is planned from the trigger (the earliest it could start): 18 U.S.C.
    2258A(h) counts its year from the report, the TCO Regulation (Art. 6) its six months from
    the removal. Once that is done, the period from it is the later, safe date.
    """
    rulebook = shipped_rulebook()
    for other in session.scalars(
        select(Obligation).where(
            Obligation.trigger_id == report.trigger_id, Obligation.id != report.id
        )
    ):
        other_rule = rulebook.get(other.rule_id)
        if (
            other_rule.kind is ObligationKind.PRESERVE
            and other_rule.jurisdiction == rule.jurisdiction
            and other_rule.retain_for
        ):
            extended = plans.add_period(done_at, other_rule.retain_for)
            if other.retain_until is None or extended > other.retain_until:
                other.retain_until = extended


def waive(
    session: Session,
    principal: Principal,
    key: str,
    obligation_id: int,
    body: WaiveIn,
    now: datetime,
) -> Obligation:
    """Legal decides an obligation does not apply (kept, with the reason, for the review)."""
    require(principal, Role.INCIDENT_MANAGER, "waiving an obligation")
    incident, obligation = _find_obligation(session, principal, key, obligation_id)
    check_version(obligation.version, body.version, f"obligation {obligation_id}")
    if obligation.status != OPEN:
        raise Conflict(f"obligation {obligation_id} is already {obligation.status}")
    before = audit.snapshot(obligation)
    obligation.status, obligation.waived_reason = WAIVED, body.reason
    obligation.done_by, obligation.done_at = principal.subject, now
    _changed(session, principal, obligation, "obligation_waived", before, now)
    _disarm(session, obligation)
    rule = shipped_rulebook().get(obligation.rule_id)
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMPLIANCE,
        f"Waived: {rule.title} ({rule.citation}): {body.reason}",
        now,
        {"obligation_id": obligation.id},
    )
    return obligation


# ---------------------------------------------------------------- statements of reasons


def add_statements(
    session: Session,
    incident_id: int,
    action_id: int,
    records: Sequence[dict[str, Any]],
    now: datetime,
) -> int:
    """Store statements (validated; invalid ones are kept with their errors, never dropped)."""
    rows = []
    for record in records:
        errors = statements.validate_statement(record)
        rows.append(
            {
                "incident_id": incident_id,
                "action_id": action_id,
                "puid": str(record.get("puid", "")),
                "record": record,
                "errors": errors,
                "valid": not errors,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(StatementOfReasons), rows)
    return len(rows)


def list_statements(
    session: Session,
    principal: Principal,
    key: str,
    *,
    valid: bool | None = None,
    action_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> tuple[list[StatementOut], dict[str, int]]:
    incident = incidents.get_incident(session, principal, key)
    base = select(StatementOfReasons).where(StatementOfReasons.incident_id == incident.id)
    if action_id is not None:
        base = base.where(StatementOfReasons.action_id == action_id)
    tally = select(StatementOfReasons.valid, func.count()).where(
        StatementOfReasons.incident_id == incident.id
    )
    if action_id is not None:
        tally = tally.where(StatementOfReasons.action_id == action_id)
    counts = dict(session.execute(tally.group_by(StatementOfReasons.valid)).all())
    query = base.where(StatementOfReasons.id > after_id)
    if valid is not None:
        query = query.where(StatementOfReasons.valid == valid)
    rows = session.scalars(query.order_by(StatementOfReasons.id).limit(limit))
    return [statement_out(r) for r in rows], {
        "valid": int(counts.get(True, 0)),
        "invalid": int(counts.get(False, 0)),
    }


def statement_out(row: StatementOfReasons) -> StatementOut:
    return StatementOut(
        id=row.id,
        action_id=row.action_id,
        puid=row.puid,
        valid=row.valid,
        errors=row.errors,
        record=row.record,
        created_at=row.created_at,
    )


def export_statements(
    session: Session,
    principal: Principal,
    key: str,
    *,
    action_id: int | None = None,
    after_id: int = 0,
    chunk: int = 2000,
) -> Iterator[statements.ExportLine]:
    """Every statement as a JSON line for the transparency database, re-validated on the way."""
    incident = incidents.get_incident(session, principal, key)
    last = after_id
    while True:
        query = select(StatementOfReasons.id, StatementOfReasons.record).where(
            StatementOfReasons.incident_id == incident.id, StatementOfReasons.id > last
        )
        if action_id is not None:
            query = query.where(StatementOfReasons.action_id == action_id)
        rows = session.execute(query.order_by(StatementOfReasons.id).limit(chunk)).all()
        if not rows:
            return
        yield from statements.export_jsonl(record for _, record in rows)
        last = rows[-1][0]


# ---------------------------------------------------------------- report drafts


def _draft(
    session: Session,
    incident: Incident,
    obligation: Obligation,
    rule: Rule,
    trigger: ComplianceTrigger,
    now: datetime,
) -> ReportDraft:
    facts = _case_facts(session, incident, trigger)
    if rule.draft is DraftKind.NCMEC_CYBERTIPLINE:
        content = reports.draft_ncmec_report(facts)
    else:
        authority = (
            f"Law enforcement or judicial authorities of {', '.join(obligation.regions)}"
            if obligation.regions
            else "The competent law-enforcement authority"
        )
        content = reports.draft_law_enforcement_notification(
            facts, authority, f"{rule.instrument} {rule.citation}"
        )
    draft = ReportDraft(
        incident_id=incident.id,
        obligation_id=obligation.id,
        kind=rule.draft.value if rule.draft else "",
        content=content,
        status=reports.DraftStatus.DRAFT.value,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def _case_facts(
    session: Session, incident: Incident, trigger: ComplianceTrigger
) -> reports.CaseFacts:
    from rapidresponse.enforcement import service as enforcement

    items = enforcement.cluster_for_reports(session, incident.id)
    return reports.CaseFacts(
        incident_key=incident.key,
        harm_type=HarmType(incident.harm_type),
        title=incident.title,
        summary=incident.summary,
        regions=tuple(incident.regions),
        detected_at=incident.detected_at,
        trigger_kind=trigger.kind,
        trigger_at=trigger.occurred_at,
        trigger_reference=trigger.reference or None,
        items=tuple(
            reports.ReportedItem(
                content_id=item.external_id,
                account_id=item.account_id,
                uploaded_at=item.posted_at,
                url=None,
                md5=None,
                sha256=None,
                pdq=None,
                publicly_available=None,
                viewed_by_staff=None,
                regions=tuple(item.regions),
            )
            for item in items
        ),
        accounts=tuple(sorted({i.account_id for i in items if i.account_id})),
        reporter_org="Rapid Response",
        reporter_contact=None,
    )


def _find_report(
    session: Session, principal: Principal, key: str, report_id: int
) -> tuple[Incident, ReportDraft]:
    incident = incidents.get_incident(session, principal, key)
    draft = session.get(ReportDraft, report_id)
    if draft is None or draft.incident_id != incident.id:
        raise NotFound(f"no report draft {report_id} on {incident.key}")
    return incident, draft


def list_reports(session: Session, principal: Principal, key: str) -> list[ReportOut]:
    incident = incidents.get_incident(session, principal, key)
    rows = session.scalars(
        select(ReportDraft).where(ReportDraft.incident_id == incident.id).order_by(ReportDraft.id)
    )
    return [report_out(r, incident.key) for r in rows]


def get_report(session: Session, principal: Principal, key: str, report_id: int) -> ReportOut:
    incident, draft = _find_report(session, principal, key, report_id)
    return report_out(draft, incident.key)


def report_out(row: ReportDraft, key: str) -> ReportOut:
    return ReportOut(
        id=row.id,
        incident=key,
        obligation_id=row.obligation_id,
        kind=row.kind,
        status=row.status,
        content=row.content,
        markdown=reports.render_markdown(row.content),
        created_at=row.created_at,
        updated_at=row.updated_at,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        submission_reference=row.submission_reference,
        version=row.version,
    )


def edit_report(
    session: Session,
    principal: Principal,
    key: str,
    report_id: int,
    body: ReportEditIn,
    now: datetime,
) -> ReportDraft:
    """A reviewer corrects or completes the draft; an edit after review needs a new review."""
    require(principal, Role.RESPONDER, "editing a report draft")
    _, draft = _find_report(session, principal, key, report_id)
    check_version(draft.version, body.version, f"report draft {report_id}")
    if draft.status == reports.DraftStatus.SUBMITTED.value:
        raise Conflict(f"report draft {report_id} was submitted; it can no longer change")
    before = audit.snapshot(draft)
    draft.content, draft.updated_at = body.content, now
    draft.status, draft.reviewed_by, draft.reviewed_at = reports.DraftStatus.DRAFT.value, None, None
    _changed(session, principal, draft, "report_edited", before, now)
    return draft


def review_report(
    session: Session,
    principal: Principal,
    key: str,
    report_id: int,
    version: int | None,
    now: datetime,
) -> ReportDraft:
    """A person confirms the draft is complete and correct and may be submitted."""
    require(principal, Role.INCIDENT_MANAGER, "reviewing a report draft")
    incident, draft = _find_report(session, principal, key, report_id)
    check_version(draft.version, version, f"report draft {report_id}")
    if draft.status != reports.DraftStatus.DRAFT.value:
        raise Conflict(f"report draft {report_id} is {draft.status}, not a draft")
    before = audit.snapshot(draft)
    draft.status = reports.DraftStatus.REVIEWED.value
    draft.reviewed_by, draft.reviewed_at, draft.updated_at = principal.subject, now, now
    _changed(session, principal, draft, "report_reviewed", before, now)
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMPLIANCE,
        f"{principal.subject} reviewed the {draft.kind.replace('_', ' ')} draft #{draft.id}; "
        "a person must now submit it",
        now,
        {"report_id": draft.id},
    )
    return draft


def record_submission(
    session: Session,
    principal: Principal,
    key: str,
    report_id: int,
    body: SubmissionIn,
    now: datetime,
) -> ReportDraft:
    """A person says they submitted the reviewed report themselves, with the receipt."""
    require(principal, Role.INCIDENT_MANAGER, "recording a report submission")
    incident, draft = _find_report(session, principal, key, report_id)
    check_version(draft.version, body.version, f"report draft {report_id}")
    if draft.status != reports.DraftStatus.REVIEWED.value:
        raise Conflict(
            f"report draft {report_id} is {draft.status}; a draft must be reviewed before it "
            "is submitted"
        )
    submitted_at = body.submitted_at or now
    before = audit.snapshot(draft)
    draft.status = reports.DraftStatus.SUBMITTED.value
    draft.submitted_by, draft.submitted_at = principal.subject, submitted_at
    draft.submission_reference, draft.updated_at = body.reference, now
    _changed(session, principal, draft, "report_submitted", before, now)
    obligation = session.get_one(Obligation, draft.obligation_id)
    if obligation.status == OPEN:
        _complete(
            session,
            principal,
            incident,
            obligation,
            f"{draft.kind.replace('_', ' ')} submitted by {principal.subject}",
            [body.reference],
            submitted_at,
            now,
        )
    return draft


def session_handlers() -> dict[str, SessionHandler]:
    """Obligation timers (registered in outbox/handlers.py)."""
    return {OBLIGATION_TOPIC: fire_timer}

"""Comms use cases: deliveries, status updates and their approval, and the update cadence.

The API, the CLI and other domains call these functions with a session, the acting
principal and the current time. Every step of a status update also goes into the incident's
timeline (``communication``) and the audit log, in the caller's transaction.

Contracts other domains code against:

- :func:`deliver` stores one idempotent delivery (e-mail, signed webhook, Slack) and
  enqueues it on the outbox in the caller's transaction; the ``comms.deliver`` handler from
  :func:`handlers` sends it, retried with the outbox's backoff, and records the outcome.
- :func:`schedule_cadence` sets how often an incident owes an internal update; one durable
  outbox timer (``comms.cadence``) reminds the commander and communications lead when one is
  overdue. :func:`next_update_due_at` says when the next one is due.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.clock import Clock
from rapidresponse.comms import approvals, cadence, facts, senders, templates
from rapidresponse.comms.approvals import (
    ApprovalFunction,
    Decision,
    NotAllowed,
    UpdateStatus,
)
from rapidresponse.comms.channels import Channel, DeliveryStatus, masked, normalise_target
from rapidresponse.comms.model import Approval, Delivery, StatusUpdate, UpdateCadence
from rapidresponse.comms.schemas import (
    ApprovalIn,
    ApprovalOut,
    CadenceOut,
    ComposeIn,
    DeliveryOut,
    Recipient,
    RejectionIn,
    StatusUpdateOut,
    UpdatePatch,
)
from rapidresponse.comms.templates import UpdateKind
from rapidresponse.concurrency import check_version, flush_versioned
from rapidresponse.db import transaction
from rapidresponse.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from rapidresponse.incidents import lifecycle
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.model import Incident
from rapidresponse.incidents.schemas import ParticipantRole, TimelineKind
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import Handler, SessionHandler
from rapidresponse.settings import Settings, get_settings

log = logging.getLogger(__name__)

DELIVER_TOPIC = "comms.deliver"
CADENCE_TOPIC = "comms.cadence"
SYSTEM = Principal(subject="rapidresponse", role=Role.ADMIN)
MAX_SUBJECT = 300
MAX_KEY = 200

# Who a cadence reminder is for: the people who owe the update.
REMINDED_ROLES = (ParticipantRole.INCIDENT_COMMANDER, ParticipantRole.COMMUNICATIONS)

ContactResolver = Callable[[Session, str], Sequence[tuple[str, str]]]
"""Where to reach a person: ``(session, user) -> [(channel, target), …]``.

The on-call domain owns the person directory; :func:`directory_contacts` asks it. People it
does not know are not reminded by message (the reminder is still on the timeline)."""


def _link(incident_key: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/incidents/{incident_key}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- deliveries


def _delivery_by_key(session: Session, idempotency_key: str) -> Delivery | None:
    return session.scalars(
        select(Delivery).where(Delivery.idempotency_key == idempotency_key)
    ).one_or_none()


def _delivery_timer_key(delivery_id: int) -> str:
    return f"{DELIVER_TOPIC}:{delivery_id}"


def deliver(
    session: Session,
    *,
    channel: Channel,
    target: str,
    subject: str,
    body: str,
    idempotency_key: str,
    now: datetime,
    incident_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Delivery:
    """Store a delivery and enqueue it for the worker, in the caller's transaction.

    The same ``idempotency_key`` always gives the same delivery: a second call returns the
    stored row and sends nothing more, whatever else it passes. Nothing is sent if the
    caller's transaction rolls back. InvalidInput for a malformed target or key.
    """
    try:
        channel = Channel(channel)
        target = normalise_target(channel, target)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY:
        raise InvalidInput(f"an idempotency key has 1 to {MAX_KEY} characters")
    existing = _delivery_by_key(session, idempotency_key)
    if existing is not None:
        return existing
    subject = " ".join(subject.split())
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1] + "…"
    delivery = Delivery(
        channel=channel.value,
        target=target,
        subject=subject,
        body=body,
        payload=audit.jsonable(payload or {}),
        idempotency_key=idempotency_key,
        incident_key=incident_key,
        status=DeliveryStatus.QUEUED.value,
        attempts=0,
        created_at=now,
    )
    try:
        # A concurrent transaction may be inserting the same key: let the unique index decide
        # and return its row, without losing the caller's transaction.
        with session.begin_nested():
            session.add(delivery)
            session.flush()
    except IntegrityError:
        existing = _delivery_by_key(session, idempotency_key)
        if existing is None:
            raise
        return existing
    outbox.schedule(
        session,
        DELIVER_TOPIC,
        {"delivery_id": delivery.id},
        due_at=now,
        key=_delivery_timer_key(delivery.id),
        now=now,
    )
    return delivery


def get_delivery(session: Session, delivery_id: int) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def _may_see(session: Session, principal: Principal, incident_key: str | None) -> bool:
    if principal.role is Role.ADMIN or incident_key is None:
        return True
    try:
        incidents.get_incident(session, principal, incident_key)
    except NotFound:
        return False
    return True


def list_deliveries(
    session: Session,
    principal: Principal,
    *,
    status: DeliveryStatus | None = None,
    incident_key: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Recent deliveries, newest first, of incidents the principal may see."""
    require(principal, Role.INCIDENT_MANAGER, "reading deliveries")
    query = select(Delivery).order_by(Delivery.id.desc())
    if status is not None:
        query = query.where(Delivery.status == status.value)
    if incident_key is not None:
        incident_key = incidents.get_incident(session, principal, incident_key).key
        query = query.where(Delivery.incident_key == incident_key)
    rows: list[Delivery] = []
    visible: dict[str | None, bool] = {}
    # Need-to-know is decided per incident; read in pages until the limit is filled.
    offset, page = 0, max(limit, 100)
    while len(rows) < limit:
        chunk = list(session.scalars(query.limit(page).offset(offset)))
        for delivery in chunk:
            if delivery.incident_key not in visible:
                visible[delivery.incident_key] = _may_see(session, principal, delivery.incident_key)
            if visible[delivery.incident_key]:
                rows.append(delivery)
        if len(chunk) < page:
            break
        offset += page
    return rows[:limit]


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        channel=Channel(delivery.channel),
        target=masked(delivery.channel, delivery.target),
        subject=delivery.subject,
        incident_key=delivery.incident_key,
        idempotency_key=delivery.idempotency_key,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        last_attempt_at=delivery.last_attempt_at,
        sent_at=delivery.sent_at,
    )


def _outgoing(delivery: Delivery) -> senders.Outgoing:
    link = delivery.payload.get("link")
    return senders.Outgoing(
        delivery_id=delivery.id,
        channel=Channel(delivery.channel),
        target=delivery.target,
        subject=delivery.subject,
        body=delivery.body,
        idempotency_key=delivery.idempotency_key,
        incident_key=delivery.incident_key,
        payload=dict(delivery.payload),
        link=link if isinstance(link, str) else None,
    )


def _record_success(session: Session, delivery_id: int, now: datetime) -> None:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return
    delivery.status = DeliveryStatus.SENT.value
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.sent_at = now
    delivery.last_error = None


def _record_failure(
    session: Session, delivery_id: int, error: str, now: datetime, max_attempts: int
) -> None:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_error = error[:2000]
    # The outbox message's own count decides when it gives up (it restarts at zero when an
    # operator requeues dead messages); this attempt is the one it is about to count.
    message = outbox.get_by_key(session, _delivery_timer_key(delivery_id))
    tries = message.attempts + 1 if message is not None else delivery.attempts
    delivery.status = (
        DeliveryStatus.DEAD.value if tries >= max_attempts else DeliveryStatus.RETRYING.value
    )


def delivery_handler(factory: sessionmaker[Session], settings: Settings, clock: Clock) -> Handler:
    """The outbox handler for ``comms.deliver``: send one delivery and record the outcome.

    It runs outside any transaction (the network is slow; locks are not held across it) and
    at least once. A delivery already sent is not sent again. On failure the outcome is
    recorded and the error re-raised, so the outbox retries with backoff; when the outbox's
    attempts are used up the delivery is marked dead, where the API and CLI show it.
    """

    def handle(payload: dict[str, Any]) -> None:
        delivery_id = int(payload["delivery_id"])
        with transaction(factory) as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                raise LookupError(f"delivery {delivery_id} does not exist")
            if delivery.status == DeliveryStatus.SENT.value:
                return
            outgoing = _outgoing(delivery)
        try:
            senders.send(outgoing, settings, clock.now())
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            with transaction(factory) as session:
                _record_failure(
                    session, delivery_id, error, clock.now(), settings.outbox_max_attempts
                )
            raise
        with transaction(factory) as session:
            _record_success(session, delivery_id, clock.now())

    return handle


def handlers(
    factory: sessionmaker[Session], settings: Settings, clock: Clock
) -> dict[str, Handler]:
    """Topics whose delivery leaves the database (registered in outbox/handlers.py)."""
    return {DELIVER_TOPIC: delivery_handler(factory, settings, clock)}


def session_handlers(resolver: ContactResolver | None = None) -> dict[str, SessionHandler]:
    """Topics handled inside the delivery transaction (registered in outbox/handlers.py)."""
    contacts = resolver or directory_contacts

    def fire(session: Session, payload: dict[str, Any], now: datetime) -> None:
        fire_cadence(session, payload, now, resolver=contacts)

    return {CADENCE_TOPIC: fire}


# ---------------------------------------------------------------- status updates: reading


def _label(update: StatusUpdate) -> str:
    return f"{approvals.LABELS[UpdateKind(update.kind)]} #{update.id}"


def _find_update(session: Session, incident: Incident, update_id: int) -> StatusUpdate:
    update = session.get(StatusUpdate, update_id)
    if update is None or update.incident_id != incident.id:
        raise NotFound(f"no status update {update_id} on {incident.key}")
    return update


def get_update(session: Session, principal: Principal, key: str, update_id: int) -> StatusUpdate:
    incident = incidents.get_incident(session, principal, key)
    return _find_update(session, incident, update_id)


def list_updates(
    session: Session, principal: Principal, key: str, kind: UpdateKind | None = None
) -> list[StatusUpdate]:
    incident = incidents.get_incident(session, principal, key)
    query = select(StatusUpdate).where(StatusUpdate.incident_id == incident.id)
    if kind is not None:
        query = query.where(StatusUpdate.kind == kind.value)
    return list(session.scalars(query.order_by(StatusUpdate.id)))


def _approvals(session: Session, update: StatusUpdate) -> list[Approval]:
    return list(
        session.scalars(
            select(Approval).where(Approval.update_id == update.id).order_by(Approval.id)
        )
    )


def _valid_approvals(session: Session, update: StatusUpdate) -> list[Approval]:
    """Approvals that still count: not voided, and of the text the update carries now."""
    text = _sha256(update.title + "\n" + update.body)
    return [
        a
        for a in _approvals(session, update)
        if a.decision == Decision.APPROVED.value and a.voided_at is None and a.text_sha256 == text
    ]


def _pairs(valid: list[Approval]) -> list[tuple[ApprovalFunction, str]]:
    return [(ApprovalFunction(a.function), a.decided_by) for a in valid]


def _update_deliveries(session: Session, update: StatusUpdate) -> list[Delivery]:
    prefix = f"comms.update:{update.id}:"
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.idempotency_key.startswith(prefix, autoescape=True))
            .order_by(Delivery.id)
        )
    )


def update_out(session: Session, update: StatusUpdate, incident_key: str) -> StatusUpdateOut:
    valid = _valid_approvals(session, update)
    valid_ids = {a.id for a in valid}
    return StatusUpdateOut(
        id=update.id,
        incident=incident_key.upper(),
        kind=UpdateKind(update.kind),
        title=update.title,
        body=update.body,
        audience=update.audience,
        # A webhook URL is its own credential: shown masked, like in delivery listings.
        recipients=[
            Recipient.model_construct(
                channel=Channel(r["channel"]), target=masked(r["channel"], r["target"])
            )
            for r in update.recipients
        ],
        template=update.template,
        status=UpdateStatus(update.status),
        created_at=update.created_at,
        created_by=update.created_by,
        updated_at=update.updated_at,
        updated_by=update.updated_by,
        submitted_at=update.submitted_at,
        approved_at=update.approved_at,
        released_at=update.released_at,
        released_by=update.released_by,
        rejection=update.rejection,
        missing_approvals=approvals.missing_approvals(_pairs(valid))
        if approvals.needs_approval(update.kind)
        else [],
        approvals=[
            ApprovalOut(
                id=a.id,
                function=ApprovalFunction(a.function),
                decision=Decision(a.decision),
                decided_by=a.decided_by,
                on_behalf=a.on_behalf,
                comment=a.comment,
                decided_at=a.decided_at,
                update_version=a.update_version,
                valid=a.id in valid_ids,
                voided_at=a.voided_at,
                void_reason=a.void_reason,
            )
            for a in _approvals(session, update)
        ],
        deliveries=[delivery_out(d) for d in _update_deliveries(session, update)],
        version=update.version,
    )


# ---------------------------------------------------------------- status updates: writing


def _record(
    session: Session,
    principal: Principal,
    incident: Incident,
    update: StatusUpdate,
    action: str,
    text: str,
    before: dict[str, Any] | None,
    now: datetime,
    **data: Any,
) -> None:
    """One step of an update: a timeline entry and an audit entry, in this transaction."""
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMMUNICATION,
        text,
        now,
        {"update_id": update.id, "kind": update.kind, "action": action, **data},
    )
    audit.record(
        session,
        actor=principal.subject,
        action=f"comms.update_{action}",
        entity_type="comms_status_update",
        entity_id=update.id,
        before=before,
        after=audit.snapshot(update),
        at=now,
    )


def _conflict(exc: NotAllowed, update: StatusUpdate) -> Conflict:
    return Conflict(str(exc), update_status=update.status)


def _sent_internal_updates(session: Session, incident_id: int) -> int:
    return len(
        list(
            session.scalars(
                select(StatusUpdate.id).where(
                    StatusUpdate.incident_id == incident_id,
                    StatusUpdate.kind == UpdateKind.INTERNAL_UPDATE.value,
                    StatusUpdate.status == UpdateStatus.SENT.value,
                )
            )
        )
    )


def template_facts(
    session: Session, principal: Principal, key: str, kind: UpdateKind, now: datetime
) -> dict[str, Any]:
    """The context a template of ``kind`` is rendered with, from the incident's live facts."""
    incident = incidents.get_incident(session, principal, key)
    described = incidents.describe(session, incident)
    if kind is UpdateKind.EXTERNAL_STATEMENT:
        return facts.public_facts(described, now=now)
    people = [incidents.participant_out(p) for p in incidents.participants(session, principal, key)]
    tasks = [incidents.task_out(t, now) for t in incidents.tasks(session, principal, key)]
    decisions = [
        incidents.timeline_out(e)
        for e in incidents.timeline(session, principal, key, [TimelineKind.DECISION])
    ][-5:]
    return facts.internal_facts(
        described,
        people,
        tasks,
        decisions,
        now=now,
        update_number=_sent_internal_updates(session, incident.id) + 1,
        next_update_due_at=_due_at(_cadence_of(session, incident.id), incident),
        link=_link(incident.key),
    )


def compose(
    session: Session, principal: Principal, key: str, data: ComposeIn, now: datetime
) -> StatusUpdate:
    """Draft a status update from its template and the incident's live facts."""
    require(principal, Role.RESPONDER, "drafting a status update")
    incident = incidents.get_incident(session, principal, key)
    rendered = templates.render(data.kind, template_facts(session, principal, key, data.kind, now))
    update = StatusUpdate(
        incident_id=incident.id,
        kind=data.kind.value,
        title=rendered.title,
        body=rendered.body,
        audience=data.audience,
        recipients=[r.model_dump(mode="json") for r in data.recipients],
        template=f"{data.kind.value}.md.j2",
        status=UpdateStatus.DRAFT.value,
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
        updated_by=principal.subject,
    )
    session.add(update)
    session.flush()
    _record(
        session,
        principal,
        incident,
        update,
        "drafted",
        f"{_label(update)} drafted from template: {update.title}",
        None,
        now,
    )
    return update


def _void(session: Session, update: StatusUpdate, reason: str, now: datetime) -> list[Approval]:
    voided = []
    for approval in _approvals(session, update):
        if approval.decision == Decision.APPROVED.value and approval.voided_at is None:
            approval.voided_at = now
            approval.void_reason = reason
            voided.append(approval)
    return voided


def edit(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    patch: UpdatePatch,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Edit a draft (or a statement under approval: that voids the approvals given so far)."""
    require(principal, Role.RESPONDER, "editing a status update")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    check_version(update.version, expected_version or patch.version, _label(update))
    try:
        approvals.check_editable(update.kind, update.status)
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    before = audit.snapshot(update)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    changed = []
    for field in ("title", "body", "audience", "recipients"):
        if field in changes and changes[field] is not None and changes[field] != before[field]:
            setattr(update, field, changes[field])
            changed.append(field)
    if not changed:
        return update
    text_changed = bool({"title", "body"} & set(changed))
    voided: list[Approval] = []
    if text_changed:
        voided = _void(session, update, f"text edited by {principal.subject}", now)
        if update.status == UpdateStatus.APPROVED.value:
            update.status = UpdateStatus.PENDING_APPROVAL.value
            update.approved_at = None
    update.updated_at = now
    update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    text = f"{_label(update)} edited ({', '.join(changed)})"
    if voided:
        text += f"; {len(voided)} approval(s) voided, the new text needs PR and Legal again"
    _record(
        session,
        principal,
        incident,
        update,
        "edited",
        text,
        before,
        now,
        fields=changed,
        voided=[a.id for a in voided],
    )
    return update


def _leak_check(session: Session, principal: Principal, key: str, update: StatusUpdate) -> None:
    """Refuse an external statement that carries restricted details (see disclosure.py)."""
    from rapidresponse.comms.disclosure import restricted_details

    incident = incidents.get_incident(session, principal, key)
    handles = {
        p.user for p in incidents.participants(session, principal, key, include_removed=True)
    }
    internal = [incident.title, incident.summary] + [
        e.text
        for e in incidents.timeline(
            session, principal, key, [TimelineKind.NOTE, TimelineKind.DECISION]
        )
    ]
    findings = restricted_details(
        update.title + "\n" + update.body, handles=handles, internal_texts=internal
    )
    if findings:
        raise InvalidInput(
            "an external statement must not disclose restricted details; found "
            + "; ".join(findings),
            findings=findings,
        )


def submit(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Ask PR and Legal to approve an external statement."""
    require(principal, Role.RESPONDER, "submitting a statement for approval")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    if expected_version is not None:
        check_version(update.version, expected_version, _label(update))
    try:
        approvals.check_submit(update.kind, update.status)
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    _leak_check(session, principal, key, update)
    before = audit.snapshot(update)
    update.status = UpdateStatus.PENDING_APPROVAL.value
    update.submitted_at = now
    update.rejection = None
    update.updated_at = now
    update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    _record(
        session,
        principal,
        incident,
        update,
        "submitted",
        f"{_label(update)} submitted for PR and Legal approval: {update.title}",
        before,
        now,
    )
    return update


def _standing(
    session: Session,
    principal: Principal,
    key: str,
    function: ApprovalFunction,
    verb: str,
) -> approvals.Standing:
    require(principal, Role.RESPONDER, f"{verb} a statement")
    held = {
        p.role
        for p in incidents.participants(session, principal, key)
        if p.user == principal.subject
    }
    result = approvals.standing(function, is_admin=principal.role is Role.ADMIN, held_roles=held)
    if not result.allowed:
        raise Forbidden(result.reason)
    return result


def approve(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    data: ApprovalIn,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Approve the text of an external statement as PR or as Legal."""
    require(principal, Role.RESPONDER, "approving a statement")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    standing = _standing(session, principal, key, data.function, "approving")
    check_version(update.version, expected_version or data.version, _label(update))
    try:
        approvals.check_decide(update.kind, update.status)
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    valid = _pairs(_valid_approvals(session, update))
    if any(f is data.function for f, _ in valid):
        raise Conflict(f"{_label(update)} already has a valid {data.function.value} approval")
    other = approvals.second_hat(data.function, principal.subject, valid)
    if other is not None:
        raise Forbidden(
            f"you already approved {_label(update)} as {other.value}; the same person cannot "
            "approve as both PR and Legal"
        )
    before = audit.snapshot(update)
    approval = Approval(
        update_id=update.id,
        function=data.function.value,
        decision=Decision.APPROVED.value,
        decided_by=principal.subject,
        on_behalf=standing.on_behalf,
        comment=data.comment,
        decided_at=now,
        update_version=update.version,
        text_sha256=_sha256(update.title + "\n" + update.body),
    )
    session.add(approval)
    session.flush()
    missing = approvals.missing_approvals([*valid, (data.function, principal.subject)])
    if not missing:
        update.status = UpdateStatus.APPROVED.value
        update.approved_at = now
        update.updated_at = now
        update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    who = f"{principal.subject} (admin acting as)" if standing.on_behalf else principal.subject
    text = f"{_label(update)} approved by {who} for {data.function.value.upper()}"
    text += (
        "; approved by PR and Legal, ready to publish"
        if not missing
        else f"; still needs {', '.join(m.value for m in missing)}"
    )
    if data.comment:
        text += f": {data.comment}"
    _record(
        session,
        principal,
        incident,
        update,
        "approved",
        text,
        before,
        now,
        approval_id=approval.id,
        function=data.function.value,
        on_behalf=standing.on_behalf,
        version=approval.update_version,
        text_sha256=approval.text_sha256,
    )
    return update


def reject(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    data: RejectionIn,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Send an external statement back to draft with a comment; its approvals are voided."""
    require(principal, Role.RESPONDER, "rejecting a statement")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    standing = _standing(session, principal, key, data.function, "rejecting")
    expected = expected_version or data.version
    if expected is not None:
        check_version(update.version, expected, _label(update))
    try:
        approvals.check_decide(update.kind, update.status)
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    before = audit.snapshot(update)
    voided = _void(session, update, f"rejected by {principal.subject}", now)
    rejection = Approval(
        update_id=update.id,
        function=data.function.value,
        decision=Decision.REJECTED.value,
        decided_by=principal.subject,
        on_behalf=standing.on_behalf,
        comment=data.comment,
        decided_at=now,
        update_version=update.version,
        text_sha256=_sha256(update.title + "\n" + update.body),
    )
    session.add(rejection)
    update.status = UpdateStatus.DRAFT.value
    update.approved_at = None
    update.rejection = data.comment
    update.updated_at = now
    update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    _record(
        session,
        principal,
        incident,
        update,
        "rejected",
        f"{_label(update)} rejected by {principal.subject} for "
        f"{data.function.value.upper()}, back to draft: {data.comment}",
        before,
        now,
        approval_id=rejection.id,
        function=data.function.value,
        voided=[a.id for a in voided],
    )
    return update


def _deliver_to_recipients(
    session: Session, incident: Incident, update: StatusUpdate, now: datetime
) -> list[Delivery]:
    sent = []
    for recipient in update.recipients:
        channel, target = Channel(recipient["channel"]), str(recipient["target"])
        digest = _sha256(f"{channel.value}\n{target}")[:24]
        sent.append(
            deliver(
                session,
                channel=channel,
                target=target,
                subject=update.title,
                body=update.body,
                idempotency_key=f"comms.update:{update.id}:{digest}",
                now=now,
                incident_key=incident.key,
                payload={
                    "status_update_id": update.id,
                    "kind": update.kind,
                    "version": update.version,
                    "link": _link(incident.key),
                },
            )
        )
    return sent


def publish(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Mark an approved external statement published (and deliver it to its recipients)."""
    require(principal, Role.INCIDENT_MANAGER, "publishing a statement")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    if expected_version is not None:
        check_version(update.version, expected_version, _label(update))
    valid = _valid_approvals(session, update)
    try:
        approvals.check_publish(
            update.kind, update.status, approvals.missing_approvals(_pairs(valid))
        )
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    # No disclosure check here: it ran at submission, and PR and Legal approved this very
    # text (an edit would have voided their approvals).
    before = audit.snapshot(update)
    update.status = UpdateStatus.PUBLISHED.value
    update.released_at = now
    update.released_by = principal.subject
    update.updated_at = now
    update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    deliveries = _deliver_to_recipients(session, incident, update, now)
    approvers = ", ".join(f"{a.function.upper()} {a.decided_by}" for a in valid)
    _record(
        session,
        principal,
        incident,
        update,
        "published",
        f"{_label(update)} published ({approvers}): {update.title}",
        before,
        now,
        approvals=[a.id for a in valid],
        deliveries=[d.id for d in deliveries],
    )
    return update


def send(
    session: Session,
    principal: Principal,
    key: str,
    update_id: int,
    expected_version: int | None,
    now: datetime,
) -> StatusUpdate:
    """Send an internal update or executive summary to its recipients.

    Sending an internal update satisfies the incident's cadence: the reminder timer moves to
    one interval from now.
    """
    require(principal, Role.INCIDENT_MANAGER, "sending a status update")
    incident = incidents.get_incident(session, principal, key)
    update = _find_update(session, incident, update_id)
    if expected_version is not None:
        check_version(update.version, expected_version, _label(update))
    try:
        approvals.check_send(update.kind, update.status)
    except NotAllowed as exc:
        raise _conflict(exc, update) from None
    before = audit.snapshot(update)
    update.status = UpdateStatus.SENT.value
    update.released_at = now
    update.released_by = principal.subject
    update.updated_at = now
    update.updated_by = principal.subject
    flush_versioned(session, _label(update))
    deliveries = _deliver_to_recipients(session, incident, update, now)
    _record(
        session,
        principal,
        incident,
        update,
        "sent",
        f"{_label(update)} sent to {len(deliveries)} recipient(s): {update.title}",
        before,
        now,
        deliveries=[d.id for d in deliveries],
    )
    if update.kind == UpdateKind.INTERNAL_UPDATE.value:
        _update_sent(session, incident, now)
    return update


# ---------------------------------------------------------------- cadence


def _cadence_of(session: Session, incident_id: int, lock: bool = False) -> UpdateCadence | None:
    query = select(UpdateCadence).where(UpdateCadence.incident_id == incident_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def _every(row: UpdateCadence) -> timedelta:
    return timedelta(seconds=row.every_seconds)


def _due_at(row: UpdateCadence | None, incident: Incident) -> datetime | None:
    if row is None or not row.active or Status(incident.status) not in lifecycle.OPEN:
        return None
    return cadence.update_due_at(_every(row), row.started_at, row.last_update_at)


def _timer_key(incident_key: str, seq: int) -> str:
    return f"{CADENCE_TOPIC}:{incident_key}:{seq}"


def _arm(
    session: Session, row: UpdateCadence, incident_key: str, due_at: datetime, now: datetime
) -> None:
    """Point the incident's one pending timer at ``due_at``.

    Outbox keys fire once, so a timer that already fired (or was cancelled) is replaced by
    the next key in the sequence; a pending one is moved.
    """
    current = outbox.get_by_key(session, _timer_key(incident_key, row.timer_seq))
    if current is not None and current.status != outbox.PENDING:
        row.timer_seq += 1
    outbox.schedule(
        session,
        CADENCE_TOPIC,
        {"incident": incident_key, "seq": row.timer_seq},
        due_at=due_at,
        key=_timer_key(incident_key, row.timer_seq),
        now=now,
    )
    row.next_check_at = due_at


def _lock_timer_then_cadence(session: Session, incident: Incident) -> UpdateCadence | None:
    """Lock in the order the worker does (timer message, then cadence row): no deadlock."""
    row = _cadence_of(session, incident.id)
    if row is None:
        return None
    message = outbox.get_by_key(session, _timer_key(incident.key, row.timer_seq))
    if message is not None:
        outbox.lock_claimed(session, message.id)
    return _cadence_of(session, incident.id, lock=True)


def _update_sent(session: Session, incident: Incident, now: datetime) -> None:
    row = _lock_timer_then_cadence(session, incident)
    if row is None:
        return
    row.last_update_at = now
    if row.active and Status(incident.status) in lifecycle.OPEN:
        _arm(session, row, incident.key, now + _every(row), now)


def _apply_cadence(
    session: Session, principal: Principal, incident_key: str, every: timedelta, now: datetime
) -> tuple[Incident, UpdateCadence, dict[str, Any] | None, bool]:
    """Store the cadence and arm its timer; returns the row, its state before, and whether
    anything changed."""
    try:
        every = cadence.check_every(every)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    incident = incidents.get_incident(session, principal, incident_key)
    row = _lock_timer_then_cadence(session, incident)
    is_open = Status(incident.status) in lifecycle.OPEN
    seconds = int(every.total_seconds())
    if row is not None and row.every_seconds == seconds and row.active == is_open:
        return incident, row, audit.snapshot(row), False
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = UpdateCadence(
            incident_id=incident.id,
            every_seconds=seconds,
            active=is_open,
            started_at=now,
            set_at=now,
            set_by=principal.subject,
            reminders_sent=0,
            timer_seq=0,
        )
        session.add(row)
    else:
        if not row.active:
            row.started_at = now  # a restarted cadence counts from now
        row.every_seconds, row.active = seconds, is_open
        row.set_at, row.set_by = now, principal.subject
    session.flush()
    due = _due_at(row, incident)
    if due is not None:
        _arm(
            session,
            row,
            incident.key,
            cadence.next_check_at(now, due, row.last_reminder_at, every),
            now,
        )
    session.flush()
    return incident, row, before, True


def schedule_cadence(
    session: Session, principal: Principal, incident_key: str, every: timedelta, now: datetime
) -> UpdateCadence:
    """Set how often ``incident_key`` owes an internal update (the contract for planners).

    The next update is due ``every`` after the last internal update sent, or after now when
    none was. Setting the same cadence again changes nothing; a new one moves the timer.
    On an incident that is no longer open the cadence is stored but no reminder is armed.

    This is a step of the caller's use case: the caller records it. (Planning an incident
    puts the cadence in the plan's timeline entry and audit record; a person setting it by
    hand goes through :func:`set_cadence`, which records its own.) The caller has also
    decided the principal may plan the incident; a responder declaring one does.
    """
    require(principal, Role.RESPONDER, "setting the update cadence")
    return _apply_cadence(session, principal, incident_key, every, now)[1]


def set_cadence(
    session: Session, principal: Principal, key: str, every: timedelta, now: datetime
) -> UpdateCadence:
    """Set the cadence by hand (API, CLI): an incident manager's call, timelined and audited."""
    require(principal, Role.INCIDENT_MANAGER, "setting the update cadence")
    incident, row, before, changed = _apply_cadence(session, principal, key, every, now)
    if not changed:
        return row
    due = _due_at(row, incident)
    text = f"Status-update cadence set to every {cadence.describe_every(every)}"
    text += (
        f"; next update due {templates.utc(due)}" if due else " (incident not open: no reminders)"
    )
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMMUNICATION,
        text,
        now,
        {"cadence_seconds": row.every_seconds, "next_update_due_at": due},
    )
    audit.record(
        session,
        actor=principal.subject,
        action="comms.cadence_set",
        entity_type="comms_cadence",
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row),
        at=now,
    )
    return row


def stop_cadence(session: Session, principal: Principal, key: str, now: datetime) -> UpdateCadence:
    """Stop cadence reminders for an incident (its next update is no longer tracked)."""
    require(principal, Role.INCIDENT_MANAGER, "stopping the update cadence")
    incident = incidents.get_incident(session, principal, key)
    row = _lock_timer_then_cadence(session, incident)
    if row is None:
        raise NotFound(f"{incident.key} has no update cadence")
    if not row.active:
        return row
    _stop(session, principal, incident, row, f"stopped by {principal.subject}", now)
    return row


def _stop(
    session: Session,
    principal: Principal,
    incident: Incident,
    row: UpdateCadence,
    why: str,
    now: datetime,
) -> None:
    before = audit.snapshot(row)
    outbox.cancel(session, _timer_key(incident.key, row.timer_seq))
    row.active = False
    row.next_check_at = None
    session.flush()
    incidents.record_event(
        session,
        principal,
        incident.key,
        TimelineKind.COMMUNICATION,
        f"Status-update reminders stopped ({why})",
        now,
        {"cadence_seconds": row.every_seconds},
    )
    audit.record(
        session,
        actor=principal.subject,
        action="comms.cadence_stopped",
        entity_type="comms_cadence",
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row),
        at=now,
    )


def cadence_status(
    session: Session, principal: Principal, key: str, now: datetime
) -> CadenceOut | None:
    """The incident's cadence and when its next update is due; None when it has none."""
    incident = incidents.get_incident(session, principal, key)
    row = _cadence_of(session, incident.id)
    if row is None:
        return None
    due = _due_at(row, incident)
    return CadenceOut(
        incident=incident.key,
        every_minutes=row.every_seconds // 60,
        active=row.active and due is not None,
        started_at=row.started_at,
        last_update_at=row.last_update_at,
        last_reminder_at=row.last_reminder_at,
        reminders_sent=row.reminders_sent,
        next_update_due_at=due,
        overdue=due is not None and due <= now,
    )


def next_update_due_at(session: Session, principal: Principal, key: str) -> datetime | None:
    """When the incident's next internal update is due (None: no cadence, or not open).

    For the "next actions" view: a time in the past means the update is overdue.
    """
    incident = incidents.get_incident(session, principal, key)
    return _due_at(_cadence_of(session, incident.id), incident)


def directory_contacts(session: Session, user: str) -> list[tuple[str, str]]:
    """The default :data:`ContactResolver`: the on-call person directory.

    Imported here, not at the top: on-call pages people through :func:`deliver`, so it
    imports this module.
    """
    from rapidresponse.oncall import service as oncall

    return oncall.contact_targets(session, user)


def fire_cadence(
    session: Session, payload: dict[str, Any], now: datetime, *, resolver: ContactResolver
) -> None:
    """The ``comms.cadence`` timer: remind about an overdue update, then arm the next check.

    Runs in the outbox delivery transaction (exactly once per timer). A timer that an update
    or a new cadence replaced is ignored; an incident that is no longer open stops the
    reminders.
    """
    key = str(payload["incident"])
    try:
        incident = incidents.get_incident(session, SYSTEM, key)
    except NotFound:
        return
    row = _cadence_of(session, incident.id, lock=True)
    if row is None or not row.active or int(payload.get("seq", -1)) != row.timer_seq:
        return
    if Status(incident.status) not in lifecycle.OPEN:
        _stop(session, SYSTEM, incident, row, f"incident is {incident.status}", now)
        return
    every = _every(row)
    due = cadence.update_due_at(every, row.started_at, row.last_update_at)
    if cadence.reminder_due(now, due, row.last_reminder_at, every):
        _remind(session, incident, row, due, now, resolver)
    row.timer_seq += 1  # this timer is firing now: the next check needs a fresh key
    _arm(session, row, key, cadence.next_check_at(now, due, row.last_reminder_at, every), now)


def _remind(
    session: Session,
    incident: Incident,
    row: UpdateCadence,
    due: datetime,
    now: datetime,
    resolver: ContactResolver,
) -> None:
    every = _every(row)
    last = (
        f"last internal update {templates.utc(row.last_update_at)}"
        if row.last_update_at
        else "no internal update sent yet"
    )
    text = (
        f"Status update overdue: {last}; one was due {templates.utc(due)} "
        f"(every {cadence.describe_every(every)})"
    )
    people = [
        p
        for p in incidents.participants(session, SYSTEM, incident.key)
        if p.role in {r.value for r in REMINDED_ROLES}
    ]
    deliveries: list[Delivery] = []
    reminded: list[str] = []
    for user in dict.fromkeys(p.user for p in people):
        for channel, target in resolver(session, user):
            try:
                deliveries.append(
                    deliver(
                        session,
                        channel=Channel(channel),
                        target=target,
                        subject=f"[{incident.severity}] {incident.key}: status update overdue",
                        body=(
                            f"{text}.\n\nIncident: {incident.title}\n"
                            f"Draft the update: {_link(incident.key)}\n"
                        ),
                        idempotency_key=(
                            f"comms.cadence:{incident.key}:{row.timer_seq}:"
                            f"{_sha256(f'{user}|{channel}|{target}')[:24]}"
                        ),
                        now=now,
                        incident_key=incident.key,
                        payload={
                            "reminder": "status_update_overdue",
                            "user": user,
                            "link": _link(incident.key),
                        },
                    )
                )
                reminded.append(user)
            except (InvalidInput, ValueError):
                log.warning("skipping unusable contact %s:%s of %s", channel, target, user)
    row.last_reminder_at = now
    row.reminders_sent += 1
    incidents.record_event(
        session,
        SYSTEM,
        incident.key,
        TimelineKind.REMINDER,
        text
        + (
            f"; reminded {', '.join(dict.fromkeys(reminded))}"
            if reminded
            else "; nobody with a contact to remind"
        ),
        now,
        {
            "reminder": "status_update_overdue",
            "due_at": due,
            "deliveries": [d.id for d in deliveries],
        },
    )

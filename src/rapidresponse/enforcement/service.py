"""Enforcement use cases: build an incident's content cluster, plan, approve, run, roll back.

A bulk action goes through a dry run first: planning fixes the set of items and shows its
blast radius without touching anything. Above the approval threshold a second incident
manager must approve. Running happens in batches, each one transaction that changes the
items, records each item's outcome and writes the DSA statements of reasons together: a
crash loses at most the batch in flight, which the next run redoes, and an item whose
outcome is recorded is never acted on again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.compliance import statements
from rapidresponse.compliance.policy import shipped_policy_catalogue
from rapidresponse.concurrency import check_version, flush_versioned
from rapidresponse.enforcement import actions
from rapidresponse.enforcement.actions import Subject
from rapidresponse.enforcement.model import ActionItem, ContentItem, EnforcementAction
from rapidresponse.enforcement.schemas import (
    ActionIn,
    ActionItemOut,
    ActionOut,
    ItemIn,
    ItemOut,
    ItemsAdded,
    ItemSource,
    Progress,
)
from rapidresponse.errors import Conflict, Forbidden, InvalidInput, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.model import Incident
from rapidresponse.incidents.schemas import TimelineKind
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import SessionHandler
from rapidresponse.playbooks.schema import ContainmentAction

RUN_TOPIC = "enforcement.run"

PLANNED, AWAITING_APPROVAL, APPROVED = "planned", "awaiting_approval", "approved"
RUNNING, COMPLETED = "running", "completed"
ROLLING_BACK, ROLLED_BACK, CANCELLED = "rolling_back", "rolled_back", "cancelled"
STARTABLE = {PLANNED, APPROVED}
CANCELLABLE = {PLANNED, AWAITING_APPROVAL, APPROVED}

PENDING, APPLIED, UNCHANGED, SKIPPED, REVERTED = (
    "pending",
    "applied",
    "unchanged",
    "skipped",
    "reverted",
)

# What the DSA transparency database calls each way an item reached us.
SOURCE_TYPE = {
    ItemSource.USER_REPORT: "SOURCE_ARTICLE_16",
    ItemSource.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    ItemSource.CLASSIFIER: "SOURCE_VOLUNTARY",
    ItemSource.HASH_MATCH: "SOURCE_VOLUNTARY",
    ItemSource.PROACTIVE_REVIEW: "SOURCE_VOLUNTARY",
    ItemSource.PARTNER: "SOURCE_TYPE_OTHER_NOTIFICATION",
    ItemSource.LAW_ENFORCEMENT: "SOURCE_TYPE_OTHER_NOTIFICATION",
    ItemSource.AUTHORITY_ORDER: "SOURCE_TYPE_OTHER_NOTIFICATION",
}
VERBS = {
    ContainmentAction.REMOVE: "Removed",
    ContainmentAction.GEO_RESTRICT: "Disabled access in {regions} to",
    ContainmentAction.AGE_RESTRICT: "Age-restricted",
    ContainmentAction.REDUCE_REACH: "Reduced the reach of",
    ContainmentAction.LABEL: "Put a warning screen on",
    ContainmentAction.RESTRICT_INTERACTION: "Restricted interaction with",
    ContainmentAction.SEARCH_INTERVENTION: "Redirected searches for",
    ContainmentAction.SUSPEND_ACCOUNT: "Suspended",
    ContainmentAction.BAN_ACCOUNT: "Terminated",
    ContainmentAction.HASH_BANK: "Added to the incident's hash bank",
}


def _system(principal_subject: str) -> Principal:
    """Who a worker acts as: the person who started the action, with the rights they used."""
    return Principal(subject=principal_subject, role=Role.ADMIN)


def _open_incident(session: Session, principal: Principal, key: str) -> Incident:
    incident = incidents.get_incident(session, principal, key)
    if incident.status in (Status.CLOSED.value, Status.MERGED.value):
        raise Conflict(f"{incident.key} is {incident.status}; reopen it to act on content")
    return incident


def _changed(
    session: Session,
    actor: Principal,
    row: EnforcementAction,
    event: str,
    before: dict[str, Any] | None,
    now: datetime,
    *,
    timeline: str | None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record a change of an action: check its version, audit it (``after`` defaults to the
    row) and, given ``timeline`` text, put it on the incident's timeline."""
    flush_versioned(session, f"action {row.id}")
    audit.record(
        session,
        actor=actor.subject,
        action=f"enforcement.{event}",
        entity_type="enforcement_action",
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row) if after is None else after,
        at=now,
    )
    if timeline:
        incidents.record_event(
            session,
            actor,
            session.get_one(Incident, row.incident_id).key,
            TimelineKind.CONTAINMENT,
            timeline,
            now,
            {"action_id": row.id, "action": row.action, "status": row.status},
        )


# ---------------------------------------------------------------- the content cluster


def add_items(
    session: Session, principal: Principal, key: str, items: Sequence[ItemIn], now: datetime
) -> ItemsAdded:
    """Add items to the incident's cluster; an item already there gets the newer facts merged.

    Merging never loses what was known: regions and keys are unions, views the larger count.
    """
    require(principal, Role.RESPONDER, "adding content to an incident")
    incident = _open_incident(session, principal, key)
    by_key: dict[tuple[str, str], ItemIn] = {}
    for item in items:
        previous = by_key.get((item.subject.value, item.external_id))
        by_key[(item.subject.value, item.external_id)] = (
            item if previous is None else _merge_inputs(previous, item)
        )
    existing = {
        (row.subject, row.external_id): row
        for chunk in _chunks(list(by_key), 500)
        for row in session.scalars(
            select(ContentItem).where(
                ContentItem.incident_id == incident.id,
                or_(
                    *((ContentItem.subject == s) & (ContentItem.external_id == e) for s, e in chunk)
                ),
            )
        )
    }
    added: list[dict[str, Any]] = []
    updated = 0
    for (subject, external_id), item in by_key.items():
        row = existing.get((subject, external_id))
        if row is None:
            added.append(
                {
                    "incident_id": incident.id,
                    "subject": subject,
                    "external_id": external_id,
                    "account_id": item.account_id,
                    "regions": item.regions,
                    "keys": item.keys,
                    "language": item.language,
                    "views": item.views,
                    "posted_at": item.posted_at,
                    "source": item.source.value,
                    "automated_detection": item.automated_detection,
                    "restrictions": [],
                    "added_at": now,
                    "added_by": principal.subject,
                }
            )
            continue
        regions = (
            sorted(set(row.regions) | set(item.regions)) if row.regions and item.regions else []
        )
        keys = list(dict.fromkeys([*row.keys, *item.keys]))
        changes = {
            "regions": regions,
            "keys": keys,
            "views": max(row.views, item.views),
            "account_id": row.account_id or item.account_id,
            "language": row.language or item.language,
            "posted_at": row.posted_at or item.posted_at,
        }
        if any(getattr(row, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(row, name, value)
            updated += 1
    if added:
        session.execute(insert(ContentItem), added)
    session.flush()
    total = session.scalar(
        select(func.count()).select_from(ContentItem).where(ContentItem.incident_id == incident.id)
    )
    audit.record(
        session,
        actor=principal.subject,
        action="enforcement.items_added",
        entity_type="incident",
        entity_id=incident.id,
        before=None,
        after={"added": [a["external_id"] for a in added], "updated": updated, "total": total},
        at=now,
    )
    return ItemsAdded(added=len(added), updated=updated, total=int(total or 0))


def _merge_inputs(a: ItemIn, b: ItemIn) -> ItemIn:
    return a.model_copy(
        update={
            "regions": sorted(set(a.regions) | set(b.regions)) if a.regions and b.regions else [],
            "keys": list(dict.fromkeys([*a.keys, *b.keys])),
            "views": max(a.views, b.views),
        }
    )


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def list_items(
    session: Session,
    principal: Principal,
    key: str,
    *,
    subject: Subject | None = None,
    carrying: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[ContentItem], int]:
    incident = incidents.get_incident(session, principal, key)
    query = select(ContentItem).where(ContentItem.incident_id == incident.id)
    if subject is not None:
        query = query.where(ContentItem.subject == subject.value)
    if carrying is None:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        page = session.scalars(query.order_by(ContentItem.id).limit(limit).offset(offset))
        return list(page), int(total or 0)
    # Keys are a JSON list, which SQLite and PostgreSQL query differently; filter here.
    wanted = carrying.casefold()
    rows = [
        r
        for r in session.scalars(query.order_by(ContentItem.id))
        if wanted in r.keys or r.external_id.casefold() == wanted
    ]
    return rows[offset : offset + limit], len(rows)


def item_out(row: ContentItem) -> ItemOut:
    state = actions.effective_state(row.restrictions)
    return ItemOut(
        id=row.id,
        subject=Subject(row.subject),
        external_id=row.external_id,
        account_id=row.account_id,
        regions=row.regions,
        keys=row.keys,
        language=row.language,
        views=row.views,
        posted_at=row.posted_at,
        source=ItemSource(row.source),
        automated_detection=row.automated_detection,
        restrictions=row.restrictions,
        state={name: getattr(state, name) for name in state.__dataclass_fields__},
        added_at=row.added_at,
        added_by=row.added_by,
    )


# ---------------------------------------------------------------- planning (the dry run)


def _targets(
    session: Session, incident: Incident, body: ActionIn, principal: Principal, now: datetime
) -> list[ContentItem]:
    """The items the selector covers that the action can act on.

    Account actions act on the accounts behind the selected content: an account item is
    added to the cluster for each one not there yet, so its outcome can be recorded.
    """
    selector = body.selector
    rows = list(
        session.scalars(
            select(ContentItem)
            .where(ContentItem.incident_id == incident.id)
            .order_by(ContentItem.id)
        )
    )
    if selector.scope == "key":
        rows = [
            r for r in rows if selector.key in r.keys or r.external_id.casefold() == selector.key
        ]
    elif selector.scope == "account":
        rows = [
            r
            for r in rows
            if r.account_id == selector.account_id
            or (r.subject == Subject.ACCOUNT.value and r.external_id == selector.account_id)
        ]
    elif selector.scope == "items":
        wanted = set(selector.external_ids)
        rows = [r for r in rows if r.external_id in wanted]
        missing = wanted - {r.external_id for r in rows}
        if missing:
            raise NotFound(
                f"not in {incident.key}'s cluster: {', '.join(sorted(missing)[:10])}"
                + (" …" if len(missing) > 10 else "")
            )
    if selector.subjects:
        allowed = {s.value for s in selector.subjects}
        rows = [r for r in rows if r.subject in allowed]
    if body.action in actions.ACCOUNT_ACTIONS:
        rows = _accounts_behind(session, incident, rows, principal, now)
    return [r for r in rows if actions.applies_to(body.action, Subject(r.subject))]


def _accounts_behind(
    session: Session,
    incident: Incident,
    rows: list[ContentItem],
    principal: Principal,
    now: datetime,
) -> list[ContentItem]:
    accounts = {r.external_id: r for r in rows if r.subject == Subject.ACCOUNT.value}
    posted: dict[str, ContentItem] = {}
    for row in rows:
        if row.account_id and row.account_id not in accounts:
            posted.setdefault(row.account_id, row)
    if posted:
        known = {
            r.external_id: r
            for r in session.scalars(
                select(ContentItem).where(
                    ContentItem.incident_id == incident.id,
                    ContentItem.subject == Subject.ACCOUNT.value,
                    ContentItem.external_id.in_(list(posted)),
                )
            )
        }
        for account_id, example in posted.items():
            found = known.get(account_id)
            if found is not None:
                row = found
            else:
                seen = sorted(
                    {reg for r in rows if r.account_id == account_id for reg in r.regions}
                )
                row = ContentItem(
                    incident_id=incident.id,
                    subject=Subject.ACCOUNT.value,
                    external_id=account_id,
                    account_id=None,
                    regions=seen
                    if all(r.regions for r in rows if r.account_id == account_id)
                    else [],
                    keys=[],
                    language=example.language,
                    views=0,
                    posted_at=None,
                    source=example.source,
                    automated_detection=example.automated_detection,
                    restrictions=[],
                    added_at=now,
                    added_by=principal.subject,
                )
                session.add(row)
            accounts[account_id] = row
        session.flush()
    return sorted(accounts.values(), key=lambda r: r.id)


def plan(
    session: Session,
    principal: Principal,
    key: str,
    body: ActionIn,
    now: datetime,
    *,
    approval_threshold: int,
) -> EnforcementAction:
    """The dry run: fix the action's items and compute its blast radius; nothing is acted on."""
    require(principal, Role.RESPONDER, "planning a containment action")
    incident = _open_incident(session, principal, key)
    try:
        document, section = shipped_policy_catalogue().section(body.policy_section)
    except KeyError:
        raise InvalidInput(
            f"policy_section: no section {body.policy_section!r} in the content policy "
            "(GET /api/v1/policy lists them)"
        ) from None
    targets = _targets(session, incident, body, principal, now)
    if not targets:
        raise InvalidInput(
            f"selector: no item in {incident.key}'s cluster that {body.action.value} can act "
            f"on matches {body.selector.model_dump(exclude_defaults=True)}"
        )
    radius = actions.blast_radius(
        body.action,
        body.regions,
        (
            actions.ItemFacts(
                r.id, Subject(r.subject), r.external_id, r.account_id, tuple(r.regions), r.views
            )
            for r in targets
        ),
    )
    needs_approval = len(targets) > approval_threshold
    row = EnforcementAction(
        incident_id=incident.id,
        action=body.action.value,
        selector=body.selector.model_dump(mode="json", exclude_defaults=True),
        regions=body.regions,
        policy_section=section.id,
        policy_version=document.version,
        ground=body.ground.value,
        legal_ground=body.legal_ground,
        explanation=body.explanation,
        automated_decision=body.automated_decision.value,
        reason=body.reason,
        status=AWAITING_APPROVAL if needs_approval else PLANNED,
        requires_approval=needs_approval,
        approval_threshold=approval_threshold,
        blast_radius=radius.as_dict(),
        total=len(targets),
        requested_by=principal.subject,
        requested_at=now,
    )
    session.add(row)
    session.flush()
    for chunk in _chunks(targets, 2000):
        session.execute(
            insert(ActionItem),
            [
                {
                    "action_id": row.id,
                    "item_id": t.id,
                    "outcome": PENDING,
                    "regions": [],
                    "detail": "",
                }
                for t in chunk
            ],
        )
    _changed(
        session,
        principal,
        row,
        "planned",
        None,
        now,
        timeline=f"Planned {_describe(row)}: {radius.items} item(s), {radius.accounts} "
        f"account(s), {radius.views:,} views"
        + (" — needs a second incident manager's approval" if needs_approval else ""),
    )
    return row


def _describe(row: EnforcementAction) -> str:
    text = f"{row.action.replace('_', ' ')} #{row.id}"
    if row.regions:
        text += f" in {', '.join(row.regions)}"
    return text


# ---------------------------------------------------------------- approval and running


def get_action(
    session: Session, principal: Principal, key: str, action_id: int
) -> EnforcementAction:
    incident = incidents.get_incident(session, principal, key)
    row = session.get(EnforcementAction, action_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound(f"no containment action {action_id} on {incident.key}")
    return row


def list_actions(session: Session, principal: Principal, key: str) -> list[EnforcementAction]:
    incident = incidents.get_incident(session, principal, key)
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(EnforcementAction.incident_id == incident.id)
            .order_by(EnforcementAction.id)
        )
    )


def approve(
    session: Session,
    principal: Principal,
    key: str,
    action_id: int,
    now: datetime,
    version: int | None = None,
) -> EnforcementAction:
    """The second person's approval: an incident manager who did not request the action."""
    require(principal, Role.INCIDENT_MANAGER, "approving a bulk action")
    row = get_action(session, principal, key, action_id)
    if version is not None:
        check_version(row.version, version, f"action {action_id}")
    if row.status != AWAITING_APPROVAL:
        raise Conflict(
            f"action {action_id} is {row.status}; only an action awaiting approval can be approved"
        )
    if principal.subject == row.requested_by:
        raise Forbidden(
            f"two-person approval: {principal.subject} requested action {action_id} and cannot "
            "also approve it; a second incident manager must"
        )
    before = audit.snapshot(row)
    row.status, row.approved_by, row.approved_at = APPROVED, principal.subject, now
    _changed(
        session,
        principal,
        row,
        "approved",
        before,
        now,
        timeline=f"{principal.subject} approved {_describe(row)}",
    )
    return row


def start(
    session: Session,
    principal: Principal,
    key: str,
    action_id: int,
    now: datetime,
    version: int | None = None,
) -> EnforcementAction:
    """Start running the action (idempotent: starting a running or finished action is a no-op)."""
    require(principal, Role.INCIDENT_MANAGER, "running a containment action")
    row = get_action(session, principal, key, action_id)
    if row.status in (RUNNING, COMPLETED):
        return row
    if version is not None:
        check_version(row.version, version, f"action {action_id}")
    if row.status == AWAITING_APPROVAL:
        raise Conflict(
            f"action {action_id} covers {row.total} items, above the approval threshold of "
            f"{row.approval_threshold}: a second incident manager must approve it first"
        )
    if row.status not in STARTABLE:
        raise Conflict(f"action {action_id} is {row.status} and cannot be run")
    _open_incident(session, principal, key)
    before = audit.snapshot(row)
    row.status, row.started_by, row.started_at = RUNNING, principal.subject, now
    _changed(
        session,
        principal,
        row,
        "started",
        before,
        now,
        timeline=f"{principal.subject} started {_describe(row)}",
    )
    outbox.enqueue(session, RUN_TOPIC, {"action_id": row.id}, now)
    return row


def cancel(
    session: Session, principal: Principal, key: str, action_id: int, reason: str, now: datetime
) -> EnforcementAction:
    row = get_action(session, principal, key, action_id)
    if principal.subject != row.requested_by:
        require(principal, Role.INCIDENT_MANAGER, "cancelling someone else's action")
    if row.status not in CANCELLABLE:
        raise Conflict(
            f"action {action_id} is {row.status}; only an action not yet run can be cancelled"
        )
    before = audit.snapshot(row)
    row.status, row.cancelled_by, row.cancelled_at = CANCELLED, principal.subject, now
    session.query(ActionItem).filter(
        ActionItem.action_id == row.id, ActionItem.outcome == PENDING
    ).update({"outcome": SKIPPED, "detail": f"cancelled: {reason}"}, synchronize_session=False)
    _changed(
        session,
        principal,
        row,
        "cancelled",
        before,
        now,
        timeline=f"{principal.subject} cancelled {_describe(row)}: {reason}",
    )
    return row


def rollback(
    session: Session, principal: Principal, key: str, action_id: int, reason: str, now: datetime
) -> EnforcementAction:
    """Lift what the action imposed, item by item, in batches like a run."""
    require(principal, Role.INCIDENT_MANAGER, "rolling back a containment action")
    row = get_action(session, principal, key, action_id)
    action = ContainmentAction(row.action)
    if not actions.reversible(action):
        raise Conflict(
            f"{action.value} cannot be rolled back in bulk: it is a final decision; reinstate "
            "items one by one through the appeal process"
        )
    if row.status in (ROLLING_BACK, ROLLED_BACK):
        return row
    if row.status not in (RUNNING, COMPLETED):
        raise Conflict(f"action {action_id} is {row.status}; there is nothing to roll back")
    before = audit.snapshot(row)
    row.status, row.rollback_by, row.rollback_reason, row.rollback_at = (
        ROLLING_BACK,
        principal.subject,
        reason,
        now,
    )
    session.query(ActionItem).filter(
        ActionItem.action_id == row.id, ActionItem.outcome == PENDING
    ).update(
        {"outcome": SKIPPED, "detail": f"rolled back before acting: {reason}"},
        synchronize_session=False,
    )
    _changed(
        session,
        principal,
        row,
        "rollback_started",
        before,
        now,
        timeline=f"{principal.subject} is rolling back {_describe(row)}: {reason}",
    )
    outbox.enqueue(session, RUN_TOPIC, {"action_id": row.id}, now)
    return row


def run_batch(session: Session, action_id: int, now: datetime, limit: int) -> int:
    """Act on (or, rolling back, revert) up to ``limit`` items; returns how many remain.

    Everything a batch does commits together with the items' outcomes, so an interrupted
    run resumes where the last committed batch ended and never acts on an item twice.
    """
    row = session.get(EnforcementAction, action_id)
    if row is None or row.status not in (RUNNING, ROLLING_BACK):
        return 0
    if row.status == RUNNING:
        return _apply_batch(session, row, now, limit)
    return _revert_batch(session, row, now, limit)


def _claim(session: Session, action_id: int, outcome: str, limit: int) -> list[ActionItem]:
    return list(
        session.scalars(
            select(ActionItem)
            .where(ActionItem.action_id == action_id, ActionItem.outcome == outcome)
            .order_by(ActionItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def _remaining(session: Session, action_id: int, outcome: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ActionItem)
            .where(ActionItem.action_id == action_id, ActionItem.outcome == outcome)
        )
        or 0
    )


def _apply_batch(session: Session, row: EnforcementAction, now: datetime, limit: int) -> int:
    from rapidresponse.compliance import service as compliance

    claimed = _claim(session, row.id, PENDING, limit)
    action = ContainmentAction(row.action)
    incident = session.get_one(Incident, row.incident_id)
    items = {
        i.id: i
        for chunk in _chunks([c.item_id for c in claimed], 1000)
        for i in session.scalars(select(ContentItem).where(ContentItem.id.in_(chunk)))
    }
    facts = _statement_basis(row, incident, now)
    records: list[dict[str, Any]] = []
    eu_regions: set[str] = set()
    acted: list[str] = []
    for target in claimed:
        item = items[target.item_id]
        change = actions.apply(
            item.restrictions,
            action_id=row.id,
            action=action,
            regions=row.regions,
            item_regions=item.regions,
        )
        target.acted_at = now
        if not change.changed:
            target.outcome, target.detail = UNCHANGED, "already in force"
            row.unchanged += 1
            continue
        item.restrictions = change.restrictions
        target.outcome, target.regions = APPLIED, list(change.regions)
        row.applied += 1
        acted.append(item.external_id)
        scope = statements.needs_statement(action, actions.eu_scope(action, change.regions))
        if scope:
            eu_regions |= set(scope)
            records.append(_statement(facts, item, action, scope))
    if records:
        row.statements += compliance.add_statements(session, incident.id, row.id, records, now)
        compliance.record_restriction(session, incident, row.id, sorted(eu_regions), now)
    remaining = _remaining(session, row.id, PENDING)
    if remaining == 0:
        row.status, row.completed_at = COMPLETED, now
    _changed(
        session,
        _system(row.started_by or "rapidresponse"),
        row,
        "batch_applied",
        None,
        now,
        after={"acted_on": acted, "unchanged": len(claimed) - len(acted), "remaining": remaining},
        timeline=f"Completed {_describe(row)}: {row.applied} acted on, {row.unchanged} already "
        f"in force, {row.statements} statement(s) of reasons"
        if remaining == 0
        else None,
    )
    return remaining


def _revert_batch(session: Session, row: EnforcementAction, now: datetime, limit: int) -> int:
    claimed = _claim(session, row.id, APPLIED, limit)
    items = {
        i.id: i
        for chunk in _chunks([c.item_id for c in claimed], 1000)
        for i in session.scalars(select(ContentItem).where(ContentItem.id.in_(chunk)))
    }
    for target in claimed:
        item = items[target.item_id]
        item.restrictions, _ = actions.revert(item.restrictions, row.id)
        target.outcome, target.reverted_at = REVERTED, now
        row.reverted += 1
    remaining = _remaining(session, row.id, APPLIED)
    if remaining == 0:
        row.status, row.rolled_back_at = ROLLED_BACK, now
    _changed(
        session,
        _system(row.rollback_by or "rapidresponse"),
        row,
        "batch_reverted",
        None,
        now,
        after={"reverted": [items[c.item_id].external_id for c in claimed], "remaining": remaining},
        timeline=f"Rolled back {_describe(row)}: {row.reverted} item(s) restored"
        if remaining == 0
        else None,
    )
    return remaining


# ---------------------------------------------------------------- statements of reasons


def _statement_basis(row: EnforcementAction, incident: Incident, now: datetime) -> dict[str, Any]:
    document, section = shipped_policy_catalogue().section(row.policy_section)
    action = ContainmentAction(row.action)
    verb = VERBS[action].format(regions=", ".join(row.regions))
    ground = statements.Ground(row.ground)
    reference = (
        row.legal_ground
        if ground is statements.Ground.ILLEGAL and row.legal_ground
        else f"{document.title} (version {document.version}), section {section.id}: {section.title}"
    )
    return {
        "ground": ground,
        "reference": reference[:500],
        "harm_type": document.harm_type,
        "application_date": now.date(),
        "explanation": row.explanation,
        "automated_decision": row.automated_decision,
        "facts": (
            f"{verb} this content under section {section.id} ({section.title}) of our "
            f"{document.title} during a rapid response to {incident.harm_type.replace('_', ' ')} "
            "content."
        )[:5000],
    }


def _statement(
    basis: dict[str, Any], item: ContentItem, action: ContainmentAction, scope: Sequence[str]
) -> dict[str, Any]:
    return statements.build_statement(
        statements.StatementFacts(
            puid=item.external_id,
            action=action,
            territorial_scope=tuple(scope),
            ground=basis["ground"],
            ground_reference=basis["reference"],
            explanation=basis["explanation"],
            harm_type=basis["harm_type"],
            content_type=actions.DSA_CONTENT_TYPE[Subject(item.subject)],
            content_date=(item.posted_at or item.added_at).date(),
            application_date=basis["application_date"],
            decision_facts=basis["facts"],
            source_type=SOURCE_TYPE[ItemSource(item.source)],
            automated_detection=item.automated_detection,
            automated_decision=basis["automated_decision"],
            content_language=item.language.split("-")[0].upper() if item.language else None,
        )
    )


# ---------------------------------------------------------------- reading


def progress(session: Session, row: EnforcementAction) -> Progress:
    pending = _remaining(session, row.id, PENDING)
    return Progress(
        total=row.total,
        pending=pending,
        applied=row.applied - row.reverted,
        unchanged=row.unchanged,
        skipped=_remaining(session, row.id, SKIPPED),
        reverted=row.reverted,
        statements=row.statements,
    )


def action_out(session: Session, row: EnforcementAction) -> ActionOut:
    incident = session.get_one(Incident, row.incident_id)
    return ActionOut(
        id=row.id,
        incident=incident.key,
        action=ContainmentAction(row.action),
        selector=row.selector,
        regions=row.regions,
        policy_section=row.policy_section,
        policy_version=row.policy_version,
        ground=statements.Ground(row.ground),
        legal_ground=row.legal_ground,
        explanation=row.explanation,
        automated_decision=row.automated_decision,
        reason=row.reason,
        status=row.status,
        reversible=actions.reversible(ContainmentAction(row.action)),
        requires_approval=row.requires_approval,
        approval_threshold=row.approval_threshold,
        blast_radius=row.blast_radius,
        progress=progress(session, row),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        started_by=row.started_by,
        started_at=row.started_at,
        completed_at=row.completed_at,
        rollback_by=row.rollback_by,
        rollback_reason=row.rollback_reason,
        rolled_back_at=row.rolled_back_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
        version=row.version,
    )


def action_items(
    session: Session,
    principal: Principal,
    key: str,
    action_id: int,
    *,
    outcome: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[ActionItemOut], int]:
    row = get_action(session, principal, key, action_id)
    query = (
        select(ActionItem, ContentItem)
        .join(ContentItem, ContentItem.id == ActionItem.item_id)
        .where(ActionItem.action_id == row.id)
    )
    count = select(func.count()).select_from(ActionItem).where(ActionItem.action_id == row.id)
    if outcome is not None:
        query = query.where(ActionItem.outcome == outcome)
        count = count.where(ActionItem.outcome == outcome)
    rows = session.execute(query.order_by(ActionItem.id).limit(limit).offset(offset)).all()
    return [
        ActionItemOut(
            item_id=item.id,
            external_id=item.external_id,
            subject=Subject(item.subject),
            outcome=target.outcome,
            regions=target.regions,
            detail=target.detail,
            acted_at=target.acted_at,
            reverted_at=target.reverted_at,
        )
        for target, item in rows
    ], int(session.scalar(count) or 0)


def awaiting_approval(session: Session, incident_id: int) -> list[EnforcementAction]:
    """Actions waiting for a second approval (the caller checked access)."""
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(
                EnforcementAction.incident_id == incident_id,
                EnforcementAction.status == AWAITING_APPROVAL,
            )
            .order_by(EnforcementAction.id)
        )
    )


def cluster_for_reports(session: Session, incident_id: int) -> list[ContentItem]:
    """The incident's content (not accounts or keys), for report drafts."""
    return list(
        session.scalars(
            select(ContentItem)
            .where(
                ContentItem.incident_id == incident_id,
                ContentItem.subject.in_([s.value for s in actions.CONTENT_SUBJECTS]),
            )
            .order_by(ContentItem.id)
        )
    )


# ---------------------------------------------------------------- the worker


def session_handlers(batch_size: int = 500) -> dict[str, SessionHandler]:
    """Run one batch per message and queue the next while items remain (outbox/handlers.py)."""

    def run(session: Session, payload: dict[str, Any], now: datetime) -> None:
        action_id = int(payload["action_id"])
        if run_batch(session, action_id, now, batch_size) > 0:
            outbox.enqueue(session, RUN_TOPIC, {"action_id": action_id}, now)

    return {RUN_TOPIC: run}

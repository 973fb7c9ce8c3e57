"""Bulk containment actions against a real database: dry run, approval, running, resuming, undo."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import ManualClock
from rapidresponse.compliance import service as compliance
from rapidresponse.compliance import statements
from rapidresponse.compliance.model import StatementOfReasons
from rapidresponse.db import transaction
from rapidresponse.enforcement import service
from rapidresponse.enforcement.model import ActionItem, ContentItem
from rapidresponse.enforcement.schemas import ActionIn, ItemIn
from rapidresponse.errors import Conflict, Forbidden, InvalidInput
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, TimelineKind
from rapidresponse.playbooks import service as playbooks
from tests.conftest import ADMIN, MANAGER, RESPONDER, incident_body

SHARED_FIELDS = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "dsa-statement-of-reasons-fields.json"
)
SECOND_MANAGER = type(MANAGER)("second-manager", MANAGER.role)


def declare(db: sessionmaker[Session], clock: ManualClock, **overrides: Any) -> str:
    with transaction(db) as session:
        return incidents.declare(
            session, ADMIN, IncidentCreate.model_validate(incident_body(**overrides)), clock.now()
        ).key


def add_videos(
    db: sessionmaker[Session],
    clock: ManualClock,
    key: str,
    n: int,
    *,
    prefix: str = "vid",
    regions: list[str] | None = None,
    accounts: int = 50,
    keys: list[str] | None = None,
) -> None:
    items = [
        ItemIn(
            external_id=f"{prefix}-{i:06d}",
            account_id=f"acct-{i % accounts}",
            regions=regions if regions is not None else ["DE", "FR", "US"],
            keys=keys or ["#attackclip"],
            language="de",
            views=100 + i,
            source="hash_match" if i % 2 else "user_report",
            automated_detection=bool(i % 2),
        )
        for i in range(n)
    ]
    for start in range(0, n, 10_000):
        with transaction(db) as session:
            service.add_items(session, RESPONDER, key, items[start : start + 10_000], clock.now())


def action(**overrides: Any) -> ActionIn:
    body: dict[str, Any] = {
        "action": "geo_restrict",
        "selector": {"scope": "cluster"},
        "regions": ["DE", "FR"],
        "policy_section": "VE-1",
        "ground": "illegal",
        "legal_ground": "Regulation (EU) 2021/784 (terrorist content online), Art. 3",
        "explanation": "Footage of the attack that glorifies it and is illegal terrorist content.",
        "reason": "Re-uploads are spreading in DE and FR.",
    }
    body.update(overrides)
    return ActionIn.model_validate(body)


def plan(
    db: sessionmaker[Session],
    clock: ManualClock,
    key: str,
    body: ActionIn,
    threshold: int = 1000,
    who: Any = MANAGER,
) -> int:
    with transaction(db) as session:
        return service.plan(session, who, key, body, clock.now(), approval_threshold=threshold).id


def run_all(db: sessionmaker[Session], clock: ManualClock, action_id: int, batch: int = 500) -> int:
    batches = 0
    while True:
        with transaction(db) as session:
            remaining = service.run_batch(session, action_id, clock.now(), batch)
        batches += 1
        if remaining == 0:
            return batches


def test_dry_run_shows_the_blast_radius_and_acts_on_nothing(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 120, accounts=7)
    with transaction(db) as session:
        service.add_items(
            session,
            RESPONDER,
            key,
            [ItemIn(external_id="vid-us-only", account_id="acct-x", regions=["US"], views=5)],
            clock.now(),
        )
    action_id = plan(db, clock, key, action())
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, action_id))
        restricted = [
            row.restrictions for row in session.scalars(select(ContentItem)) if row.restrictions
        ]
    assert out.status == "planned"
    assert not out.requires_approval
    radius = out.blast_radius
    assert radius["items"] == 121
    assert radius["accounts"] == 8
    assert radius["views"] == sum(100 + i for i in range(120)) + 5
    assert radius["regions"] == ["DE", "FR"]
    assert radius["eu_items"] == 121
    assert len(radius["sample"]) == 10
    assert out.progress.pending == 121
    assert out.progress.applied == 0
    assert restricted == []


def test_geo_restriction_of_10000_items_in_de_fr_gives_10000_valid_statements(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 10_000)
    action_id = plan(db, clock, key, action(), threshold=20_000)
    with transaction(db) as session:
        service.start(session, MANAGER, key, action_id, clock.now())
    run_all(db, clock, action_id, batch=2000)
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, action_id))
        lines = list(compliance.export_statements(session, MANAGER, key, action_id=action_id))
        outcomes = dict(
            session.execute(
                select(ActionItem.outcome, func.count())
                .where(ActionItem.action_id == action_id)
                .group_by(ActionItem.outcome)
            ).all()
        )
    assert out.status == "completed"
    assert outcomes == {"applied": 10_000}
    assert out.progress.statements == 10_000
    assert len(lines) == 10_000
    assert len({line.puid for line in lines}) == 10_000
    assert all(not line.errors for line in lines)
    # Valid against the transparency database's own field list, not just our copy of it.
    shared = statements.load_fields(SHARED_FIELDS)
    for line in lines[::997]:
        record = json.loads(line.line)
        assert statements.validate_statement(record, shared) == []
        assert record["territorial_scope"] == ["DE", "FR"]
        assert record["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
        assert record["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"


def test_an_interrupted_run_resumes_without_acting_twice(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 1_050)
    action_id = plan(db, clock, key, action(), threshold=5_000)
    with transaction(db) as session:
        service.start(session, MANAGER, key, action_id, clock.now())
    # Two batches commit, then the process dies in the middle of the third: its transaction
    # rolls back, as a crash's would.
    for _ in range(2):
        with transaction(db) as session:
            service.run_batch(session, action_id, clock.now(), 300)

    class Crash(Exception):
        pass

    def crash_before_commit() -> None:
        with transaction(db) as session:
            service.run_batch(session, action_id, clock.now(), 300)
            raise Crash

    with pytest.raises(Crash):
        crash_before_commit()
    with transaction(db) as session:
        halfway = service.action_out(session, service.get_action(session, MANAGER, key, action_id))
    assert halfway.status == "running"
    assert halfway.progress.applied == 600
    assert halfway.progress.pending == 450
    # A new worker resumes; starting again is a no-op, not a second run.
    with transaction(db) as session:
        service.start(session, MANAGER, key, action_id, clock.now())
    run_all(db, clock, action_id, batch=300)
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, action_id))
        items = list(session.scalars(select(ContentItem).where(ContentItem.subject == "video")))
        statement_puids = list(
            session.scalars(
                select(StatementOfReasons.puid).where(StatementOfReasons.action_id == action_id)
            )
        )
    assert out.status == "completed"
    assert out.progress.applied == 1_050
    assert all([r["action_id"] for r in item.restrictions].count(action_id) == 1 for item in items)
    assert len(statement_puids) == len(set(statement_puids)) == 1_050
    # Running a finished action again changes nothing.
    with transaction(db) as session:
        assert service.run_batch(session, action_id, clock.now(), 300) == 0


def test_two_person_approval_cannot_be_given_by_the_requester(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 30)
    action_id = plan(db, clock, key, action(), threshold=10)
    with transaction(db) as session:
        row = service.get_action(session, MANAGER, key, action_id)
        assert row.status == "awaiting_approval"
        assert row.requires_approval
        with pytest.raises(Conflict, match="approve it first"):
            service.start(session, MANAGER, key, action_id, clock.now())
    with transaction(db) as session:
        blocked = playbooks.next_actions(session, MANAGER, clock.now(), key).blocked
    # Beside the playbook's tasks waiting on others, the action waiting for its approver.
    waiting = [i for i in blocked if i.kind == "approval"]
    assert len(waiting) == 1
    assert "other than manager-user" in (waiting[0].owner or "")
    with pytest.raises(Forbidden, match="two-person"), transaction(db) as session:
        service.approve(session, MANAGER, key, action_id, clock.now())
    # An admin token for the same person is still the same person.
    same_person = type(ADMIN)(MANAGER.subject, ADMIN.role)
    with pytest.raises(Forbidden, match="two-person"), transaction(db) as session:
        service.approve(session, same_person, key, action_id, clock.now())
    with pytest.raises(Forbidden), transaction(db) as session:
        service.approve(session, RESPONDER, key, action_id, clock.now())
    with transaction(db) as session:
        assert service.get_action(session, MANAGER, key, action_id).status == "awaiting_approval"
        approved = service.approve(session, SECOND_MANAGER, key, action_id, clock.now())
        assert (approved.status, approved.approved_by) == ("approved", "second-manager")
        service.start(session, MANAGER, key, action_id, clock.now())
    run_all(db, clock, action_id)
    with transaction(db) as session:
        assert service.get_action(session, MANAGER, key, action_id).status == "completed"


def test_rollback_lifts_only_the_actions_own_restrictions(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 40)
    first = plan(db, clock, key, action(regions=["DE"]))
    second = plan(db, clock, key, action(regions=["DE", "FR"]))
    for action_id in (first, second):
        with transaction(db) as session:
            service.start(session, MANAGER, key, action_id, clock.now())
        run_all(db, clock, action_id)
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, second))
        # DE was already blocked by the first action, so the second only newly blocks FR.
        assert out.progress.applied == 40
        record = session.scalars(
            select(StatementOfReasons.record).where(StatementOfReasons.action_id == second)
        ).first()
        assert record is not None
        assert record["territorial_scope"] == ["FR"]
        service.rollback(session, MANAGER, key, second, "Court in FR lifted the order", clock.now())
    run_all(db, clock, second)
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, second))
        items = list(session.scalars(select(ContentItem)))
    assert out.status == "rolled_back"
    assert out.progress.reverted == 40
    assert {tuple(service.item_out(i).state["blocked_in"]) for i in items} == {("DE",)}


def test_removal_and_bans_cannot_be_rolled_back_in_bulk(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 5, accounts=2)
    removal = plan(db, clock, key, action(action="remove", regions=[]))
    ban = plan(
        db,
        clock,
        key,
        action(action="ban_account", regions=[], ground="incompatible", legal_ground=None),
    )
    with transaction(db) as session:
        radius = service.get_action(session, MANAGER, key, ban).blast_radius
        assert radius["items"] == 2
        assert radius["by_subject"] == {"account": 2}
        for action_id in (removal, ban):
            service.start(session, MANAGER, key, action_id, clock.now())
    run_all(db, clock, removal)
    run_all(db, clock, ban)
    for action_id in (removal, ban):
        with pytest.raises(Conflict, match="appeal"), transaction(db) as session:
            service.rollback(session, MANAGER, key, action_id, "changed our mind", clock.now())
    with transaction(db) as session:
        account_statements = list(
            session.scalars(
                select(StatementOfReasons.record).where(StatementOfReasons.action_id == ban)
            )
        )
    assert len(account_statements) == 2
    assert all(r["decision_account"] == "DECISION_ACCOUNT_TERMINATED" for r in account_statements)


def test_items_merge_without_losing_facts_and_bad_input_changes_nothing(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    key = declare(db, clock)
    first = ItemIn(external_id="v1", regions=["DE"], keys=["#A"], views=10)
    again = ItemIn(external_id="v1", regions=["FR"], keys=["#b"], views=5, account_id="acct-1")
    with transaction(db) as session:
        assert service.add_items(session, RESPONDER, key, [first], clock.now()).added == 1
        added = service.add_items(session, RESPONDER, key, [again], clock.now())
        assert (added.added, added.updated, added.total) == (0, 1, 1)
        (row,) = session.scalars(select(ContentItem))
    assert row.regions == ["DE", "FR"]
    assert row.keys == ["#a", "#b"]
    assert row.views == 10
    assert row.account_id == "acct-1"
    with pytest.raises(ValueError, match="external_id"):
        ItemIn(external_id="has spaces/slash")
    with pytest.raises(ValueError, match="geo_restrict needs the regions"):
        action(regions=[])
    with pytest.raises(ValueError, match="only geo_restrict"):
        action(action="remove")
    with pytest.raises(ValueError, match="must name the law"):
        action(ground="illegal", legal_ground=None)
    with pytest.raises(InvalidInput, match="policy_section"), transaction(db) as session:
        service.plan(
            session,
            MANAGER,
            key,
            action(policy_section="NOPE-1"),
            clock.now(),
            approval_threshold=10,
        )
    with pytest.raises(InvalidInput, match="no item"), transaction(db) as session:
        service.plan(
            session,
            MANAGER,
            key,
            action(selector={"scope": "key", "key": "#missing"}),
            clock.now(),
            approval_threshold=10,
        )


def test_selectors_pick_the_right_items(db: sessionmaker[Session], clock: ManualClock) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 10, prefix="a", keys=["#challenge"], accounts=3)
    add_videos(db, clock, key, 5, prefix="b", keys=["#other"], accounts=3)
    with transaction(db) as session:
        service.add_items(
            session,
            RESPONDER,
            key,
            [ItemIn(subject="hashtag", external_id="challenge", keys=["#challenge"])],
            clock.now(),
        )
    by_key = plan(db, clock, key, action(selector={"scope": "key", "key": "#Challenge"}))
    search = plan(
        db,
        clock,
        key,
        action(
            action="search_intervention",
            regions=[],
            ground="incompatible",
            legal_ground=None,
            selector={"scope": "key", "key": "#challenge"},
        ),
    )
    listed = plan(
        db,
        clock,
        key,
        action(selector={"scope": "items", "external_ids": ["a-000001", "b-000002"]}),
    )
    account = plan(db, clock, key, action(selector={"scope": "account", "account_id": "acct-1"}))
    with transaction(db) as session:
        sizes = {
            name: service.get_action(session, MANAGER, key, i).total
            for name, i in (
                ("key", by_key),
                ("search", search),
                ("items", listed),
                ("account", account),
            )
        }
    # key: 10 videos carrying the tag + the hashtag item itself (geo-restrict acts on both).
    assert sizes == {"key": 11, "search": 1, "items": 2, "account": 5}


def test_a_closed_incident_cannot_be_acted_on_and_viewers_cannot_plan(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    from tests.conftest import VIEWER

    key = declare(db, clock)
    add_videos(db, clock, key, 3)
    with pytest.raises(Forbidden), transaction(db) as session:
        service.plan(session, VIEWER, key, action(), clock.now(), approval_threshold=10)
    with transaction(db) as session:
        entries = incidents.timeline(session, ADMIN, key, [TimelineKind.CONTAINMENT])
    assert entries == []


@pytest.fixture
def run_worker(db: sessionmaker[Session], clock: ManualClock) -> Callable[[], int]:
    from rapidresponse.events import EventHub
    from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
    from rapidresponse.outbox.worker import OutboxWorker

    worker = OutboxWorker(
        db,
        default_handlers(EventHub()),
        clock,
        session_handlers=default_session_handlers(),
    )
    return worker.drain


def test_the_worker_runs_an_action_to_completion(
    db: sessionmaker[Session], clock: ManualClock, run_worker: Callable[[], int]
) -> None:
    key = declare(db, clock)
    add_videos(db, clock, key, 1_200)
    action_id = plan(db, clock, key, action(), threshold=5_000)
    with transaction(db) as session:
        service.start(session, MANAGER, key, action_id, clock.now())
    run_worker()
    with transaction(db) as session:
        out = service.action_out(session, service.get_action(session, MANAGER, key, action_id))
        timeline = incidents.timeline(session, ADMIN, key, [TimelineKind.CONTAINMENT])
    assert out.status == "completed"
    assert out.progress.applied == 1_200
    assert [e.text.split(" ")[0] for e in timeline] == ["Planned", "manager-user", "Completed"]

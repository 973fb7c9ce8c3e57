"""Paging on a real database: durable escalation timers, exactly-once steps, acknowledgement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role
from rapidresponse.db import transaction
from rapidresponse.errors import Forbidden, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, TimelineKind
from rapidresponse.oncall import service
from rapidresponse.oncall.model import Page, PageNotification
from rapidresponse.oncall.schemas import (
    LayerIn,
    PageCreate,
    PolicyCreate,
    ScheduleCreate,
)
from rapidresponse.outbox import service as outbox
from tests.conftest import ADMIN, MANAGER, RESPONDER, incident_body
from tests.oncall.follow_the_sun import utc


def trigger(db, clock, policy="ts-primary", **extra) -> int:
    with transaction(db) as session:
        return service.trigger_page(
            session,
            RESPONDER,
            PageCreate(escalation_policy=policy, summary="Attack video re-uploads", **extra),
            clock.now(),
        ).id


def notified(db, page_id: int) -> list[tuple[int, int, str]]:
    with transaction(db) as session:
        return [
            (n.round, n.level, n.person)
            for n in session.scalars(
                select(PageNotification)
                .where(PageNotification.page_id == page_id)
                .order_by(PageNotification.id)
            )
        ]


def page(db, page_id: int):
    with transaction(db) as session:
        return service.page_out(session, session.get(Page, page_id))


def test_unacknowledged_page_escalates_once_per_step_until_acknowledged(
    db, clock, follow_the_sun, make_worker, receiver
):
    clock.set(utc(2026, 3, 17, 7, 50))  # St Patrick's Day, Singapore on duty
    page_id = trigger(db, clock, severity="SEV0")
    assert notified(db, page_id) == [(0, 0, "sid")]
    with transaction(db) as session:
        timer = outbox.get_by_key(session, f"page:{page_id}:level:0:round:0")
        assert timer is not None
        assert (timer.status, timer.available_at) == ("pending", utc(2026, 3, 17, 8, 5))

    worker = make_worker()
    clock.set(utc(2026, 3, 17, 8, 4, 59))
    worker.drain()
    assert notified(db, page_id) == [(0, 0, "sid")]
    assert receiver.paged() == ["sid"]  # the first notification really went out

    clock.set(utc(2026, 3, 17, 8, 5))  # 15 minutes unacknowledged
    worker.drain()
    worker.drain()
    make_worker().drain()  # another worker (or a restart) finds nothing left to do
    assert notified(db, page_id) == [(0, 0, "sid"), (0, 1, "mgr")]
    assert receiver.paged() == ["sid", "mgr"]
    assert page(db, page_id).level == 1

    clock.set(utc(2026, 3, 17, 8, 20))  # round two: the schedule now resolves to the
    worker.drain()  # holiday backup, since Dublin does not work St Patrick's Day
    assert notified(db, page_id)[-1] == (1, 0, "bea")
    with transaction(db) as session:
        [bea] = list(
            session.scalars(select(PageNotification).where(PageNotification.person == "bea"))
        )
        assert bea.via == "schedule ts-follow-the-sun (emea-backup)"

    clock.set(utc(2026, 3, 17, 8, 25))
    with transaction(db) as session:
        service.acknowledge_page(
            session, Principal("bea", Role.RESPONDER), page_id, clock.now(), "on it"
        )
        timer = outbox.get_by_key(session, f"page:{page_id}:level:0:round:1")
        assert timer is not None
        assert timer.status == "cancelled"

    clock.set(utc(2026, 3, 17, 12))
    worker.drain()
    make_worker().drain()
    out = page(db, page_id)
    assert (out.status, out.acknowledged_by, out.next_escalation_at) == (
        "acknowledged",
        "bea",
        None,
    )
    assert notified(db, page_id) == [(0, 0, "sid"), (0, 1, "mgr"), (1, 0, "bea")]
    assert receiver.paged() == ["sid", "mgr", "bea"]
    assert len({c["key"] for c in receiver.calls}) == 3  # one idempotency key per notification


def test_a_restarted_worker_still_escalates_a_pending_page(db, clock, follow_the_sun, make_worker):
    clock.set(utc(2026, 3, 17, 2))
    page_id = trigger(db, clock)
    make_worker().drain()
    assert notified(db, page_id) == [(0, 0, "sid")]
    # The process dies; the timer lives in the database. Later a new worker starts.
    clock.set(utc(2026, 3, 17, 3))
    make_worker().drain()
    assert notified(db, page_id) == [(0, 0, "sid"), (0, 1, "mgr")]


def test_an_exhausted_page_is_recorded_and_stays_open_for_acknowledgement(
    db, clock, follow_the_sun, make_worker
):
    clock.set(utc(2026, 3, 17, 2))
    page_id = trigger(db, clock)
    worker = make_worker()
    for minutes in (15, 30, 45, 60, 75):
        clock.set(utc(2026, 3, 17, 2) + timedelta(minutes=minutes))
        worker.drain()
    out = page(db, page_id)
    assert out.status == "exhausted"
    assert out.exhausted_at == utc(2026, 3, 17, 3)
    assert [(n.round, n.level, n.person) for n in out.notifications] == [
        (0, 0, "sid"),
        (0, 1, "mgr"),
        (1, 0, "sid"),
        (1, 1, "mgr"),
    ]
    with transaction(db) as session:
        service.acknowledge_page(session, Principal("mgr", Role.VIEWER), page_id, clock.now())
    assert page(db, page_id).status == "acknowledged"


def test_a_level_with_nobody_on_call_escalates_at_once(db, clock, directory, make_worker):
    with transaction(db) as session:
        service.create_schedule(
            session,
            MANAGER,
            ScheduleCreate(
                slug="office-hours",
                name="Office hours only",
                layers=[
                    LayerIn.model_validate(
                        {
                            "name": "dublin",
                            "position": 1,
                            "participants": ["dee"],
                            "timezone": "Europe/Dublin",
                            "starts_on": "2026-01-05",
                            "restrictions": [
                                {"days": ["weekdays"], "start": "09:00", "end": "17:00"}
                            ],
                        }
                    )
                ],
            ),
            clock.now(),
        )
        service.create_policy(
            session,
            MANAGER,
            PolicyCreate.model_validate(
                {
                    "slug": "office",
                    "name": "Office",
                    "levels": [
                        {"wait_minutes": 10, "targets": [{"schedule": "office-hours"}]},
                        {"wait_minutes": 10, "targets": [{"person": "mgr"}]},
                    ],
                }
            ),
            clock.now(),
        )
    clock.set(utc(2026, 3, 14, 3))  # a Saturday night: the office layer is off
    page_id = trigger(db, clock, policy="office")
    assert notified(db, page_id) == [(0, 1, "mgr")]
    out = page(db, page_id)
    assert out.level == 1
    assert out.next_escalation_at == utc(2026, 3, 14, 3, 10)


def test_only_notified_people_or_incident_managers_may_acknowledge(db, clock, follow_the_sun):
    clock.set(utc(2026, 3, 17, 2))
    page_id = trigger(db, clock)
    with transaction(db) as session, pytest.raises(Forbidden, match="people it notified"):
        service.acknowledge_page(session, RESPONDER, page_id, clock.now())
    with transaction(db) as session:
        service.acknowledge_page(session, MANAGER, page_id, clock.now())
        again = service.acknowledge_page(session, MANAGER, page_id, clock.now())
        assert again.acknowledged_by == MANAGER.subject  # asking twice changes nothing
    with transaction(db) as session:
        service.resolve_page(session, Principal("sid", Role.RESPONDER), page_id, clock.now())
    out = page(db, page_id)
    assert (out.status, out.resolved_by) == ("resolved", "sid")


def test_page_events_go_to_the_incident_timeline_and_the_audit_log(db, clock, follow_the_sun):
    clock.set(utc(2026, 3, 17, 2))
    with transaction(db) as session:
        key = incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
        ).key
    page_id = trigger(db, clock, incident_key=key, severity="SEV1")
    with transaction(db) as session:
        service.acknowledge_page(session, Principal("sid", Role.RESPONDER), page_id, clock.now())
    with transaction(db) as session:
        entries = incidents.timeline(session, ADMIN, key, [TimelineKind.PAGE])
        texts = [e.text for e in entries]
        actions = [
            e.action
            for e in audit.list_entries(session, entity_type="oncall_page", entity_id=str(page_id))
        ]
    assert texts[0].startswith(f"Page #{page_id}: triggered ts-primary by responder-user")
    assert "level 1 round 1: notified sid (schedule ts-follow-the-sun (singapore)" in texts[1]
    assert texts[2] == f"Page #{page_id}: acknowledged by sid"
    assert entries[2].actor == "sid"
    assert sorted(actions) == sorted(
        ["oncall.page_triggered", "oncall.page_notified", "oncall.page_acknowledged"]
    )


def test_pages_of_a_restricted_incident_are_hidden_from_those_who_cannot_see_it(
    db, clock, follow_the_sun
):
    clock.set(utc(2026, 3, 17, 2))
    with transaction(db) as session:
        key = incidents.declare(
            session,
            MANAGER,
            IncidentCreate.model_validate(
                incident_body(harm_type="child_sexual_exploitation", commander="cmdr")
            ),
            clock.now(),
        ).key
    with transaction(db) as session:
        page_id = service.trigger_page(
            session,
            MANAGER,
            PageCreate(escalation_policy="ts-primary", summary="CSE outbreak", incident_key=key),
            clock.now(),
        ).id
    outsider = Principal("responder-user", Role.RESPONDER)
    with transaction(db) as session:
        with pytest.raises(NotFound):
            service.get_page(session, outsider, page_id)
        assert service.list_pages(session, outsider) == []
        # The person paged sees the page (and may answer it) without seeing the incident.
        sid = Principal("sid", Role.RESPONDER)
        assert service.get_page(session, sid, page_id).id == page_id
        service.acknowledge_page(session, sid, page_id, clock.now())

"""The transactional outbox and its worker, on a real database."""

from __future__ import annotations

import queue
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from rapidresponse.app import create_app
from rapidresponse.auth.policy import Role
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import OutboxWorker
from tests.conftest import MANAGER, incident_body


def pending(db) -> list[outbox.OutboxMessage]:
    with transaction(db) as session:
        return sorted(outbox.list_messages(session, "pending"), key=lambda m: m.id)


def test_change_and_its_message_commit_together(db, clock):
    with transaction(db) as session:
        incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
        )
    messages = pending(db)
    events = [m for m in messages if m.topic == "incident.events"]
    assert [(m.payload["event"], m.payload["incident"]) for m in events] == [
        ("declared", "INC-2026-0001"),
        ("planned", "INC-2026-0001"),
    ]
    with transaction(db) as session:
        tasks = incidents.tasks(session, MANAGER, "INC-2026-0001")
    timers = sorted(m.key for m in messages if m.topic == "playbooks.task_due")
    assert timers == sorted(f"task-due:{t.id}" for t in tasks)


def test_rolled_back_change_sends_nothing(db, clock):
    class Abort(Exception):
        pass

    def declare_then_fail() -> None:
        with transaction(db) as session:
            incidents.declare(
                session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
            )
            raise Abort

    with pytest.raises(Abort):
        declare_then_fail()
    assert pending(db) == []
    with transaction(db) as session:
        assert incidents.list_incidents(session, MANAGER, incidents.IncidentFilter(), 10, 0)[1] == 0


def test_worker_delivers_each_message_once(db, clock):
    received: list[dict] = []
    with transaction(db) as session:
        for i in range(3):
            outbox.enqueue(session, "test.topic", {"n": i}, clock.now())
    worker = OutboxWorker(db, {"test.topic": received.append}, clock)
    assert worker.drain() == 3
    assert [p["n"] for p in received] == [0, 1, 2]
    assert worker.drain() == 0
    with transaction(db) as session:
        assert outbox.stats(session, clock.now())["delivered"] == 3


def test_failures_are_retried_with_backoff_then_parked_visible_and_requeueable(
    db, clock, client, headers
):
    calls: list[int] = []
    healthy = threading.Event()

    def flaky(payload: dict) -> None:
        calls.append(payload["n"])
        if not healthy.is_set():
            raise ConnectionError("receiver down")

    with transaction(db) as session:
        outbox.enqueue(session, "test.topic", {"n": 1}, clock.now())
    worker = OutboxWorker(db, {"test.topic": flaky}, clock, max_attempts=3)
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # backing off: not due again yet
    clock.advance(timedelta(seconds=5))
    assert worker.run_once() == 1
    clock.advance(timedelta(seconds=9))
    assert worker.run_once() == 0  # second delay is 10 s
    clock.advance(timedelta(seconds=1))
    assert worker.run_once() == 1
    assert calls == [1, 1, 1]
    dead = client.get("/api/v1/outbox/messages?status=dead", headers=headers(Role.ADMIN)).json()
    assert len(dead) == 1
    assert dead[0]["attempts"] == 3
    assert "ConnectionError: receiver down" in dead[0]["last_error"]
    assert client.get("/api/v1/outbox", headers=headers(Role.ADMIN)).json()["dead"] == 1

    healthy.set()
    r = client.post("/api/v1/outbox/requeue-dead", headers=headers(Role.ADMIN))
    assert r.json() == {"requeued": 1}
    assert worker.drain() == 1
    assert calls == [1, 1, 1, 1]
    assert client.get("/api/v1/outbox", headers=headers(Role.ADMIN)).json()["delivered"] == 1


def test_message_without_a_handler_is_kept_not_dropped(db, clock):
    with transaction(db) as session:
        outbox.enqueue(session, "nobody.listens", {"x": 1}, clock.now())
    worker = OutboxWorker(db, {}, clock, max_attempts=1)
    worker.drain()
    with transaction(db) as session:
        [message] = outbox.list_messages(session)
        assert message.status == "dead"
        assert "no handler registered" in (message.last_error or "")


def test_a_crashed_workers_claim_expires_and_another_delivers(db, clock):
    with transaction(db) as session:
        outbox.enqueue(session, "test.topic", {"n": 7}, clock.now())
    with transaction(db) as session:  # claimed by a worker that then dies
        assert len(outbox.claim(session, clock.now(), 10, timedelta(minutes=5))) == 1
    received: list[dict] = []
    worker = OutboxWorker(db, {"test.topic": received.append}, clock)
    assert worker.drain() == 0
    clock.advance(timedelta(minutes=5))
    assert worker.drain() == 1
    assert received == [{"n": 7}]


def test_competing_workers_share_the_queue_without_duplicates(db, clock):
    with transaction(db) as session:
        for i in range(200):
            outbox.enqueue(session, "test.topic", {"n": i}, clock.now())
    received: list[int] = []
    lock = threading.Lock()

    def handler(payload: dict) -> None:
        with lock:
            received.append(payload["n"])

    workers = [OutboxWorker(db, {"test.topic": handler}, clock, batch_size=7) for _ in range(4)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(received) == list(range(200))


def test_in_process_worker_publishes_incident_events(db, app_settings, clock, headers):
    settings = app_settings.model_copy(
        update={"worker_mode": "inprocess", "worker_poll_seconds": 0.05}
    )
    app = create_app(settings, clock)
    events = app.state.hub.subscribe()
    with TestClient(app) as client:
        r = client.post("/api/v1/incidents", json=incident_body(), headers=headers(Role.RESPONDER))
        assert r.status_code == 201
        try:
            event = events.get(timeout=10)
        except queue.Empty:
            pytest.fail("the in-process worker did not deliver the declared event")
    assert event["event"] == "declared"
    assert event["incident"] == r.json()["key"]


def test_a_timer_fires_once_when_due_and_survives_a_restart(db, clock):
    with transaction(db) as session:
        outbox.schedule(
            session,
            "test.timer",
            {"page": 1},
            due_at=clock.now() + timedelta(minutes=5),
            key="escalate:page-1:1",
            now=clock.now(),
        )
    fired: list[dict] = []
    worker = OutboxWorker(db, {"test.timer": fired.append}, clock)
    assert worker.drain() == 0
    clock.advance(timedelta(minutes=5))
    # A "restarted" worker (a new instance) still finds the stored timer.
    assert OutboxWorker(db, {"test.timer": fired.append}, clock).drain() == 1
    assert worker.drain() == 0
    assert fired == [{"page": 1}]
    with transaction(db) as session:  # a fired timer cannot be re-armed under the same key
        again = outbox.schedule(
            session,
            "test.timer",
            {"page": 1},
            due_at=clock.now(),
            key="escalate:page-1:1",
            now=clock.now(),
        )
        assert again.status == "delivered"


def test_timers_can_be_moved_and_cancelled(db, clock):
    with transaction(db) as session:
        outbox.schedule(
            session,
            "test.timer",
            {"v": 1},
            due_at=clock.now() + timedelta(hours=1),
            key="reminder",
            now=clock.now(),
        )
        outbox.schedule(
            session,
            "test.timer",
            {"v": 2},
            due_at=clock.now() + timedelta(minutes=10),
            key="reminder",
            now=clock.now(),
        )
        outbox.schedule(
            session, "test.timer", {"v": 3}, due_at=clock.now(), key="cancelled", now=clock.now()
        )
        assert outbox.cancel(session, "cancelled") is True
        assert outbox.cancel(session, "never-set") is False
    fired: list[dict] = []
    worker = OutboxWorker(db, {"test.timer": fired.append}, clock)
    clock.advance(timedelta(minutes=10))
    worker.drain()
    assert fired == [{"v": 2}]
    with transaction(db) as session:
        assert outbox.stats(session, clock.now())["cancelled"] == 1


def test_session_handler_effects_commit_with_delivery_exactly_once(db, clock):
    """A database-changing handler runs in the delivery's transaction: a failure undoes both."""
    from rapidresponse.incidents.schemas import NoteIn

    with transaction(db) as session:
        key = incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
        ).key
        outbox.schedule(
            session, "test.note", {"key": key}, due_at=clock.now(), key="note-1", now=clock.now()
        )
    attempts: list[int] = []

    def add_note(session, payload, now) -> None:
        incidents.add_note(session, MANAGER, payload["key"], NoteIn(text="timer fired"), now)
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("crash after the write, before the commit")

    worker = OutboxWorker(db, {}, clock, session_handlers={"test.note": add_note})
    worker.drain()
    clock.advance(timedelta(seconds=5))
    worker.drain()
    clock.advance(timedelta(minutes=10))
    worker.drain()
    assert len(attempts) == 2
    with transaction(db) as session:
        notes = incidents.timeline(session, MANAGER, key, [incidents.TimelineKind.NOTE])
        assert [n.text for n in notes] == ["timer fired"]
        assert outbox.get_by_key(session, "note-1").status == "delivered"


def test_requeueing_dead_messages_is_audited(db, clock, client, headers):
    with transaction(db) as session:
        outbox.enqueue(session, "nobody.listens", {"x": 1}, clock.now())
    OutboxWorker(db, {}, clock, max_attempts=1).drain()
    client.post("/api/v1/outbox/requeue-dead", headers=headers(Role.ADMIN))
    entries = client.get("/api/v1/audit?entity_type=outbox", headers=headers(Role.ADMIN)).json()
    assert [(e["action"], e["actor"]) for e in entries] == [("outbox.requeued", "admin-user")]

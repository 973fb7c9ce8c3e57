"""Update cadence: durable reminders when an internal update is overdue, moved by updates,
stopped by resolution. The clock moves; the outbox worker (production handlers) fires timers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Role
from rapidresponse.comms import service as comms
from rapidresponse.comms.schemas import ComposeIn
from rapidresponse.db import transaction
from rapidresponse.errors import Forbidden, InvalidInput
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import TimelineKind, TransitionIn
from rapidresponse.outbox import service as outbox
from tests.conftest import MANAGER, RESPONDER, T0, VIEWER

EVERY = timedelta(minutes=30)


@pytest.fixture
def cadenced(db, clock, incident):
    with transaction(db) as session:
        comms.schedule_cadence(session, MANAGER, incident, EVERY, clock.now())
    return incident


def reminders(db, key):
    with transaction(db) as session:
        return incidents.timeline(session, MANAGER, key, [TimelineKind.REMINDER])


def status_reminders(db, key):
    return [e for e in reminders(db, key) if e.data.get("reminder") == "status_update_overdue"]


def send_update(db, clock, key):
    with transaction(db) as session:
        update = comms.compose(
            session,
            MANAGER,
            key,
            ComposeIn.model_validate(
                {
                    "kind": "internal_update",
                    "recipients": [{"channel": "email", "target": "leads@example.org"}],
                }
            ),
            clock.now(),
        )
        comms.send(session, MANAGER, key, update.id, update.version, clock.now())


def due(db, key):
    with transaction(db) as session:
        return comms.next_update_due_at(session, MANAGER, key)


def test_reminder_fires_exactly_once_when_an_update_is_overdue(db, clock, cadenced, worker, smtp):
    mailbox, _ = smtp
    assert due(db, cadenced) == T0 + EVERY

    clock.advance(EVERY - timedelta(seconds=1))
    worker.drain()
    assert status_reminders(db, cadenced) == []

    clock.advance(timedelta(seconds=1))
    worker.drain()
    worker.drain()
    [reminder] = status_reminders(db, cadenced)
    assert reminder.text.startswith("Status update overdue: no internal update sent yet")
    assert "reminded manager-user, comms-user" in reminder.text
    assert reminder.actor == "rapidresponse"
    # Delivered to the commander and the communications lead, through the outbox.
    assert sorted(m["To"] for m in mailbox.messages) == ["comms@example.org", "manager@example.org"]
    assert all("status update overdue" in m["Subject"] for m in mailbox.messages)

    clock.advance(timedelta(minutes=10))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 1
    assert len(mailbox.messages) == 2
    with transaction(db) as session:
        status = comms.cadence_status(session, MANAGER, cadenced, clock.now())
        assert status is not None
        assert (status.overdue, status.reminders_sent) == (True, 1)

    # Still silent one interval after the reminder: it nags once more, not in a burst.
    clock.advance(timedelta(minutes=20))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 2


def test_sending_an_internal_update_pushes_the_reminder_forward(db, clock, cadenced, worker):
    clock.advance(timedelta(minutes=20))
    send_update(db, clock, cadenced)
    assert due(db, cadenced) == T0 + timedelta(minutes=50)
    with transaction(db) as session:  # one pending timer, moved: not a second one
        pending = [
            m for m in outbox.list_messages(session, "pending") if m.topic == comms.CADENCE_TOPIC
        ]
        assert [m.available_at for m in pending] == [T0 + timedelta(minutes=50)]

    clock.advance(timedelta(minutes=15))  # 35 min after declaring: would have been overdue
    worker.drain()
    assert status_reminders(db, cadenced) == []

    clock.advance(timedelta(minutes=15))  # 30 min after the update
    worker.drain()
    [reminder] = status_reminders(db, cadenced)
    assert "last internal update 2026-11-25 10:20 UTC" in reminder.text

    # An update after the reminder quiets it again, for a full interval.
    clock.advance(timedelta(minutes=5))
    send_update(db, clock, cadenced)
    clock.advance(timedelta(minutes=29))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 1
    clock.advance(timedelta(minutes=1))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 2


def test_executive_summaries_do_not_count_as_the_internal_update(db, clock, cadenced, worker):
    clock.advance(timedelta(minutes=20))
    with transaction(db) as session:
        summary = comms.compose(
            session,
            MANAGER,
            cadenced,
            ComposeIn.model_validate({"kind": "executive_summary"}),
            clock.now(),
        )
        comms.send(session, MANAGER, cadenced, summary.id, None, clock.now())
    clock.advance(timedelta(minutes=10))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 1


def test_resolving_the_incident_stops_the_reminders(db, clock, cadenced, worker):
    with transaction(db) as session:
        for status in ("triaged", "active", "contained", "resolved"):
            incidents.change_status(
                session, MANAGER, cadenced, TransitionIn(to=status), None, clock.now()
            )
    assert due(db, cadenced) is None
    clock.advance(timedelta(hours=3))
    worker.drain()
    assert status_reminders(db, cadenced) == []
    with transaction(db) as session:
        status = comms.cadence_status(session, MANAGER, cadenced, clock.now())
        assert status is not None
        assert status.active is False
        pending = [
            m for m in outbox.list_messages(session, "pending") if m.topic == comms.CADENCE_TOPIC
        ]
        assert pending == []
        log = incidents.timeline(session, MANAGER, cadenced, [TimelineKind.COMMUNICATION])
        assert any("reminders stopped (incident is resolved)" in e.text for e in log)


def test_a_new_cadence_moves_the_timer_and_setting_the_same_one_changes_nothing(
    db, clock, cadenced, worker
):
    with transaction(db) as session:
        before = len(incidents.timeline(session, MANAGER, cadenced))
        comms.schedule_cadence(session, MANAGER, cadenced, EVERY, clock.now())
        assert len(incidents.timeline(session, MANAGER, cadenced)) == before
        comms.schedule_cadence(session, RESPONDER, cadenced, timedelta(minutes=15), clock.now())
    assert due(db, cadenced) == T0 + timedelta(minutes=15)
    clock.advance(timedelta(minutes=15))
    worker.drain()
    assert len(status_reminders(db, cadenced)) == 1


def test_cadence_rules(db, clock, incident):
    with transaction(db) as session, pytest.raises(InvalidInput):
        comms.schedule_cadence(session, MANAGER, incident, timedelta(seconds=10), clock.now())
    with transaction(db) as session, pytest.raises(Forbidden):
        comms.schedule_cadence(session, VIEWER, incident, EVERY, clock.now())
    with transaction(db) as session, pytest.raises(Forbidden):  # by hand: incident managers
        comms.set_cadence(session, RESPONDER, incident, EVERY, clock.now())


def test_cadence_over_the_api(client, headers, clock, incident, worker, db):
    manager, viewer = headers(Role.INCIDENT_MANAGER), headers(Role.VIEWER)
    url = f"/api/v1/incidents/{incident}/comms/cadence"
    assert client.put(url, json={"every_minutes": 30}, headers=viewer).status_code == 403
    response = client.put(url, json={"every_minutes": 30}, headers=manager)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["every_minutes"] == 30
    assert body["next_update_due_at"] == "2026-11-25T10:30:00Z"
    assert body["overdue"] is False
    with transaction(db) as session:
        log = incidents.timeline(session, MANAGER, incident, [TimelineKind.COMMUNICATION])
        assert log[-1].text == (
            "Status-update cadence set to every 30 min; next update due 2026-11-25 10:30 UTC"
        )
        assert log[-1].actor == "manager-user"
        [entry] = audit.list_entries(session, entity_type="comms_cadence")
        assert (entry.action, entry.after["every_seconds"]) == ("comms.cadence_set", 1800)
    # Asking again for the same cadence records nothing new.
    assert client.put(url, json={"every_minutes": 30}, headers=manager).status_code == 200
    with transaction(db) as session:
        assert len(audit.list_entries(session, entity_type="comms_cadence")) == 1

    clock.advance(timedelta(minutes=31))
    worker.drain()
    body = client.get(url, headers=viewer).json()
    assert (body["overdue"], body["reminders_sent"]) == (True, 1)

    stopped = client.delete(url, headers=manager)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["active"] is False
    assert stopped.json()["next_update_due_at"] is None
    clock.advance(timedelta(hours=2))
    worker.drain()
    assert len(status_reminders(db, incident)) == 1

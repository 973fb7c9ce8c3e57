"""Delivery channels against real receivers: SMTP (aiosmtpd) and HTTP on 127.0.0.1.

Deliveries are stored and enqueued in the caller's transaction, sent by the outbox worker
(the production handler set), retried with the outbox's backoff, and visible when they fail.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapidresponse.auth.policy import Role
from rapidresponse.comms import service as comms
from rapidresponse.comms.channels import Channel
from rapidresponse.comms.senders import message_id
from rapidresponse.db import transaction
from rapidresponse.errors import InvalidInput
from rapidresponse.outbox import service as outbox
from tests.comms.conftest import MAX_ATTEMPTS


def _deliver(db, clock, **overrides):
    arguments = {
        "channel": Channel.EMAIL,
        "target": "oncall@example.org",
        "subject": "[SEV1] INC-2026-0001: page",
        "body": "Attack footage is spreading; please acknowledge.",
        "idempotency_key": "page:1:level:0",
        "now": clock.now(),
        "incident_key": None,
    }
    arguments.update(overrides)
    with transaction(db) as session:
        delivery = comms.deliver(session, **arguments)
        return delivery.id


def _delivery(db, delivery_id):
    with transaction(db) as session:
        return comms.get_delivery(session, delivery_id)


def test_email_is_delivered_over_smtp_with_a_stable_message_id(db, clock, smtp, worker):
    mailbox, _ = smtp
    delivery_id = _deliver(db, clock, subject="Status update #1", body="All hands: line one.\n")
    assert _delivery(db, delivery_id).status == "queued"
    assert mailbox.messages == []  # nothing leaves before the worker runs

    worker.drain()

    [message] = mailbox.messages
    assert message["Subject"] == "Status update #1"
    assert message["To"] == "oncall@example.org"
    assert message["From"] == "rapid-response@example.org"
    assert message["Message-ID"] == message_id("page:1:level:0", "rapid-response@example.org")
    assert message["X-RR-Idempotency-Key"] == "page:1:level:0"
    assert message.get_content().strip() == "All hands: line one."
    assert mailbox.envelopes == [("rapid-response@example.org", ["oncall@example.org"])]
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)
    assert delivery.sent_at == clock.now()


def test_same_idempotency_key_gives_one_delivery_and_one_email(db, clock, smtp, worker):
    mailbox, _ = smtp
    first = _deliver(db, clock)
    second = _deliver(db, clock, body="a retried caller sends the same key")
    assert first == second
    with transaction(db) as session:
        assert len(comms.list_deliveries(session, comms.SYSTEM)) == 1
    worker.drain()
    third = _deliver(db, clock)  # asking again after it was sent sends nothing more
    worker.drain()
    assert third == first
    assert len(mailbox.messages) == 1


def test_a_rolled_back_request_sends_nothing(db, clock, smtp, worker):
    mailbox, _ = smtp

    class Abort(Exception):
        pass

    def request_then_fail() -> None:
        with transaction(db) as session:
            comms.deliver(
                session,
                channel=Channel.EMAIL,
                target="oncall@example.org",
                subject="never",
                body="never",
                idempotency_key="rolled-back",
                now=clock.now(),
            )
            raise Abort

    with pytest.raises(Abort):
        request_then_fail()
    worker.drain()
    assert mailbox.messages == []
    with transaction(db) as session:
        assert comms.list_deliveries(session, comms.SYSTEM) == []


@pytest.mark.parametrize(
    ("channel", "target"),
    [
        (Channel.EMAIL, "not an address"),
        (Channel.EMAIL, "a@b.org, c@d.org"),
        (Channel.WEBHOOK, "ftp://127.0.0.1/hook"),
        (Channel.SLACK, "hooks.slack.com/services/x"),
    ],
)
def test_malformed_targets_are_refused_when_asked(db, clock, channel, target):
    with pytest.raises(InvalidInput):
        _deliver(db, clock, channel=channel, target=target)


def test_webhook_is_signed_and_retried_with_backoff_until_it_succeeds(db, clock, receiver, worker):
    receiver.fail_next = 2
    delivery_id = _deliver(
        db,
        clock,
        channel=Channel.WEBHOOK,
        target=receiver.url("/hooks/rr"),
        idempotency_key="webhook:42",
        incident_key="INC-2026-0001",
        payload={"page_id": 42},
    )

    worker.drain()
    assert len(receiver.requests) == 1
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "HTTP 503" in (delivery.last_error or "")

    clock.advance(timedelta(seconds=4))
    worker.drain()
    assert len(receiver.requests) == 1  # backing off: the first retry waits 5 s

    clock.advance(timedelta(seconds=1))
    worker.drain()
    assert len(receiver.requests) == 2
    clock.advance(timedelta(seconds=9))
    worker.drain()
    assert len(receiver.requests) == 2  # the second retry waits 10 s
    clock.advance(timedelta(seconds=1))
    worker.drain()

    assert [r.status for r in receiver.requests] == [503, 503, 200]
    assert all(r.signature_ok for r in receiver.requests), "every attempt is signed"
    delivered = receiver.requests[-1]
    assert delivered.path == "/hooks/rr"
    assert delivered.headers["x-rr-idempotency-key"] == "webhook:42"
    assert delivered.headers["x-rr-signature"].startswith("sha256=")
    assert delivered.headers["x-rr-timestamp"] == str(int(clock.now().timestamp()))
    document = delivered.json()
    assert document["idempotency_key"] == "webhook:42"
    assert document["incident"] == "INC-2026-0001"
    assert document["payload"] == {"page_id": 42}
    assert document["sent_at"] == int(clock.now().timestamp())
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, None)


def test_a_tampered_body_fails_signature_verification(db, clock, receiver, worker):
    from rapidresponse.comms.signing import verify

    _deliver(db, clock, channel=Channel.WEBHOOK, target=receiver.url(), idempotency_key="t")
    worker.drain()
    [request] = receiver.requests
    assert request.signature_ok
    tampered = request.body.replace(b"page", b"PAGE")
    assert tampered != request.body
    assert not verify("test-webhook-secret", tampered, request.headers["x-rr-signature"])
    assert not verify("another-secret", request.body, request.headers["x-rr-signature"])


def test_a_receiver_that_always_fails_leaves_a_dead_delivery_visible_in_the_api(
    db, clock, receiver, worker, client, headers
):
    receiver.always_fail = True
    delivery_id = _deliver(
        db,
        clock,
        channel=Channel.WEBHOOK,
        target=receiver.url("/secret-path-abcd"),
        idempotency_key="doomed",
    )
    for _ in range(MAX_ATTEMPTS):
        worker.drain()
        clock.advance(timedelta(hours=1))
    worker.drain()

    assert len(receiver.requests) == MAX_ATTEMPTS
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts) == ("dead", MAX_ATTEMPTS)
    with transaction(db) as session:
        assert outbox.get_by_key(session, f"comms.deliver:{delivery_id}").status == "dead"

    response = client.get(
        "/api/v1/comms/deliveries",
        params={"status": "dead"},
        headers=headers(Role.INCIDENT_MANAGER),
    )
    assert response.status_code == 200, response.text
    [listed] = response.json()
    assert listed["id"] == delivery_id
    assert listed["attempts"] == MAX_ATTEMPTS
    assert "HTTP 503" in listed["last_error"]
    # The URL is the credential of a webhook: listings mask it.
    assert "secret-path" not in listed["target"]
    assert listed["target"].endswith("abcd")
    assert (
        client.get("/api/v1/comms/deliveries", headers=headers(Role.RESPONDER)).status_code == 403
    )

    # An operator requeues dead messages; the delivery comes back and, once the receiver is
    # healthy again, is sent: nothing was lost.
    receiver.always_fail = False
    assert client.post("/api/v1/outbox/requeue-dead", headers=headers(Role.ADMIN)).json() == {
        "requeued": 1
    }
    worker.drain()
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts) == ("sent", MAX_ATTEMPTS + 1)


def test_an_unreachable_smtp_server_is_a_retried_failure(db, clock, worker, comms_settings):
    from tests.comms.conftest import free_port

    worker.handlers.update(
        comms.handlers(db, comms_settings.model_copy(update={"smtp_port": free_port()}), clock)
    )
    delivery_id = _deliver(db, clock)
    worker.drain()
    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "SMTP 127.0.0.1" in (delivery.last_error or "")


def test_slack_payload_is_posted_as_an_incoming_webhook_message(db, clock, receiver, worker):
    _deliver(
        db,
        clock,
        channel=Channel.SLACK,
        target=receiver.url("/services/T000/B000/XXXX"),
        subject="[SEV0] INC-2026-0001 update #2",
        body="## Situation\n**Contained** in DE & FR; see [the room](https://rr.example/x).\n",
        idempotency_key="slack:1",
        incident_key="INC-2026-0001",
        payload={"link": "https://rr.example/incidents/INC-2026-0001"},
    )
    worker.drain()
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/json"
    document = request.json()
    assert set(document) == {"text", "blocks"}
    assert document["text"].startswith("[SEV0] INC-2026-0001 update #2")
    header, section, context = document["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "[SEV0] INC-2026-0001 update #2", "emoji": True},
    }
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"] == (
        "*Situation*\n*Contained* in DE &amp; FR; see <https://rr.example/x|the room>."
    )
    assert context["type"] == "context"
    assert "<https://rr.example/incidents/INC-2026-0001|" in context["elements"][0]["text"]


def test_listings_show_only_deliveries_of_incidents_the_reader_may_see(db, clock):
    from rapidresponse.incidents import service as incidents
    from rapidresponse.incidents.schemas import IncidentCreate
    from tests.conftest import ADMIN, MANAGER, incident_body

    with transaction(db) as session:
        hidden = incidents.declare(
            session,
            ADMIN,
            IncidentCreate.model_validate(incident_body(restricted=True, commander="cmdr-user")),
            clock.now(),
        ).key
    _deliver(db, clock, incident_key=hidden, idempotency_key="hidden")
    _deliver(db, clock, incident_key=None, idempotency_key="no-incident")
    with transaction(db) as session:
        seen = [d.idempotency_key for d in comms.list_deliveries(session, MANAGER)]
        assert seen == ["no-incident"]
        everything = comms.list_deliveries(session, ADMIN)
        assert [d.idempotency_key for d in everything] == ["no-incident", "hidden"]

"""Real receivers for comms tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver.

Both listen on 127.0.0.1 only. The webhook receiver checks every request's HMAC signature
against the secret the application signs with, and can be told to fail the next N requests
(or all of them) so retries and dead deliveries are exercised against a real socket.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth import service as auth_service
from rapidresponse.auth.policy import Principal, Role
from rapidresponse.clock import ManualClock
from rapidresponse.comms import service as comms
from rapidresponse.comms.signing import verify
from rapidresponse.db import transaction
from rapidresponse.events import EventHub
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, ParticipantIn
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from rapidresponse.settings import Settings
from tests.conftest import MANAGER, incident_body

WEBHOOK_SECRET = "test-webhook-secret"
MAX_ATTEMPTS = 4


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records requests and answers as told."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    always_fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answered(self, status: int) -> list[Received]:
        return [r for r in self.requests if r.status == status]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                failing = state.always_fail or state.fail_next > 0
                if state.fail_next > 0:
                    state.fail_next -= 1
                status = 503 if failing else 200
                state.requests.append(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        signature_ok=verify(
                            WEBHOOK_SECRET, body, self.headers.get("X-RR-Signature")
                        ),
                        status=status,
                    )
                )
            payload = b"receiver unavailable" if failing else b"ok"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def comms_settings(app_settings: Settings, smtp: tuple[Mailbox, int]) -> Settings:
    return app_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp[1],
            "smtp_from": "rapid-response@example.org",
            "webhook_secret": WEBHOOK_SECRET,
            "outbox_max_attempts": MAX_ATTEMPTS,
            "delivery_timeout_seconds": 5.0,
        }
    )


CONTACTS = {
    "manager-user": [("email", "manager@example.org")],
    "comms-user": [("email", "comms@example.org")],
}


def contacts(session: Session, user: str) -> list[tuple[str, str]]:
    return CONTACTS.get(user, [])


@pytest.fixture
def worker(db: sessionmaker[Session], comms_settings: Settings, clock: ManualClock) -> OutboxWorker:
    """The production handler set, with comms pointed at the local receivers."""
    return OutboxWorker(
        db,
        default_handlers(EventHub(), factory=db, settings=comms_settings, clock=clock),
        clock,
        session_handlers={**default_session_handlers(), **comms.session_handlers(contacts)},
        max_attempts=comms_settings.outbox_max_attempts,
    )


@pytest.fixture
def incident(db: sessionmaker[Session], clock: ManualClock) -> str:
    """An open incident commanded by manager-user, with comms-user as communications."""
    with transaction(db) as session:
        key = incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
        ).key
        incidents.add_participant(
            session,
            MANAGER,
            key,
            ParticipantIn(user="comms-user", role="communications"),
            clock.now(),
        )
    return key


@pytest.fixture
def token_for(
    db: sessionmaker[Session], clock: ManualClock
) -> Callable[[str, Role], dict[str, str]]:
    """Authorization headers for any subject and role (people beyond the four test roles)."""

    def issue(subject: str, role: Role) -> dict[str, str]:
        with transaction(db) as session:
            _, secret = auth_service.issue_token(
                session,
                name=f"{subject} token",
                subject=subject,
                role=role,
                actor="test-setup",
                now=clock.now(),
            )
        return {"Authorization": f"Bearer {secret}"}

    return issue


def principal(subject: str, role: Role = Role.RESPONDER) -> Principal:
    return Principal(subject, role)

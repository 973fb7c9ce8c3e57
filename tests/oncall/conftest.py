"""On-call fixtures: a directory of people, a real HTTP receiver for their pagers, a worker."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import ManualClock
from rapidresponse.db import transaction
from rapidresponse.events import EventHub
from rapidresponse.oncall import service
from rapidresponse.oncall.schemas import PersonCreate, PolicyCreate, ScheduleCreate
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from rapidresponse.settings import Settings
from tests.conftest import MANAGER
from tests.oncall import follow_the_sun as fts


@dataclass
class Receiver:
    """A local webhook endpoint standing in for each person's pager."""

    base: str
    calls: list[dict[str, Any]] = field(default_factory=list)

    def url(self, handle: str) -> str:
        return f"{self.base}/pager/{handle}"

    def paged(self) -> list[str]:
        return [c["path"].rsplit("/", 1)[-1] for c in self.calls]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            calls.append(
                {
                    "path": self.path,
                    "key": self.headers.get("X-RR-Idempotency-Key"),
                    "body": json.loads(body or b"{}"),
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", calls)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def directory(db: sessionmaker[Session], clock: ManualClock, receiver: Receiver) -> list[str]:
    """The follow-the-sun people plus a duty manager, each paged through the receiver."""
    handles = [*fts.PEOPLE, "mgr"]
    with transaction(db) as session:
        for handle in handles:
            service.create_person(
                session,
                MANAGER,
                PersonCreate(
                    handle=handle,
                    name=handle.capitalize(),
                    timezone=fts.ZONES.get(handle, "Europe/Dublin"),
                    webhook_url=receiver.url(handle),
                ),
                clock.now(),
            )
    return handles


@pytest.fixture
def follow_the_sun(db: sessionmaker[Session], clock: ManualClock, directory: list[str]) -> str:
    """The follow-the-sun schedule, and a policy: the schedule, then the duty manager."""
    with transaction(db) as session:
        service.create_schedule(
            session, MANAGER, ScheduleCreate.model_validate(fts.api_body()), clock.now()
        )
        service.create_policy(
            session,
            MANAGER,
            PolicyCreate.model_validate(
                {
                    "slug": "ts-primary",
                    "name": "T&S primary",
                    "repeat": 1,
                    "levels": [
                        {"wait_minutes": 15, "targets": [{"schedule": "ts-follow-the-sun"}]},
                        {"wait_minutes": 15, "targets": [{"person": "mgr"}]},
                    ],
                }
            ),
            clock.now(),
        )
    return "ts-follow-the-sun"


@pytest.fixture
def make_worker(db: sessionmaker[Session], clock: ManualClock, app_settings: Settings) -> Any:
    """A fresh OutboxWorker with every default handler (a new one stands for a restart)."""

    def make() -> OutboxWorker:
        return OutboxWorker(
            db,
            default_handlers(EventHub(), factory=db, settings=app_settings, clock=clock),
            clock,
            session_handlers=default_session_handlers(),
        )

    return make

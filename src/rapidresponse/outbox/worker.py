"""The background worker: delivers outbox messages to the handler registered for their topic.

The same class runs in-process (a thread inside the server, the embedded default) and as
`rapidresponse worker` processes. A topic with no handler is a failure like any other: the
message is retried and, after the last attempt, parked as dead where operators can see it.

Two kinds of handler:

- ``Handler(payload)`` does something outside the database (an e-mail, a webhook). It runs
  outside any transaction and is delivered at least once: receivers get an idempotency key.
- ``SessionHandler(session, payload, now)`` changes the database (escalate a page, plan a
  reminder). It runs in the same transaction that marks the message delivered, so its effect
  happens exactly once even if a worker dies or two workers race.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import Clock
from rapidresponse.db import transaction
from rapidresponse.outbox import service

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
SessionHandler = Callable[[Session, dict[str, Any], datetime], None]


class OutboxWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        clock: Clock,
        *,
        session_handlers: Mapping[str, SessionHandler] | None = None,
        max_attempts: int = 12,
        batch_size: int = 100,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.factory = factory
        self.handlers = dict(handlers)
        self.session_handlers = dict(session_handlers or {})
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self.lease = lease

    def run_once(self) -> int:
        """Claim one batch of due messages and deliver them; returns how many were tried."""
        with transaction(self.factory) as session:
            claimed = [
                (m.id, m.topic, dict(m.payload))
                for m in service.claim(session, self.clock.now(), self.batch_size, self.lease)
            ]
        for message_id, topic, payload in claimed:
            try:
                if topic in self.session_handlers:
                    self._deliver_in_transaction(message_id, topic, payload)
                    continue
                handler = self.handlers.get(topic)
                if handler is None:
                    raise LookupError(f"no handler registered for topic {topic!r}")
                handler(payload)
            except Exception as exc:  # a handler's failure must not stop the worker
                log.warning("outbox message %s (%s) failed: %s", message_id, topic, exc)
                with transaction(self.factory) as session:
                    service.mark_failed(
                        session,
                        message_id,
                        f"{type(exc).__name__}: {exc}",
                        self.clock.now(),
                        self.max_attempts,
                    )
            else:
                with transaction(self.factory) as session:
                    service.mark_delivered(session, message_id, self.clock.now())
        return len(claimed)

    def _deliver_in_transaction(self, message_id: int, topic: str, payload: dict[str, Any]) -> None:
        with transaction(self.factory) as session:
            if service.lock_claimed(session, message_id) is None:
                return  # settled (or cancelled) meanwhile: nothing to do
            now = self.clock.now()
            self.session_handlers[topic](session, payload, now)
            service.mark_delivered(session, message_id, now)

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests and the CLI's `worker --once`)."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:
                log.exception("outbox worker round failed; retrying")
                busy = False
            if not busy:
                stop.wait(poll_seconds)


class InProcessWorker:
    """Runs an OutboxWorker on a daemon thread for the lifetime of the server."""

    def __init__(self, worker: OutboxWorker, poll_seconds: float) -> None:
        self.worker = worker
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.worker.run,
            args=(self._stop, self.poll_seconds),
            name="rr-outbox-worker",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

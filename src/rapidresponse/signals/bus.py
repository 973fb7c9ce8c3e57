"""Signals from NATS JetStream: a durable pull consumer feeding the same ingestion.

Producers publish CloudEvents (one JSON object, or NDJSON lines, per message) on
``rr.signals.<anything>``. The consumer pulls a batch, decodes every message, ingests all
accepted events in one transaction and acknowledges the messages only after that commit.
A crash between commit and acknowledgement makes JetStream redeliver the batch, and
ingestion's (source, id) dedup makes the redelivery count nothing. A malformed message is
logged with its reason and acknowledged (terminated): it never blocks the stream, and no
retry could fix it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth.policy import Principal, Role
from rapidresponse.clock import Clock
from rapidresponse.db import transaction
from rapidresponse.signals import service
from rapidresponse.signals.schema import Reject, decode_ndjson

log = logging.getLogger(__name__)
CONSUMER_PRINCIPAL = Principal(subject="system:nats", role=Role.RESPONDER)


@dataclass(frozen=True)
class BusSettings:
    url: str = "nats://127.0.0.1:4222"
    stream: str = "RR_SIGNALS"
    subject: str = "rr.signals.>"
    durable: str = "rapidresponse-ingest"
    batch: int = 500
    ack_wait_seconds: float = 30.0


@dataclass
class ConsumerStats:
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: int = 0
    batches: int = 0
    rejects: list[Reject] = field(default_factory=list)


async def ensure_stream(js: Any, settings: BusSettings) -> None:
    try:
        await js.stream_info(settings.stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(name=settings.stream, subjects=[settings.subject]))


async def publish(settings: BusSettings, subject: str, payloads: Sequence[bytes]) -> None:
    """Publish messages to the stream (producers, the simulator and tests)."""
    connection = await nats.connect(settings.url)
    try:
        js = connection.jetstream()
        await ensure_stream(js, settings)
        for payload in payloads:
            await js.publish(subject, payload)
    finally:
        await connection.close()


async def consume(
    settings: BusSettings,
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    stop: asyncio.Event | None = None,
    until_idle: bool = False,
    after_commit: Callable[[], None] | None = None,
) -> ConsumerStats:
    """Pull, ingest, acknowledge, until ``stop`` is set (or, with ``until_idle``, the stream
    has nothing more to give). ``after_commit`` runs between the commit and the acks."""
    stats = ConsumerStats()
    connection = await nats.connect(settings.url)
    try:
        js = connection.jetstream()
        await ensure_stream(js, settings)
        subscription = await js.pull_subscribe(
            settings.subject,
            durable=settings.durable,
            stream=settings.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=settings.ack_wait_seconds
            ),
        )
        while stop is None or not stop.is_set():
            try:
                messages = await subscription.fetch(settings.batch, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                if until_idle:
                    break
                continue
            await _handle(messages, factory, clock, stats, after_commit)
    finally:
        await connection.close()
    return stats


async def _handle(
    messages: list[Any],
    factory: sessionmaker[Session],
    clock: Clock,
    stats: ConsumerStats,
    after_commit: Callable[[], None] | None,
) -> None:
    now = clock.now()
    signals = []
    for message in messages:
        decoded, rejects = decode_ndjson(message.data, not_after=now.timestamp() + 300)
        signals += decoded
        for reject in rejects:
            log.warning("signal rejected (subject %s): %s", message.subject, reject.reason)
        stats.rejected += len(rejects)
        stats.rejects += rejects[:100]
    if signals:
        with transaction(factory) as session:
            result = service.ingest(session, CONSUMER_PRINCIPAL, signals, now, origin="nats")
        stats.accepted += result.accepted
        stats.duplicates += result.duplicates
        stats.late += result.late
    if after_commit is not None:
        after_commit()
    for message in messages:
        await message.ack()
    stats.messages += len(messages)
    stats.batches += 1


class ConsumerThread:
    """The consumer on its own event loop in a background thread (inside `rapidresponse worker`)."""

    def __init__(self, settings: BusSettings, factory: sessionmaker[Session], clock: Clock) -> None:
        self.settings, self.factory, self.clock = settings, factory, clock
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="nats-signals", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(
            consume(self.settings, self.factory, self.clock, stop=self._stop)
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

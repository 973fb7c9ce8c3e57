"""The JetStream consumer against the real NATS server: exactly-once counting under redelivery."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import ManualClock
from rapidresponse.db import transaction
from rapidresponse.signals.bus import BusSettings, consume, publish
from rapidresponse.signals.model import SeriesWindow, SignalEvent
from rapidresponse.signals.schema import signal_to_event
from tests.conftest import require_service
from tests.signals.test_pipeline import signal

NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture
def bus() -> BusSettings:
    async def probe() -> None:
        import nats

        connection = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
        await connection.jetstream().account_info()
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure means no usable server
        require_service("NATS JetStream", f"{NATS_URL}: {exc.__class__.__name__}: {exc}")
    # A stream and consumer of this test's own, so runs never share messages.
    name = uuid.uuid4().hex[:10]
    return BusSettings(
        url=NATS_URL,
        stream=f"RR_TEST_{name}",
        subject=f"rrtest.{name}.>",
        durable=f"ingest-{name}",
        batch=50,
        ack_wait_seconds=1.0,
    )


def _cleanup(bus: BusSettings) -> None:
    async def drop() -> None:
        import nats

        connection = await nats.connect(bus.url)
        await connection.jetstream().delete_stream(bus.stream)
        await connection.close()

    asyncio.run(drop())


def hashtag_total(db: sessionmaker[Session]) -> tuple[float, int]:
    with transaction(db) as session:
        total = session.scalar(
            select(func.sum(SeriesWindow.count)).where(SeriesWindow.series == "hashtag:#daily")
        )
        events = session.scalar(select(func.count()).select_from(SignalEvent))
    return float(total or 0), int(events or 0)


def test_consumer_counts_each_event_once_through_crash_and_redelivery(
    db: sessionmaker[Session], clock: ManualClock, bus: BusSettings
) -> None:
    subject = bus.subject.replace(">", "reports")
    events = [json.dumps(signal_to_event(signal(i, i % 5))).encode() for i in range(120)]
    payloads = [*events, b"{broken", events[0]]  # a malformed message and a duplicate
    try:
        asyncio.run(publish(bus, subject, payloads))

        class Crash(Exception):
            pass

        def crash() -> None:
            raise Crash

        # The first batch commits, then the process dies before acknowledging it.
        with pytest.raises(Crash):
            asyncio.run(consume(bus, db, clock, until_idle=True, after_commit=crash))
        assert hashtag_total(db) == (50.0, 50)
        # A new consumer gets the unacknowledged batch again, and the rest.
        asyncio.run(asyncio.sleep(1.2))  # past ack_wait: JetStream redelivers
        stats = asyncio.run(consume(bus, db, clock, until_idle=True))
        assert stats.rejected == 1
        assert stats.duplicates >= 51  # the redelivered batch and the duplicate message
        assert hashtag_total(db) == (120.0, 120)
        # Nothing left: running again ingests nothing.
        again = asyncio.run(consume(bus, db, clock, until_idle=True))
        assert again.messages == 0
    finally:
        _cleanup(bus)

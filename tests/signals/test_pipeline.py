"""Signals against a real database: exactly-once ingestion, windows, detection, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import ManualClock
from rapidresponse.db import transaction
from rapidresponse.errors import Conflict, Forbidden, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.signals import service
from rapidresponse.signals.model import SeriesWindow, SignalEvent
from rapidresponse.signals.schema import Signal, SignalKind
from tests.conftest import ADMIN, RESPONDER, VIEWER

START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def signal(
    n: int,
    minute: float,
    *,
    tag: str = "#daily",
    harm: str = "hate_speech",
    region: str = "DE",
    cluster: str | None = None,
    source: str = "urn:test",
) -> Signal:
    return Signal(
        id=f"e{n}",
        source=source,
        kind=SignalKind.USER_REPORT,
        event_time=(START + timedelta(minutes=minute)).timestamp(),
        harm_type=harm,  # type: ignore[arg-type]
        region=region,
        content_id=f"v{n % 97}",
        language="de",
        account_id=f"a{n % 31}",
        hashtags=(tag,),
        media_cluster=cluster,
    )


def test_redelivered_events_are_counted_once(db: sessionmaker[Session], clock: ManualClock) -> None:
    batch = [signal(i, i % 3) for i in range(30)]
    with transaction(db) as session:
        first = service.ingest(session, RESPONDER, batch, clock.now())
    with transaction(db) as session:
        again = service.ingest(session, RESPONDER, [*batch[:10], *batch[:10]], clock.now())
        counts = dict(
            session.execute(
                select(SeriesWindow.window_start, SeriesWindow.count).where(
                    SeriesWindow.series == "hashtag:#daily"
                )
            ).all()
        )
        stored = session.scalar(select(func.count()).select_from(SignalEvent))
    assert (first.accepted, first.duplicates) == (30, 0)
    assert (again.accepted, again.duplicates) == (0, 20)
    assert stored == 30
    assert sorted(counts.values()) == [10.0, 10.0, 10.0]
    with pytest.raises(Forbidden), transaction(db) as session:
        service.ingest(session, VIEWER, [signal(99, 0)], clock.now())


def quiet_week_then_burst(burst_minute: int) -> list[Signal]:
    """A week of ~3 reports a minute on one tag, then re-uploads of a media cluster surge."""
    rng = np.random.default_rng(7)
    events: list[Signal] = []
    n = 0
    for minute in range(burst_minute + 30):
        for _ in range(int(rng.poisson(3))):
            events.append(signal(n, minute + 0.5))
            n += 1
        if minute >= burst_minute:
            for _ in range(60):
                events.append(
                    signal(
                        n,
                        minute + 0.2,
                        tag="#attackclip",
                        harm="violent_extremism",
                        region="AT",
                        cluster="cluster-7f3a",
                    )
                )
                n += 1
    return events


def test_a_burst_raises_one_alert_with_its_evidence_and_promotes(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    burst = 2 * 24 * 60
    events = quiet_week_then_burst(burst)
    engine = service.DetectionEngine(service.DetectionSettings(replay=timedelta(days=3)))
    with transaction(db) as session:
        service.ingest(session, RESPONDER, events, clock.now())
    with transaction(db) as session:
        # Detection catches up over the stored history, a few hours per run.
        for _ in range(20):
            service.detect(session, engine, clock.now())
        alerts = service.list_alerts(session, ADMIN)
        assert len(alerts) == 1, [a.title for a in alerts]
        alert = alerts[0]
        facts = service.evidence(session, alert)
    assert alert.harm_type == "violent_extremism"
    assert alert.regions == ["AT"]
    assert alert.first_seen <= START + timedelta(minutes=burst + 2)
    assert {"hashtag:#attackclip", "media_cluster:cluster-7f3a"} <= set(alert.series)
    assert "hashtag:#daily" not in alert.series
    assert facts["top_content"]
    assert facts["top_accounts"]
    window = facts["windows"][0]
    assert window["count"] > 10 * max(window["expected"], 1)
    assert window["recent"]

    with transaction(db) as session:
        acked = service.acknowledge(session, RESPONDER, alert.id, clock.now())
        assert acked.status == "acknowledged"
        promoted, key = service.promote(session, RESPONDER, alert.id, {}, clock.now())
        incident = incidents.get_incident(session, ADMIN, key)
        notes = [e.text for e in incidents.timeline(session, ADMIN, key)]
    assert promoted.status == "promoted"
    assert promoted.incident_key == key
    assert incident.harm_type == "violent_extremism"
    assert incident.regions == ["AT"]
    assert any("Evidence from alert" in text and "cluster-7f3a" in text for text in notes)
    with pytest.raises(Conflict), transaction(db) as session:
        service.dismiss(session, RESPONDER, alert.id, "too late", clock.now())


def test_late_events_are_kept_but_not_counted(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    engine = service.DetectionEngine(service.DetectionSettings(lateness=timedelta(minutes=5)))
    with transaction(db) as session:
        service.ingest(session, RESPONDER, [signal(i, i) for i in range(60)], clock.now())
        service.detect(session, engine, clock.now())
    with transaction(db) as session:
        late = service.ingest(session, RESPONDER, [signal(1000, 1), signal(1001, 58)], clock.now())
        stored = session.scalar(select(func.count()).select_from(SignalEvent))
    assert (late.accepted, late.late) == (2, 1)
    assert stored == 62


def test_child_safety_alerts_are_need_to_know(
    db: sessionmaker[Session], clock: ManualClock
) -> None:
    from rapidresponse.signals.model import Alert
    from tests.conftest import MANAGER

    with transaction(db) as session:
        alert = Alert(
            status="open",
            title="Child sexual exploitation surging in US",
            harm_type="child_sexual_exploitation",
            regions=["US"],
            languages=[],
            series=["harm_region:child_sexual_exploitation|US"],
            score=0.9,
            first_seen=START,
            last_seen=START,
            opened_at=START,
        )
        session.add(alert)
        session.flush()
        alert_id = alert.id
    with transaction(db) as session:
        assert service.list_alerts(session, RESPONDER) == []
        with pytest.raises(NotFound):
            service.get_alert(session, RESPONDER, alert_id)
        assert [a.id for a in service.list_alerts(session, MANAGER)] == [alert_id]

"""Signal use cases: ingest events exactly once, count them per series and minute, detect
emerging surges on closed windows, and keep alerts from open to promoted or dismissed.

Every ingestion path (HTTP NDJSON, files from the CLI, the NATS consumer) calls ``ingest``.
An event is identified by (source, id): inserting it is what dedups it, in the same
transaction as the counts it adds, so a redelivered event is never counted twice. Events
older than the windows already closed are kept (never lost) but marked late and not counted.

Detection runs on windows the watermark (newest event time minus the allowed lateness) has
closed. One ``DetectionEngine`` per worker process keeps a streaming detector per active
series; it is rebuilt by replaying stored counts whenever it is behind the database's cursor
(a restart, or another worker ran detection), so its answers do not depend on which process
ran last. Anomalies are grouped into alerts by ``alerts.group``.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.concurrency import check_version, flush_versioned
from rapidresponse.db import dialect_insert
from rapidresponse.errors import Conflict, InvalidInput, NotFound
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, NoteIn
from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType
from rapidresponse.outbox import service as outbox
from rapidresponse.outbox.worker import SessionHandler
from rapidresponse.settings import Settings
from rapidresponse.signals import alerts as grouping
from rapidresponse.signals.detectors import CountDetector, CountDetectorConfig
from rapidresponse.signals.emergence import NewKeyDetector
from rapidresponse.signals.model import (
    Alert,
    AlertEvidence,
    DetectionCursor,
    SeriesWindow,
    SignalEvent,
)
from rapidresponse.signals.schema import Signal

DETECT_TOPIC = "signals.detect"
EVENTS_TOPIC = "incident.events"
WINDOW = timedelta(minutes=1)
OPEN, ACKNOWLEDGED, PROMOTED, DISMISSED = "open", "acknowledged", "promoted", "dismissed"
ACTIVE = (OPEN, ACKNOWLEDGED)
# Series counts kept in an anomaly's evidence, before and including the anomalous window.
EVIDENCE_MINUTES = 120


@dataclass(frozen=True)
class DetectionSettings:
    lateness: timedelta = timedelta(minutes=10)
    # About 0.1 false alerts per key-day on the crisis simulation (docs/detection.md).
    threshold: float = 0.7
    min_count: float = 2.0
    replay: timedelta = timedelta(days=8)
    max_series: int = 50_000
    # Detect at most this much history per run, so one run stays short after an outage.
    max_span: timedelta = timedelta(hours=6)
    # Keys already active in the first hour of data are not "new": when detection starts
    # every key would otherwise look like it just emerged.
    emergence_warmup: timedelta = timedelta(hours=1)
    group_gap: timedelta = timedelta(hours=1)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    late: int = 0


def series_of(signal: Signal) -> list[str]:
    """The series an event counts in: harm type by region and by language, and its keys."""
    out = [f"harm_region:{signal.harm_type}|{signal.region}"]
    if signal.language:
        out.append(f"harm_language:{signal.harm_type}|{signal.language}")
    out += [f"hashtag:{h}" for h in signal.hashtags]
    out += [f"sound:{s}" for s in signal.sounds]
    if signal.media_cluster:
        out.append(f"media_cluster:{signal.media_cluster}")
    return out


def _family(series: str) -> tuple[str, str]:
    family, _, key = series.partition(":")
    return family, key


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _cursor(session: Session, now: datetime) -> DetectionCursor:
    cursor = session.scalars(select(DetectionCursor).with_for_update()).first()
    if cursor is None:
        cursor = DetectionCursor(id=1, late_events=0, updated_at=now)
        session.add(cursor)
        session.flush()
    return cursor


# ---------------------------------------------------------------- ingestion


def ingest(
    session: Session,
    principal: Principal,
    signals: Sequence[Signal],
    now: datetime,
    *,
    origin: str = "api",
) -> IngestResult:
    """Store new events, count them, and make sure detection runs; duplicates change nothing."""
    require(principal, Role.RESPONDER, "sending signals")
    result = IngestResult()
    unique: dict[tuple[str, str], Signal] = {}
    for signal in signals:
        unique.setdefault((signal.source, signal.id), signal)
    result.duplicates = len(signals) - len(unique)
    if not unique:
        return result
    cursor = _cursor(session, now)
    closed = cursor.closed_until
    rows: list[dict[str, Any]] = []
    for signal in unique.values():
        at = _at(signal.event_time)
        rows.append(
            {
                "source": signal.source,
                "event_id": signal.id,
                "kind": str(signal.kind),
                "harm_type": str(signal.harm_type),
                "region": signal.region,
                "language": signal.language,
                "surface": str(signal.surface) if signal.surface else None,
                "content_id": signal.content_id,
                "account_id": signal.account_id,
                "series": series_of(signal),
                "weight": signal.weight,
                "event_time": at,
                "late": closed is not None and at < closed,
                "received_at": now,
            }
        )
    inserted: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 2000):
        statement = (
            dialect_insert(session, SignalEvent)
            .values(rows[start : start + 2000])
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(SignalEvent.source, SignalEvent.event_id)
        )
        inserted |= {(s, e) for s, e in session.execute(statement).all()}
    counts: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
    newest = cursor.max_event_time
    for row in rows:
        if (row["source"], row["event_id"]) not in inserted:
            result.duplicates += 1
            continue
        result.accepted += 1
        if row["late"]:
            result.late += 1
            continue
        window = _minute(row["event_time"])
        for series in row["series"]:
            entry = counts[(series, window)]
            entry[0] += row["weight"]
            entry[1] += 1
        if newest is None or row["event_time"] > newest:
            newest = row["event_time"]
    if counts:
        values = [
            {"series": s, "window_start": w, "count": c, "events": n}
            for (s, w), (c, n) in sorted(counts.items())
        ]
        for start in range(0, len(values), 2000):
            statement = dialect_insert(session, SeriesWindow).values(values[start : start + 2000])
            statement = statement.on_conflict_do_update(
                index_elements=["series", "window_start"],
                set_={
                    "count": SeriesWindow.count + statement.excluded.count,
                    "events": SeriesWindow.events + statement.excluded.events,
                },
            )
            session.execute(statement)
    cursor.max_event_time = newest
    cursor.late_events += result.late
    cursor.updated_at = now
    if result.accepted:
        due = _minute(now) + WINDOW
        outbox.schedule(
            session,
            DETECT_TOPIC,
            {},
            due_at=due,
            key=f"signals:detect:{int(due.timestamp())}",
            now=now,
        )
    audit.record(
        session,
        actor=principal.subject,
        action="signals.ingested",
        entity_type="signal_batch",
        entity_id=origin,
        before=None,
        after={
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "late": result.late,
            "sources": sorted({s.source for s in unique.values()})[:20],
        },
        at=now,
    )
    return result


# ---------------------------------------------------------------- detection


@dataclass
class _Series:
    """One series' detectors: the seasonal count detector for established keys, and the
    emergence detector for keys with little history (their first counts would otherwise
    become their own baseline)."""

    detector: CountDetector
    emergence: NewKeyDetector = field(default_factory=NewKeyDetector)
    recent: deque[tuple[float, float, float]] = field(
        default_factory=lambda: deque(maxlen=EVIDENCE_MINUTES)
    )
    last_active: float = 0.0
    first_seen: float | None = None


class DetectionEngine:
    """Streaming detectors for the active series, in this process (bounded by max_series)."""

    def __init__(self, settings: DetectionSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        self.series: dict[str, _Series] = {}
        self.closed_until: datetime | None = None
        # The first window of data this engine knows of (see emergence_warmup).
        self.origin: datetime | None = None

    def _track(self, name: str) -> _Series:
        entry = self.series.get(name)
        if entry is None:
            if len(self.series) >= self.settings.max_series:
                # Forget the series idle longest; if it comes back it relearns its baseline.
                idle = min(self.series, key=lambda s: self.series[s].last_active)
                del self.series[idle]
            entry = _Series(CountDetector(CountDetectorConfig()))
            self.series[name] = entry
        return entry

    def step(
        self, counts: dict[str, dict[datetime, float]], start: datetime, end: datetime
    ) -> list[tuple[grouping.Anomaly, list[tuple[float, float, float]]]]:
        """Feed every minute of [start, end) to every tracked series; return anomalies."""
        for name in counts:
            self._track(name)
        found = []
        minute = start
        idle_after = 24 * 3600.0
        origin = (self.origin or start).timestamp()
        warmup = self.settings.emergence_warmup.total_seconds()
        while minute < end:
            t = minute.timestamp()
            for name, entry in list(self.series.items()):
                value = counts.get(name, {}).get(minute, 0.0)
                if value > 0:
                    entry.last_active = t
                    if entry.first_seen is None:
                        entry.first_seen = t
                elif t - entry.last_active > idle_after and entry.last_active:
                    # A key silent for a day stops costing a detector; it relearns if it returns.
                    del self.series[name]
                    continue
                expected = entry.detector.expected(t)
                score = entry.detector.update(t, value)
                emerging = entry.emergence.update(t, value)
                if entry.first_seen is not None and entry.first_seen - origin >= warmup:
                    score = max(score, emerging)
                mu = expected[0] if expected else 0.0
                entry.recent.append((t, value, mu))
                if score >= self.settings.threshold and value >= self.settings.min_count:
                    family, key = _family(name)
                    found.append(
                        (
                            grouping.Anomaly(family, key, t, value, mu, score),
                            list(entry.recent),
                        )
                    )
            minute += WINDOW
        self.closed_until = end
        return found


def _window_counts(
    session: Session, start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    counts: dict[str, dict[datetime, float]] = defaultdict(dict)
    for name, window, count in session.execute(
        select(SeriesWindow.series, SeriesWindow.window_start, SeriesWindow.count).where(
            SeriesWindow.window_start >= start, SeriesWindow.window_start < end
        )
    ):
        counts[name][window] = count
    return counts


def _catch_up(session: Session, engine: DetectionEngine, start: datetime) -> None:
    """Bring the engine to ``start`` by replaying stored counts (no alerts while replaying)."""
    if engine.closed_until == start:
        return
    fresh = DetectionEngine(engine.settings)
    first = session.scalar(select(func.min(SeriesWindow.window_start)))
    fresh.origin = _minute(first) if first is not None else start
    if first is not None:
        begin = max(_minute(first), start - engine.settings.replay)
        span = timedelta(hours=6)
        while begin < start:
            end = min(begin + span, start)
            fresh.step(_window_counts(session, begin, end), begin, end)
            begin = end
    engine.series, engine.closed_until, engine.origin = fresh.series, start, fresh.origin


def detect(session: Session, engine: DetectionEngine, now: datetime) -> list[Alert]:
    """Close the windows the watermark has passed, detect on them, open or grow alerts."""
    settings = engine.settings
    cursor = _cursor(session, now)
    if cursor.max_event_time is None:
        return []
    watermark = _minute(cursor.max_event_time - settings.lateness)
    start = cursor.closed_until
    if start is None:
        first = session.scalar(select(func.min(SeriesWindow.window_start)))
        if first is None:
            return []
        start = _minute(first)
    end = min(watermark, start + settings.max_span)
    if end <= start:
        return []
    _catch_up(session, engine, start)
    found = engine.step(_window_counts(session, start, end), start, end)
    cursor.closed_until, cursor.updated_at = end, now
    touched = _raise_alerts(session, found, start, end, now, settings) if found else []
    if end < watermark:
        # More closed windows remain (after an outage): continue in the next run.
        outbox.schedule(
            session,
            DETECT_TOPIC,
            {},
            due_at=now,
            key=f"signals:detect:catchup:{int(end.timestamp())}",
            now=now,
        )
    return touched


def _links(
    session: Session, anomalous: set[str], start: datetime, end: datetime
) -> dict[str, set[str]]:
    """Which anomalous series the same events carried together, in the windows detected."""
    links: dict[str, set[str]] = defaultdict(set)
    rows = session.scalars(
        select(SignalEvent.series)
        .where(SignalEvent.event_time >= start, SignalEvent.event_time < end)
        .limit(200_000)
    )
    for series in rows:
        present = anomalous.intersection(series)
        if len(present) > 1:
            for name in present:
                links[name] |= present - {name}
    return links


def _raise_alerts(
    session: Session,
    found: list[tuple[grouping.Anomaly, list[tuple[float, float, float]]]],
    start: datetime,
    end: datetime,
    now: datetime,
    settings: DetectionSettings,
) -> list[Alert]:
    recent = {(a.series, a.window_start): history for a, history in found}
    anomalies = [a for a, _ in found]
    links = _links(session, {a.series for a in anomalies}, start, end)
    active = list(session.scalars(select(Alert).where(Alert.status.in_(ACTIVE)).order_by(Alert.id)))
    open_alerts = [
        grouping.OpenAlert(
            alert.id,
            set(alert.series),
            {alert.harm_type} if alert.harm_type else set(),
            alert.last_seen.timestamp(),
            acknowledged=alert.status == ACKNOWLEDGED,
        )
        for alert in active
    ]
    by_id = {alert.id: alert for alert in active}
    touched = []
    for assignment in grouping.group(
        anomalies, open_alerts, links, gap_seconds=settings.group_gap.total_seconds()
    ):
        members = assignment.anomalies
        if assignment.alert_id is None:
            alert = Alert(
                status=OPEN,
                title="",
                series=[],
                regions=[],
                languages=[],
                score=0.0,
                first_seen=_at(min(m.window_start for m in members)),
                last_seen=_at(max(m.window_start for m in members)),
                opened_at=now,
            )
            session.add(alert)
            before = None
        else:
            alert = by_id[assignment.alert_id]
            before = audit.snapshot(alert)
        series = list(dict.fromkeys([*alert.series, *(m.series for m in members)]))
        evidence = [grouping.Anomaly(*_family(s), 0, 0, 0, 0) for s in alert.series] + members
        alert.series = series
        alert.harm_type = alert.harm_type or grouping.dominant_harm_type(members)
        alert.regions = sorted(set(alert.regions) | set(grouping.regions_of(evidence)))
        alert.languages = sorted(set(alert.languages) | set(grouping.languages_of(evidence)))
        alert.score = max(alert.score, *(m.score for m in members))
        alert.last_seen = max(alert.last_seen, _at(max(m.window_start for m in members)))
        alert.title = _title(alert)
        session.flush()
        for m in members:
            session.add(
                AlertEvidence(
                    alert_id=alert.id,
                    series=m.series,
                    window_start=_at(m.window_start),
                    count=m.count,
                    expected=m.expected,
                    score=m.score,
                    details={"recent": recent.get((m.series, m.window_start), [])},
                )
            )
        audit.record(
            session,
            actor="rapidresponse",
            action="signals.alert_opened" if before is None else "signals.alert_grew",
            entity_type="signal_alert",
            entity_id=alert.id,
            before=before,
            after=audit.snapshot(alert),
            at=now,
        )
        if assignment.notify:
            outbox.enqueue(
                session,
                EVENTS_TOPIC,
                audit.jsonable(
                    {
                        "event": "alert_opened" if before is None else "alert_grew",
                        "alert": alert.id,
                        "title": alert.title,
                        "at": now,
                    }
                ),
                now,
            )
        touched.append(alert)
    return touched


def _title(alert: Alert) -> str:
    harm = HARM_TYPES[HarmType(alert.harm_type)].label if alert.harm_type else "Surge"
    keys = [s.split(":", 1)[1] for s in alert.series if not s.startswith("harm_")][:3]
    where = f" in {', '.join(alert.regions[:6])}" if alert.regions else ""
    return (f"{harm} surging{where}" + (f" ({', '.join(keys)})" if keys else ""))[:300]


# ---------------------------------------------------------------- alerts


def cursor_position(session: Session) -> datetime | None:
    """Where detection stands: windows before this are closed."""
    return session.scalar(select(DetectionCursor.closed_until))


def alert_dict(alert: Alert) -> dict[str, Any]:
    """An alert as plain JSON values (CLI output)."""
    return {
        column: audit.jsonable(getattr(alert, column))
        for column in (
            "id",
            "status",
            "title",
            "harm_type",
            "regions",
            "languages",
            "series",
            "score",
            "first_seen",
            "last_seen",
            "opened_at",
            "acknowledged_by",
            "dismissed_by",
            "dismiss_reason",
            "incident_key",
            "version",
        )
    }


# Alerts about harm types whose incidents are need-to-know (child sexual exploitation) name
# content and accounts; only incident managers and admins see them.
RESTRICTED_HARM_TYPES = [h.value for h, info in HARM_TYPES.items() if info.restricted_by_default]


def _may_see_restricted(principal: Principal) -> bool:
    return principal.has(Role.INCIDENT_MANAGER)


def list_alerts(
    session: Session, principal: Principal, status: Sequence[str] = (), limit: int = 100
) -> list[Alert]:
    query = select(Alert)
    if status:
        query = query.where(Alert.status.in_(list(status)))
    if not _may_see_restricted(principal):
        query = query.where(
            Alert.harm_type.is_(None) | Alert.harm_type.not_in(RESTRICTED_HARM_TYPES)
        )
    return list(
        session.scalars(query.order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(limit))
    )


def get_alert(session: Session, principal: Principal, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or (
        alert.harm_type in RESTRICTED_HARM_TYPES and not _may_see_restricted(principal)
    ):
        raise NotFound(f"no alert {alert_id}")
    return alert


def evidence(session: Session, alert: Alert, top: int = 20) -> dict[str, Any]:
    """What an alert rests on: the anomalous windows with their series and baseline, the
    series contributing most, and the content and accounts behind them."""
    rows = list(
        session.scalars(
            select(AlertEvidence)
            .where(AlertEvidence.alert_id == alert.id)
            .order_by(AlertEvidence.window_start, AlertEvidence.id)
        )
    )
    excess: dict[str, float] = defaultdict(float)
    for row in rows:
        excess[row.series] += max(row.count - row.expected, 0.0)
    ranked = sorted(excess.items(), key=lambda item: (-item[1], item[0]))[:top]
    series = set(alert.series)
    contents: Counter[str] = Counter()
    accounts: Counter[str] = Counter()
    for content_id, account_id, carried in session.execute(
        select(SignalEvent.content_id, SignalEvent.account_id, SignalEvent.series)
        .where(
            SignalEvent.event_time >= alert.first_seen,
            SignalEvent.event_time < alert.last_seen + WINDOW,
        )
        .limit(200_000)
    ):
        if series.intersection(carried):
            contents[content_id] += 1
            if account_id:
                accounts[account_id] += 1
    return {
        "windows": [
            {
                "series": r.series,
                "window_start": r.window_start,
                "count": r.count,
                "expected": round(r.expected, 3),
                "score": round(r.score, 4),
                "recent": [
                    {"t": _at(t), "count": c, "expected": round(e, 3)}
                    for t, c, e in r.details.get("recent", [])
                ],
            }
            for r in rows
        ],
        "top_series": [{"series": s, "excess": round(x, 1)} for s, x in ranked],
        "top_content": [{"content_id": c, "events": n} for c, n in contents.most_common(top)],
        "top_accounts": [{"account_id": a, "events": n} for a, n in accounts.most_common(top)],
    }


def _change(
    session: Session,
    principal: Principal,
    alert_id: int,
    version: int | None,
    allowed: Iterable[str],
    what: str,
) -> tuple[Alert, dict[str, Any]]:
    require(principal, Role.RESPONDER, what)
    alert = get_alert(session, principal, alert_id)
    if version is not None:
        check_version(alert.version, version, f"alert {alert_id}")
    if alert.status not in set(allowed):
        raise Conflict(f"alert {alert_id} is {alert.status}; cannot {what}")
    return alert, audit.snapshot(alert)


def _record(
    session: Session,
    principal: Principal,
    alert: Alert,
    action: str,
    before: dict[str, Any],
    now: datetime,
) -> None:
    flush_versioned(session, f"alert {alert.id}")
    audit.record(
        session,
        actor=principal.subject,
        action=f"signals.alert_{action}",
        entity_type="signal_alert",
        entity_id=alert.id,
        before=before,
        after=audit.snapshot(alert),
        at=now,
    )


def acknowledge(
    session: Session, principal: Principal, alert_id: int, now: datetime, version: int | None = None
) -> Alert:
    """Someone is on it: the alert keeps growing but stops notifying."""
    alert, before = _change(session, principal, alert_id, version, (OPEN,), "acknowledge it")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = (
        ACKNOWLEDGED,
        principal.subject,
        now,
    )
    _record(session, principal, alert, "acknowledged", before, now)
    return alert


def dismiss(
    session: Session,
    principal: Principal,
    alert_id: int,
    reason: str,
    now: datetime,
    version: int | None = None,
) -> Alert:
    """Not an incident; the reason is kept for tuning the detectors."""
    alert, before = _change(session, principal, alert_id, version, ACTIVE, "dismiss it")
    alert.status, alert.dismissed_by, alert.dismissed_at = DISMISSED, principal.subject, now
    alert.dismiss_reason = reason
    _record(session, principal, alert, "dismissed", before, now)
    return alert


def promote(
    session: Session,
    principal: Principal,
    alert_id: int,
    overrides: dict[str, Any],
    now: datetime,
    version: int | None = None,
) -> tuple[Alert, str]:
    """Declare an incident from the alert: harm type, regions, languages and evidence filled in."""
    alert, before = _change(session, principal, alert_id, version, ACTIVE, "promote it")
    facts = evidence(session, alert, top=10)
    harm_type = overrides.get("harm_type") or alert.harm_type
    if not harm_type:
        raise InvalidInput("harm_type: the alert has no harm type; give one to promote it")
    regions = overrides.get("regions") or alert.regions
    if not regions:
        raise InvalidInput("regions: the alert names no region; give at least one")
    keys = ", ".join(s["series"].split(":", 1)[1] for s in facts["top_series"][:5])
    summary = (
        f"Promoted from alert #{alert.id}: {alert.title}. First anomalous window "
        f"{alert.first_seen:%Y-%m-%d %H:%M} UTC, last {alert.last_seen:%Y-%m-%d %H:%M} UTC. "
        f"Top series: {keys}."
    )
    body = {
        "title": overrides.get("title") or alert.title,
        "summary": overrides.get("summary") or summary,
        "harm_type": harm_type,
        "regions": regions,
        "languages": overrides.get("languages", alert.languages),
        "detected_at": alert.first_seen,
    }
    incident = incidents.declare(session, principal, IncidentCreate.model_validate(body), now)
    top = ", ".join(c["content_id"] for c in facts["top_content"][:10])
    accounts = ", ".join(a["account_id"] for a in facts["top_accounts"][:10])
    incidents.add_note(
        session,
        principal,
        incident.key,
        NoteIn(
            text=(
                f"Evidence from alert #{alert.id} (score {alert.score:.2f}): "
                + "; ".join(
                    f"{s['series']} +{s['excess']:g} over baseline" for s in facts["top_series"][:8]
                )
                + (f". Top content: {top}" if top else "")
                + (f". Top accounts: {accounts}" if accounts else "")
            )[:4000]
        ),
        now,
    )
    alert.status, alert.incident_key = PROMOTED, incident.key
    alert.promoted_by, alert.promoted_at = principal.subject, now
    _record(session, principal, alert, "promoted", before, now)
    return alert, incident.key


def detection_settings(settings: Settings) -> DetectionSettings:
    return DetectionSettings(
        lateness=timedelta(seconds=settings.signal_lateness_seconds),
        threshold=settings.alert_threshold,
        min_count=settings.alert_min_count,
    )


def session_handlers(settings: DetectionSettings | None = None) -> dict[str, SessionHandler]:
    """Detection as a timer (registered in outbox/handlers.py), one engine per process."""
    engine = DetectionEngine(settings)

    def run(session: Session, payload: dict[str, Any], now: datetime) -> None:
        detect(session, engine, now)

    return {DETECT_TOPIC: run}

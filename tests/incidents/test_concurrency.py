"""Two incident managers editing the same incident at once: one wins, the other is told."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from rapidresponse.db import transaction
from rapidresponse.errors import StaleVersion
from rapidresponse.incidents import service
from rapidresponse.incidents.schemas import IncidentCreate, IncidentPatch
from tests.conftest import MANAGER, incident_body


def _declare(db, clock) -> str:
    with transaction(db) as session:
        return service.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), clock.now()
        ).key


def test_racing_edits_from_the_same_version_one_wins(db, clock):
    key = _declare(db, clock)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(title: str) -> None:
        barrier.wait()
        try:
            with transaction(db) as session:
                service.update(session, MANAGER, key, IncidentPatch(title=title), 1, clock.now())
            outcomes[title] = "saved"
        except StaleVersion:
            outcomes[title] = "stale"

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["saved", "stale"]
    winner = next(t for t, o in outcomes.items() if o == "saved")
    with transaction(db) as session:
        incident = service.get_incident(session, MANAGER, key)
        assert (incident.title, incident.version) == (winner, 2)


@pytest.mark.only_postgresql
def test_interleaved_sessions_on_postgresql_detect_the_lost_update(db, clock, engine):
    """Both read version 1 before either writes; the row-version check stops the second.

    (SQLite cannot interleave like this: BEGIN IMMEDIATE serialises its writers.)
    """
    assert engine.dialect.name == "postgresql"
    key = _declare(db, clock)
    first: Session = db()
    second: Session = db()
    try:
        first.begin()
        second.begin()
        a = service.get_incident(first, MANAGER, key)
        b = service.get_incident(second, MANAGER, key)
        assert a.version == b.version == 1
        service.update(first, MANAGER, key, IncidentPatch(title="first"), 1, clock.now())
        first.commit()
        with pytest.raises(StaleVersion):
            service.update(second, MANAGER, key, IncidentPatch(title="second"), 1, clock.now())
        second.rollback()
    finally:
        first.close()
        second.close()
    with transaction(db) as session:
        assert service.get_incident(session, MANAGER, key).title == "first"

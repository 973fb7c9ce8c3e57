"""The audit log on a real database: every write is recorded, and tampering is detected."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Role
from rapidresponse.cli import app as cli_app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, NoteIn
from tests.conftest import MANAGER, incident_body


@pytest.fixture
def populated(client, headers):
    """A handful of audited writes made through the API."""
    r = client.post("/api/v1/incidents", json=incident_body(), headers=headers(Role.RESPONDER))
    key = r.json()["key"]
    client.post(
        f"/api/v1/incidents/{key}/transitions",
        json={"to": "triaged"},
        headers=headers(Role.INCIDENT_MANAGER),
    )
    client.post(
        f"/api/v1/incidents/{key}/timeline", json={"text": "note"}, headers=headers(Role.RESPONDER)
    )
    return key


def verify_via_api(client, headers):
    r = client.get("/api/v1/audit/verify", headers=headers(Role.ADMIN))
    assert r.status_code == 200
    return r.json()


def test_every_write_is_audited_with_before_and_after(client, headers, populated):
    entries = client.get("/api/v1/audit?limit=1000", headers=headers(Role.ADMIN)).json()
    actions = [e["action"] for e in reversed(entries)]
    tasks = client.get(f"/api/v1/incidents/{populated}/tasks", headers=headers(Role.VIEWER))
    planned = len(tasks.json())
    assert planned > 0
    # four tokens from the fixture, then the declaration with its playbook's tasks, then edits
    assert actions == ["token.issued"] * 4 + ["incident.declared"] + [
        "incident.task_planned"
    ] * planned + [
        "incident.playbook_planned",
        "incident.status_changed",
        "incident.note_added",
    ]
    change = next(e for e in entries if e["action"] == "incident.status_changed")
    assert change["actor"] == "manager-user"
    assert change["before"]["status"] == "detected"
    assert change["after"]["status"] == "triaged"
    assert all("secret_sha256" not in (e["after"] or {}) for e in entries)
    assert verify_via_api(client, headers) == {
        "ok": True,
        "entries": len(actions),
        "problems": [],
    }


def test_failed_write_leaves_no_audit_entry(client, headers, populated):
    before = verify_via_api(client, headers)["entries"]
    r = client.post(
        f"/api/v1/incidents/{populated}/transitions",
        json={"to": "closed"},
        headers=headers(Role.INCIDENT_MANAGER),
    )
    assert r.status_code == 409
    assert verify_via_api(client, headers)["entries"] == before


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 5", (5, "edited")),
        ("UPDATE audit_entry SET after = NULL WHERE seq = 6", (6, "edited")),
        ("DELETE FROM audit_entry WHERE seq = 3", (4, "missing")),
        (
            "DELETE FROM audit_entry WHERE seq = (SELECT MAX(seq) FROM audit_entry)",
            ("last", "deleted from the end"),
        ),
    ],
)
def test_tampering_is_detected_by_api_and_cli(
    client, headers, populated, engine, app_settings, clock, statement, expected
):
    with engine.begin() as connection:
        connection.execute(text(statement))
    report = verify_via_api(client, headers)
    assert report["ok"] is False
    seq, word = expected
    if seq == "last":
        seq = report["entries"] + 1  # the head still points at the deleted entry
    assert any(p["seq"] == seq and word in p["problem"] for p in report["problems"]), report

    set_context(CliContext(settings=app_settings, clock=clock))
    try:
        result = CliRunner().invoke(cli_app, ["audit", "verify"])
    finally:
        set_context(None)
    assert result.exit_code == 1
    assert "TAMPERED" in result.output


def test_recomputing_a_hash_after_an_edit_still_breaks_the_chain(
    client, headers, populated, engine
):
    """A forger who edits an entry and fixes its hash breaks the next entry's link."""
    with transaction_for(engine) as session:
        entry = session.get(audit.AuditEntry, 5)
        entry.actor = "forger"
        from rapidresponse.audit.chain import ChainRecord, compute_hash

        entry.hash = compute_hash(
            ChainRecord(
                entry.seq,
                entry.at,
                entry.actor,
                entry.action,
                entry.entity_type,
                entry.entity_id,
                entry.before,
                entry.after,
                entry.prev_hash,
            )
        )
    report = verify_via_api(client, headers)
    assert not report["ok"]
    assert any(p["seq"] == 6 and "prev_hash" in p["problem"] for p in report["problems"])


def transaction_for(engine):
    from rapidresponse.db import make_session_factory

    return transaction(make_session_factory(engine))


def test_concurrent_writers_never_fork_the_chain(db, clock):
    """Eight threads declaring and annotating at once leave one unbroken chain."""
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                with transaction(db) as session:
                    incident = incidents.declare(
                        session,
                        MANAGER,
                        IncidentCreate.model_validate(incident_body(title=f"t{n}-{i}")),
                        clock.now(),
                    )
                    incidents.add_note(
                        session, MANAGER, incident.key, NoteIn(text="x"), clock.now()
                    )
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(db) as session:
        report = audit.verify_log(session)
    assert report.ok, report.problems
    with transaction(db) as session:
        actions = [e.action for e in audit.list_entries(session, limit=100_000)]
    assert actions.count("incident.declared") == 40
    assert actions.count("incident.note_added") == 40
    assert report.entries == len(actions)
    with transaction(db) as session:
        keys = [
            i.key
            for i in incidents.list_incidents(
                session, MANAGER, incidents.IncidentFilter(), 1000, 0
            )[0]
        ]
    assert len(set(keys)) == 40

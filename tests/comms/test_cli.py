"""`rapidresponse comms …` against a real database: tables for people, JSON for scripts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from rapidresponse.cli import app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import ParticipantIn
from tests.conftest import MANAGER


def said(result) -> str:
    """What the command printed, with the terminal's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def rr(db, comms_settings, clock):
    set_context(
        CliContext(settings=comms_settings.model_copy(update={"actor": "alice"}), clock=clock)
    )
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    set_context(None)


def test_statement_workflow_from_the_terminal(rr, db, clock, incident, worker, smtp):
    mailbox, _ = smtp
    drafted = json.loads(
        rr(
            "comms",
            "compose",
            incident,
            "--kind",
            "external_statement",
            "--to",
            "email:press@example.org",
            "--json",
        ).stdout
    )
    update_id = str(drafted["id"])
    assert drafted["status"] == "draft"
    assert drafted["recipients"] == [{"channel": "email", "target": "press@example.org"}]

    table = rr("comms", "list", incident).stdout
    assert "external_statement" in table
    assert "draft" in table

    refused = rr("comms", "publish", incident, update_id, ok=False)
    assert refused.exit_code == 2
    assert "needs approval by PR and Legal" in said(refused)

    rr("comms", "submit", incident, update_id)
    # The CLI acts as an admin ("alice"): it may approve as one function, not both.
    approved = json.loads(
        rr("comms", "approve", incident, update_id, "--as", "pr", "--json").stdout
    )
    assert approved["approvals"][0]["on_behalf"] is True
    twice = rr("comms", "approve", incident, update_id, "--as", "legal", ok=False)
    assert "cannot approve as both PR and Legal" in said(twice)

    with transaction(db) as session:  # Legal, in the incident's legal role
        incidents.add_participant(
            session, MANAGER, incident, ParticipantIn(user="lee", role="legal"), clock.now()
        )
    from rapidresponse.comms import service as comms
    from rapidresponse.comms.schemas import ApprovalIn
    from tests.comms.conftest import principal

    with transaction(db) as session:
        comms.approve(
            session,
            principal("lee"),
            incident,
            int(update_id),
            ApprovalIn(function="legal"),
            approved["version"],
            clock.now(),
        )

    published = json.loads(rr("comms", "publish", incident, update_id, "--json").stdout)
    assert published["status"] == "published"
    shown = rr("comms", "show", incident, update_id).stdout
    for expected in ("published", "lee", "(admin as)"):
        assert expected in shown

    worker.drain()
    [message] = mailbox.messages
    assert message["To"] == "press@example.org"
    deliveries = json.loads(rr("comms", "deliveries", "--incident", incident, "--json").stdout)
    assert [(d["target"], d["status"]) for d in deliveries] == [("press@example.org", "sent")]
    assert "press@example.org" in rr("comms", "deliveries", "--status", "sent").stdout


def test_edit_and_send_an_internal_update(rr, incident, tmp_path):
    drafted = json.loads(
        rr("comms", "compose", incident, "--kind", "internal_update", "--json").stdout
    )
    update_id = str(drafted["id"])
    body = tmp_path / "update.md"
    body.write_text("Containment holding; next update at 11:00 UTC.\n")
    edited = json.loads(
        rr(
            "comms",
            "edit",
            incident,
            update_id,
            "--body-file",
            str(body),
            "--to",
            "email:leads@example.org",
            "--json",
        ).stdout
    )
    assert edited["body"] == "Containment holding; next update at 11:00 UTC.\n"
    stale = rr(
        "comms", "edit", incident, update_id, "--title", "x", "--expect-version", "1", ok=False
    )
    assert stale.exit_code == 2
    assert "version" in said(stale)
    bad = rr("comms", "edit", incident, update_id, "--to", "leads@example.org", ok=False)
    assert "channel:target" in said(bad)
    sent = json.loads(rr("comms", "send", incident, update_id, "--json").stdout)
    assert sent["status"] == "sent"
    assert sent["deliveries"][0]["status"] == "queued"


def test_cadence_from_the_terminal(rr, clock, incident, worker):
    set_ = json.loads(rr("comms", "cadence", incident, "--every", "45m", "--json").stdout)
    assert set_["every_minutes"] == 45
    assert set_["next_update_due_at"] == "2026-11-25T10:45:00Z"
    clock.advance(timedelta(minutes=50))
    worker.drain()
    shown = rr("comms", "cadence", incident).stdout
    for expected in ("every 45 min", "overdue", "1 reminder"):
        assert expected in shown
    assert "1h30m" not in rr("comms", "cadence", incident, "--every", "1h30m").stdout
    assert json.loads(rr("comms", "cadence", incident, "--json").stdout)["every_minutes"] == 90
    assert "reminders stopped" in rr("comms", "cadence", incident, "--stop").stdout
    wrong = rr("comms", "cadence", incident, "--every", "soon", ok=False)
    assert "30m, 1h, 1h30m" in said(wrong)

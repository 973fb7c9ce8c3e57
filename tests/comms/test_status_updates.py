"""Status updates through the API: templates with live facts, PR + Legal approval, sending."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapidresponse.audit import service as audit
from rapidresponse.auth.policy import Role
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import TimelineKind
from tests.conftest import MANAGER

API = "/api/v1"


@pytest.fixture
def people(client, headers, token_for, incident):
    """PR and Legal on the incident, with their own tokens, plus people who may not approve."""
    admin = headers(Role.ADMIN)
    for user, role in (
        ("pr-person", "communications"),
        ("legal-person", "legal"),
        ("both-hats", "communications"),
        ("both-hats", "legal"),
        ("legal-viewer", "legal"),
    ):
        response = client.post(
            f"{API}/incidents/{incident}/participants",
            json={"user": user, "role": role},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    return {
        "pr": token_for("pr-person", Role.RESPONDER),
        "legal": token_for("legal-person", Role.RESPONDER),
        "both": token_for("both-hats", Role.RESPONDER),
        "legal_viewer": token_for("legal-viewer", Role.VIEWER),
        "outsider": token_for("outsider", Role.RESPONDER),
        "manager": headers(Role.INCIDENT_MANAGER),
        "responder": headers(Role.RESPONDER),
        "admin": admin,
    }


def _compose(client, auth, key, kind, **extra):
    response = client.post(
        f"{API}/incidents/{key}/comms/updates", json={"kind": kind, **extra}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()


def _step(client, auth, key, update, step, body=None, version=None):
    headers = dict(auth)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(
        f"{API}/incidents/{key}/comms/updates/{update['id']}/{step}", json=body, headers=headers
    )


def _approve(client, auth, key, update, function, version=None):
    return _step(
        client,
        auth,
        key,
        update,
        "approvals",
        {"function": function},
        version or update["version"],
    )


def _get(client, auth, key, update):
    response = client.get(f"{API}/incidents/{key}/comms/updates/{update['id']}", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    return response.json()


def _communication_log(db, key):
    with transaction(db) as session:
        return [
            e.text for e in incidents.timeline(session, MANAGER, key, [TimelineKind.COMMUNICATION])
        ]


# ---------------------------------------------------------------- templates, live facts


def test_internal_update_is_drafted_from_the_incidents_live_facts(client, headers, clock, incident):
    manager = headers(Role.INCIDENT_MANAGER)
    task = client.post(
        f"{API}/incidents/{incident}/tasks",
        json={
            "title": "Hash the attack footage",
            "owner": "responder-user",
            "due_at": (clock.now() + timedelta(minutes=10)).isoformat(),
        },
        headers=manager,
    )
    assert task.status_code == 201
    client.post(
        f"{API}/incidents/{incident}/timeline",
        json={"text": "Geo-restrict re-uploads in DE", "decision": True},
        headers=manager,
    )
    clock.advance(timedelta(minutes=25))

    update = _compose(
        client, headers(Role.RESPONDER), incident, "internal_update", audience="T&S leadership"
    )
    assert update["status"] == "draft"
    assert update["kind"] == "internal_update"
    assert update["template"] == "internal_update.md.j2"
    live = client.get(f"{API}/incidents/{incident}", headers=manager).json()
    assert update["title"] == (
        f"[{live['severity']['level']}] {incident} update #1: {live['title']}"
    )
    body = update["body"]
    assert live["summary"] in body
    assert "Views so far: 250,000 (40,000 per hour)" in body
    assert "Incident commander: manager-user" in body
    assert "Communications: comms-user" in body
    assert "Legal: unassigned" in body
    assert (
        "OVERDUE: Hash the attack footage (owner responder-user, due 2026-11-25 10:10 UTC)" in body
    )
    assert "Geo-restrict re-uploads in DE" in body
    assert "As of:** 2026-11-25 10:25 UTC" in body

    # Facts are live: change the incident and the next draft says so.
    client.patch(
        f"{API}/incidents/{incident}",
        json={"title": "Attack footage contained"},
        headers={**manager, "If-Match": f'"{live["version"]}"'},
    )
    again = _compose(client, headers(Role.RESPONDER), incident, "executive_summary")
    assert "Attack footage contained" in again["body"]
    assert again["title"].startswith("Executive summary:")
    tasks = client.get(f"{API}/incidents/{incident}/tasks", headers=manager).json()
    overdue = sum(1 for t in tasks if t["overdue"])
    assert overdue >= 1  # ours, and whatever the playbook planned that is late by now
    assert f"0 of {len(tasks)} tasks done, {overdue} overdue" in again["body"]
    assert f"Tasks: {len(tasks)} open ({overdue} overdue, 0 blocked), 0 done" in body


def test_external_statement_draft_discloses_no_restricted_details(client, headers, incident):
    manager = headers(Role.INCIDENT_MANAGER)
    client.post(
        f"{API}/incidents/{incident}/timeline",
        json={"text": "Uploader account 88812345 linked to a known network"},
        headers=manager,
    )
    statement = _compose(client, headers(Role.RESPONDER), incident, "external_statement")
    text = statement["title"] + "\n" + statement["body"]
    live = client.get(f"{API}/incidents/{incident}", headers=manager).json()
    assert "violent extremist content" in text
    assert "Germany and France" in text
    for secret in (
        incident,
        live["title"],
        live["summary"],
        "manager-user",
        "comms-user",
        "88812345",
        "250,000",
        "250000",
    ):
        assert secret not in text, secret


def test_viewers_cannot_draft_and_restricted_incidents_stay_hidden(client, headers, incident):
    response = client.post(
        f"{API}/incidents/{incident}/comms/updates",
        json={"kind": "internal_update"},
        headers=headers(Role.VIEWER),
    )
    assert response.status_code == 403
    hidden = client.post(
        f"{API}/incidents",
        json={
            "title": "CSE outbreak",
            "harm_type": "child_sexual_exploitation",
            "regions": ["US"],
            "commander": "someone-else",
        },
        headers=headers(Role.ADMIN),
    ).json()["key"]
    for path in ("comms/updates", "comms/cadence"):
        response = client.get(f"{API}/incidents/{hidden}/{path}", headers=headers(Role.RESPONDER))
        assert response.status_code == 404, response.text
    assert (
        client.get(
            f"{API}/comms/deliveries",
            params={"incident": hidden},
            headers=headers(Role.INCIDENT_MANAGER),
        ).status_code
        == 404
    )


# ---------------------------------------------------------------- approvals


def test_external_statement_needs_pr_and_legal_before_it_is_published(db, client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    assert statement["missing_approvals"] == ["pr", "legal"]
    # Not submitted: nothing to approve, and nothing to publish.
    assert _approve(client, people["pr"], incident, statement, "pr").status_code == 409
    assert _step(client, people["manager"], incident, statement, "publish").status_code == 409

    submitted = _step(client, people["responder"], incident, statement, "submit")
    assert submitted.status_code == 200, submitted.text
    statement = submitted.json()
    assert statement["status"] == "pending_approval"
    refused = _step(client, people["manager"], incident, statement, "publish")
    assert refused.status_code == 409
    assert "needs approval by PR and Legal" in refused.json()["detail"]

    approved = _approve(client, people["pr"], incident, statement, "pr")
    assert approved.status_code == 200, approved.text
    assert approved.json()["missing_approvals"] == ["legal"]
    assert approved.json()["status"] == "pending_approval"
    refused = _step(client, people["manager"], incident, statement, "publish")
    assert refused.status_code == 409
    assert "missing: Legal" in refused.json()["detail"]

    # Someone outside the Legal role cannot give Legal's approval.
    assert _approve(client, people["outsider"], incident, statement, "legal").status_code == 403
    assert _approve(client, people["pr"], incident, statement, "pr").status_code == 409

    approved = _approve(client, people["legal"], incident, statement, "legal")
    assert approved.status_code == 200, approved.text
    statement = approved.json()
    assert statement["status"] == "approved"
    assert statement["missing_approvals"] == []
    assert {(a["function"], a["decided_by"], a["valid"]) for a in statement["approvals"]} == {
        ("pr", "pr-person", True),
        ("legal", "legal-person", True),
    }
    # A responder may draft, but publishing is an incident manager's call.
    assert _step(client, people["responder"], incident, statement, "publish").status_code == 403

    published = _step(client, people["manager"], incident, statement, "publish")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["released_by"] == "manager-user"
    # Published is final.
    edit = client.patch(
        f"{API}/incidents/{incident}/comms/updates/{statement['id']}",
        json={"body": "Changed after the fact."},
        headers={**people["manager"], "If-Match": f'"{published.json()["version"]}"'},
    )
    assert edit.status_code == 409

    log = _communication_log(db, incident)
    assert any("submitted for PR and Legal approval" in t for t in log)
    assert any("approved by pr-person for PR; still needs legal" in t for t in log)
    assert any("approved by legal-person for LEGAL; approved by PR and Legal" in t for t in log)
    assert any("published (PR pr-person, LEGAL legal-person)" in t for t in log)
    with transaction(db) as session:
        actions = [
            e.action
            for e in audit.list_entries(
                session, entity_type="comms_status_update", entity_id=str(statement["id"])
            )
        ]
        assert audit.verify_log(session).ok
    assert sorted(actions) == sorted(
        [
            "comms.update_drafted",
            "comms.update_submitted",
            "comms.update_approved",
            "comms.update_approved",
            "comms.update_published",
        ]
    )


def test_the_same_person_cannot_approve_as_both_pr_and_legal(client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    assert _approve(client, people["both"], incident, statement, "pr").status_code == 200
    second = _approve(client, people["both"], incident, statement, "legal")
    assert second.status_code == 403
    assert "cannot approve as both PR and Legal" in second.json()["detail"]
    # An admin acting "as" a function is bound by the same rule.
    assert _approve(client, people["admin"], incident, statement, "legal").status_code == 200
    statement = _get(client, people["admin"], incident, statement)
    assert statement["status"] == "approved"
    legal = next(a for a in statement["approvals"] if a["function"] == "legal")
    assert (legal["decided_by"], legal["on_behalf"]) == ("admin-user", True)


def test_an_admin_cannot_wear_both_hats_either(client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    assert _approve(client, people["admin"], incident, statement, "pr").status_code == 200
    assert _approve(client, people["admin"], incident, statement, "legal").status_code == 403


def test_a_viewer_cannot_approve_even_in_the_legal_role(client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    response = _approve(client, people["legal_viewer"], incident, statement, "legal")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:rapidresponse:problem:forbidden"
    assert _get(client, people["admin"], incident, statement)["approvals"] == []


def test_approving_needs_the_version_read_and_stale_approvals_are_refused(client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    url = f"{API}/incidents/{incident}/comms/updates/{statement['id']}/approvals"
    missing = client.post(url, json={"function": "pr"}, headers=people["pr"])
    assert missing.status_code == 428
    stale = client.post(
        url, json={"function": "pr", "version": statement["version"] + 5}, headers=people["pr"]
    )
    assert stale.status_code == 412
    ok = client.post(
        url, json={"function": "pr", "version": statement["version"]}, headers=people["pr"]
    )
    assert ok.status_code == 200, ok.text


def test_an_edit_after_approval_voids_the_approvals(db, client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    _approve(client, people["pr"], incident, statement, "pr")
    statement = _approve(client, people["legal"], incident, statement, "legal").json()
    assert statement["status"] == "approved"

    url = f"{API}/incidents/{incident}/comms/updates/{statement['id']}"
    no_version = client.patch(url, json={"body": "We removed it."}, headers=people["responder"])
    assert no_version.status_code == 428
    edited = client.patch(
        url,
        json={"body": "We have removed this content and continue to monitor."},
        headers={**people["responder"], "If-Match": f'"{statement["version"]}"'},
    )
    assert edited.status_code == 200, edited.text
    statement = edited.json()
    assert edited.headers["ETag"] == f'"{statement["version"]}"'
    assert statement["status"] == "pending_approval"
    assert statement["missing_approvals"] == ["pr", "legal"]
    assert all(not a["valid"] and a["voided_at"] for a in statement["approvals"])
    assert _step(client, people["manager"], incident, statement, "publish").status_code == 409
    assert any("2 approval(s) voided" in t for t in _communication_log(db, incident))

    # Changing only who receives it is not a change of text: approvals stand.
    _approve(client, people["pr"], incident, statement, "pr")
    statement = _approve(client, people["legal"], incident, statement, "legal").json()
    routed = client.patch(
        url,
        json={"recipients": [{"channel": "email", "target": "press@example.org"}]},
        headers={**people["responder"], "If-Match": f'"{statement["version"]}"'},
    )
    assert routed.status_code == 200, routed.text
    assert routed.json()["status"] == "approved"
    published = _step(client, people["manager"], incident, routed.json(), "publish")
    assert published.status_code == 200, published.text
    [delivery] = published.json()["deliveries"]
    assert (delivery["channel"], delivery["target"], delivery["status"]) == (
        "email",
        "press@example.org",
        "queued",
    )


def test_a_rejection_with_a_comment_sends_it_back_to_draft(db, client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    _approve(client, people["pr"], incident, statement, "pr")
    no_comment = _step(
        client, people["legal"], incident, statement, "rejections", {"function": "legal"}
    )
    assert no_comment.status_code == 422
    rejected = _step(
        client,
        people["legal"],
        incident,
        statement,
        "rejections",
        {"function": "legal", "comment": "Do not mention the authorities yet."},
    )
    assert rejected.status_code == 200, rejected.text
    statement = rejected.json()
    assert statement["status"] == "draft"
    assert statement["rejection"] == "Do not mention the authorities yet."
    assert [a["valid"] for a in statement["approvals"]] == [False, False]
    assert statement["approvals"][-1]["decision"] == "rejected"
    assert any(
        "rejected by legal-person for LEGAL, back to draft" in t
        for t in _communication_log(db, incident)
    )
    # Back in draft: resubmitting clears the rejection and asks both again.
    statement = _step(client, people["responder"], incident, statement, "submit").json()
    assert (statement["status"], statement["rejection"]) == ("pending_approval", None)
    assert statement["missing_approvals"] == ["pr", "legal"]


def test_a_statement_carrying_restricted_details_cannot_be_submitted(client, people, incident):
    statement = _compose(client, people["responder"], incident, "external_statement")
    url = f"{API}/incidents/{incident}/comms/updates/{statement['id']}"
    edited = client.patch(
        url,
        json={
            "body": "The uploader @raid_leader (account id 99887766) was banned; "
            "comms-user is handling press."
        },
        headers={**people["responder"], "If-Match": f'"{statement["version"]}"'},
    )
    assert edited.status_code == 200
    refused = _step(client, people["responder"], incident, edited.json(), "submit")
    assert refused.status_code == 422
    findings = " ".join(refused.json()["findings"])
    for expected in ("@raid_leader", "99887766", "account id", "comms-user"):
        assert expected in findings
    assert _get(client, people["responder"], incident, statement)["status"] == "draft"


# ---------------------------------------------------------------- sending


def test_internal_update_is_sent_to_its_recipients_once(
    client, people, incident, worker, smtp, receiver
):
    mailbox, _ = smtp
    update = _compose(
        client,
        people["responder"],
        incident,
        "internal_update",
        recipients=[
            {"channel": "email", "target": "Leadership@Example.org"},
            {"channel": "slack", "target": receiver.url("/services/T1/B1/abc")},
        ],
    )
    assert update["recipients"][0]["target"] == "Leadership@example.org"
    # Drafting is a responder's job; sending is an incident manager's.
    assert _step(client, people["responder"], incident, update, "send").status_code == 403
    sent = _step(client, people["manager"], incident, update, "send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    assert _step(client, people["manager"], incident, update, "send").status_code == 409
    assert _step(client, people["manager"], incident, update, "submit").status_code == 409
    worker.drain()
    [message] = mailbox.messages
    assert message["Subject"] == update["title"]
    assert "Incident commander: manager-user" in message.get_content()
    [post] = receiver.requests
    assert post.json()["blocks"][0]["text"]["text"] == update["title"][:150]
    deliveries = _get(client, people["manager"], incident, update)["deliveries"]
    assert [d["status"] for d in deliveries] == ["sent", "sent"]
    listed = client.get(
        f"{API}/comms/deliveries", params={"incident": incident.lower()}, headers=people["manager"]
    ).json()
    assert {d["id"] for d in listed} == {d["id"] for d in deliveries}


def test_invalid_recipients_are_refused_with_a_problem(client, people, incident):
    response = client.post(
        f"{API}/incidents/{incident}/comms/updates",
        json={
            "kind": "internal_update",
            "recipients": [{"channel": "webhook", "target": "javascript:alert(1)"}],
        },
        headers=people["responder"],
    )
    assert response.status_code == 422
    assert "http(s) URL" in response.json()["detail"]


def test_webhook_recipients_are_shown_masked(client, headers, incident):
    secret_url = "https://hooks.example.org/services/T000/B000/very-secret-token"
    r = client.post(
        f"/api/v1/incidents/{incident}/comms/updates",
        headers=headers(Role.INCIDENT_MANAGER),
        json={
            "kind": "internal_update",
            "recipients": [
                {"channel": "slack", "target": secret_url},
                {"channel": "email", "target": "ops@example.org"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    shown = client.get(
        f"/api/v1/incidents/{incident}/comms/updates/{r.json()['id']}", headers=headers(Role.VIEWER)
    ).json()
    targets = [x["target"] for x in shown["recipients"]]
    assert "very-secret-token" not in str(targets)
    assert targets[0].startswith("https://hooks.example.org/…")
    assert targets[1] == "ops@example.org"

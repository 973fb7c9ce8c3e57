"""Obligations against a real database and the API: triggers, due times, warnings, breaches,
report drafts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth.policy import Role
from rapidresponse.clock import ManualClock
from rapidresponse.db import transaction
from rapidresponse.events import EventHub
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import TimelineKind
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from tests.conftest import ADMIN, T0, incident_body

API = "/api/v1"


@pytest.fixture
def worker(db: sessionmaker[Session], clock: ManualClock) -> OutboxWorker:
    return OutboxWorker(
        db, default_handlers(EventHub()), clock, session_handlers=default_session_handlers()
    )


def declare(client: TestClient, auth: dict[str, str], **overrides: Any) -> str:
    response = client.post(f"{API}/incidents", json=incident_body(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def obligations(client: TestClient, auth: dict[str, str], key: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"{API}/incidents/{key}/obligations", headers=auth)
    assert response.status_code == 200, response.text
    return {o["rule_id"]: o for o in response.json()}


def test_terrorist_removal_order_at_10_is_due_at_11_and_breached_at_11_01(
    client: TestClient,
    headers: Callable[[Role], dict[str, str]],
    clock: ManualClock,
    worker: OutboxWorker,
    db: sessionmaker[Session],
) -> None:
    auth = headers(Role.INCIDENT_MANAGER)
    key = declare(client, auth, regions=["DE", "FR", "US"])
    clock.set(T0 + timedelta(minutes=3))
    response = client.post(
        f"{API}/incidents/{key}/triggers",
        json={
            "kind": "terrorist_content_removal_order",
            "occurred_at": "2026-11-25T10:00:00Z",
            "regions": ["DE"],
            "reference": "BKA-TCO-2026-0042",
        },
        headers=auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["obligations"]
    removal = obligations(client, auth, key)["eu-tco-art3-removal"]
    assert removal["due_at"] == "2026-11-25T11:00:00Z"
    assert removal["basis"] == "statutory"
    assert removal["regions"] == ["DE"]
    assert removal["state"] == "open"
    assert removal["citation"]
    assert removal["source_url"].startswith("https://")
    # "What is next" lists it with its countdown.
    upcoming = client.get(f"{API}/incidents/{key}/next-actions", headers=auth).json()
    soon = [i for i in upcoming["due_soon"] if i["kind"] == "obligation"]
    assert any(i["due_at"] == "2026-11-25T11:00:00Z" and "in 57" in i["detail"] for i in soon)
    preserve = obligations(client, auth, key)["eu-tco-art6-preserve"]
    assert preserve["retain_until"] == "2027-05-25T10:00:00Z"

    clock.set(T0 + timedelta(minutes=59))
    worker.drain()
    assert obligations(client, auth, key)["eu-tco-art3-removal"]["state"] == "due_soon"
    clock.set(T0 + timedelta(hours=1))
    worker.drain()
    at_eleven = obligations(client, auth, key)["eu-tco-art3-removal"]
    assert at_eleven["state"] == "due_soon"
    assert at_eleven["breached_at"] is None
    clock.set(T0 + timedelta(hours=1, minutes=1))
    worker.drain()
    late = obligations(client, auth, key)["eu-tco-art3-removal"]
    assert late["state"] == "breached"
    assert late["seconds_left"] == -60
    assert late["breached_at"] == "2026-11-25T11:01:00Z"
    overdue = client.get(f"{API}/incidents/{key}/next-actions", headers=auth).json()["overdue"]
    assert any(i["kind"] == "obligation" and i["title"] == late["title"] for i in overdue)
    breached = client.get(
        f"{API}/compliance/obligations", params={"state": "breached"}, headers=auth
    ).json()
    # The preservation duty (put in place within the hour) is late too.
    assert {o["rule_id"] for o in breached} == {"eu-tco-art3-removal", "eu-tco-art6-preserve"}
    with transaction(db) as session:
        texts = [e.text for e in incidents.timeline(session, ADMIN, key, [TimelineKind.COMPLIANCE])]
    assert any(t.startswith("Due in") and "Art. 3" in t for t in texts)
    assert any(t.startswith("BREACHED") for t in texts)

    # Done late, with evidence: met_late, and the timers stay quiet afterwards.
    done = client.post(
        f"{API}/incidents/{key}/obligations/{late['id']}/complete",
        json={
            "text": "Removed all 14 items in every Member State",
            "references": ["ticket T-991"],
            "version": late["version"],
        },
        headers=auth,
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "met_late"
    again = client.post(
        f"{API}/incidents/{key}/obligations/{late['id']}/complete",
        json={"text": "twice", "version": done.json()["version"]},
        headers=auth,
    )
    assert again.status_code == 409


def test_csam_in_us_and_de_gives_ncmec_report_and_preservation(
    client: TestClient,
    headers: Callable[[Role], dict[str, str]],
    clock: ManualClock,
) -> None:
    auth = headers(Role.INCIDENT_MANAGER)
    key = declare(
        client,
        auth,
        harm_type="child_sexual_exploitation",
        regions=["US", "DE"],
        title="CSAM spreading through re-uploads",
    )
    response = client.post(
        f"{API}/incidents/{key}/content",
        json={
            "items": [
                {"external_id": "v-1", "account_id": "acct-9", "regions": ["US"]},
                {"external_id": "v-2", "account_id": "acct-9", "regions": ["DE"]},
            ]
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    response = client.post(
        f"{API}/incidents/{key}/triggers",
        json={"kind": "csam_confirmed", "occurred_at": "2026-11-25T10:00:00Z"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    found = obligations(client, auth, key)
    report, preserve = found["us-2258a-cybertipline-report"], found["us-2258a-preserve"]
    assert report["regions"] == ["US"]
    assert preserve["regions"] == ["US"]
    # The law says "as soon as reasonably possible": our clock is an internal target, and the
    # obligation says so rather than inventing a statutory deadline.
    assert report["basis"] == "internal_target"
    rulebook = {r["id"]: r for r in client.get(f"{API}/compliance/rules", headers=auth).json()}
    target = rulebook["us-2258a-cybertipline-report"]["target"]
    hours = int(target.removesuffix("h"))
    assert report["due_at"] == f"2026-11-{25 + (10 + hours) // 24}T{(10 + hours) % 24:02d}:00:00Z"
    assert preserve["retain_until"] == "2027-11-25T10:00:00Z"
    # Nothing for the EU: CSAM confirmed alone starts no DE obligation in the rulebook.
    assert all(o["jurisdiction"] != "EU" for o in found.values())

    # The NCMEC report is drafted for review; it is never submitted by the system.
    (draft,) = client.get(f"{API}/incidents/{key}/reports", headers=auth).json()
    assert draft["kind"] == "ncmec_cybertipline"
    assert draft["status"] == "draft"
    assert draft["markdown"].startswith("# DRAFT")
    assert "v-1" in str(draft["content"])
    assert "v-2" in str(draft["content"])
    one = f"{API}/incidents/{key}/reports/{draft['id']}"
    early = client.post(
        one + "/submission", json={"reference": "CT-1", "version": draft["version"]}, headers=auth
    )
    assert early.status_code == 409  # not reviewed yet
    responder = client.post(
        one + "/review", json={"version": draft["version"]}, headers=headers(Role.RESPONDER)
    )
    assert responder.status_code == 403
    reviewed = client.post(one + "/review", json={"version": draft["version"]}, headers=auth)
    assert reviewed.status_code == 200, reviewed.text
    clock.set(T0 + timedelta(hours=3))
    submitted = client.post(
        one + "/submission",
        json={"reference": "CyberTipline 123456789", "version": reviewed.json()["version"]},
        headers=auth,
    )
    assert submitted.status_code == 200, submitted.text
    after = obligations(client, auth, key)
    assert after["us-2258a-cybertipline-report"]["state"] == "met"
    assert after["us-2258a-cybertipline-report"]["evidence"]["references"] == [
        "CyberTipline 123456789"
    ]
    # Preservation counts from the report: one year from 13:00, not from the trigger.
    assert after["us-2258a-preserve"]["retain_until"] == "2027-11-25T13:00:00Z"


def test_bad_triggers_change_nothing(
    client: TestClient, headers: Callable[[Role], dict[str, str]]
) -> None:
    auth = headers(Role.RESPONDER)
    key = declare(client, headers(Role.INCIDENT_MANAGER))
    cases = [
        {"kind": "removal_order_received", "occurred_at": "2026-11-26T10:00:00Z"},
        {"kind": "content_restricted"},
        {"kind": "no_such_trigger"},
        {"kind": "removal_order_received", "regions": ["XX"]},
        {"kind": "removal_order_received", "occurred_at": "2026-11-25T10:00:00"},
    ]
    for body in cases:
        response = client.post(f"{API}/incidents/{key}/triggers", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
    assert client.get(f"{API}/incidents/{key}/triggers", headers=auth).json() == []
    viewer = client.post(
        f"{API}/incidents/{key}/triggers",
        json={"kind": "removal_order_received"},
        headers=headers(Role.VIEWER),
    )
    assert viewer.status_code == 403


def test_an_order_applies_the_rules_of_the_issuing_jurisdiction(
    client: TestClient, headers: Callable[[Role], dict[str, str]]
) -> None:
    auth = headers(Role.INCIDENT_MANAGER)
    key = declare(client, auth, regions=["AU", "IN", "DE"])
    for region in ("AU", "IN"):
        response = client.post(
            f"{API}/incidents/{key}/triggers",
            json={
                "kind": "removal_order_received",
                "occurred_at": "2026-11-25T10:00:00Z",
                "regions": [region],
            },
            headers=auth,
        )
        assert response.status_code == 201, response.text
    found = obligations(client, auth, key)
    assert found["au-osa-removal-notice"]["due_at"] == "2026-11-26T10:00:00Z"
    assert found["au-osa-removal-notice"]["basis"] == "statutory"
    india = found["in-itr-3-1-d-removal"]
    assert india["regions"] == ["IN"]
    # Where the clock in force is not confirmed the obligation says so, with the reason.
    if india["rule_status"] == "to_confirm":
        assert india["status_note"]
    assert not any(rule.startswith("eu-") for rule in found)


def test_waiving_needs_a_manager_and_a_reason(
    client: TestClient, headers: Callable[[Role], dict[str, str]]
) -> None:
    manager = headers(Role.INCIDENT_MANAGER)
    key = declare(client, manager, regions=["FR"])
    client.post(
        f"{API}/incidents/{key}/triggers",
        json={"kind": "threat_to_life_identified"},
        headers=manager,
    )
    (notify,) = [
        o
        for o in obligations(client, manager, key).values()
        if o["rule_id"] == "eu-dsa-art18-threat-to-life"
    ]
    assert notify["report_draft"] is not None
    url = f"{API}/incidents/{key}/obligations/{notify['id']}/waive"
    body = {
        "reason": "Legal: the threat was a known hoax, confirmed by police",
        "version": notify["version"],
    }
    assert client.post(url, json=body, headers=headers(Role.RESPONDER)).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers=manager).status_code == 422
    waived = client.post(url, json=body, headers=manager)
    assert waived.status_code == 200, waived.text
    assert waived.json()["state"] == "waived"

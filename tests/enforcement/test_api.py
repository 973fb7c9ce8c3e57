"""The containment API end to end: cluster, dry run, run by the worker, outcomes, export."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth.policy import Role
from rapidresponse.clock import ManualClock
from rapidresponse.events import EventHub
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from tests.conftest import incident_body

API = "/api/v1"


def test_a_label_action_through_the_api(
    client: TestClient,
    headers: Callable[[Role], dict[str, str]],
    db: sessionmaker[Session],
    clock: ManualClock,
) -> None:
    manager = headers(Role.INCIDENT_MANAGER)
    key = client.post(f"{API}/incidents", json=incident_body(), headers=manager).json()["key"]
    items = [
        {"external_id": f"c{i}", "regions": ["DE"] if i % 2 else ["US"], "keys": ["#Clip"]}
        for i in range(6)
    ] + [{"external_id": "other", "keys": ["#unrelated"]}]
    added = client.post(f"{API}/incidents/{key}/content", json={"items": items}, headers=manager)
    assert added.json() == {"added": 7, "updated": 0, "total": 7}
    page = client.get(
        f"{API}/incidents/{key}/content", params={"carrying": "#clip", "limit": 4}, headers=manager
    ).json()
    assert page["total"] == 6
    assert len(page["items"]) == 4

    planned = client.post(
        f"{API}/incidents/{key}/actions",
        json={
            "action": "label",
            "selector": {"scope": "key", "key": "#CLIP"},
            "policy_section": "VE-2",
            "explanation": "Graphic footage of the attack shown behind a warning screen.",
        },
        headers=headers(Role.RESPONDER),
    )
    assert planned.status_code == 201, planned.text
    action = planned.json()
    assert planned.headers["Location"].endswith(f"/actions/{action['id']}")
    assert action["blast_radius"]["regions"] == ["DE", "US"]
    assert action["blast_radius"]["eu_items"] == 3
    one = f"{API}/incidents/{key}/actions/{action['id']}"
    assert client.post(one + "/execute", headers=headers(Role.RESPONDER)).status_code == 403
    started = client.post(one + "/execute", headers=manager)
    assert started.status_code == 202
    assert started.json()["status"] == "running"

    OutboxWorker(
        db, default_handlers(EventHub()), clock, session_handlers=default_session_handlers()
    ).drain()
    done = client.get(one, headers=manager).json()
    assert done["status"] == "completed"
    assert done["progress"]["applied"] == 6
    assert done["progress"]["statements"] == 3
    applied = client.get(one + "/items", params={"outcome": "applied"}, headers=manager).json()
    assert applied["total"] == 6

    statements = client.get(f"{API}/incidents/{key}/statements", headers=manager).json()
    assert (statements["valid"], statements["invalid"]) == (3, 0)
    export = client.get(f"{API}/incidents/{key}/statements.jsonl", headers=manager)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in export.text.splitlines()]
    assert sorted(r["puid"] for r in records) == ["c1", "c3", "c5"]
    assert {tuple(r["territorial_scope"]) for r in records} == {("DE",)}
    assert {r["decision_visibility"][0] for r in records} == {
        "DECISION_VISIBILITY_CONTENT_LABELLED"
    }
    # The restriction recorded a DSA Art. 17 trigger, and its obligations follow.
    triggers = client.get(f"{API}/incidents/{key}/triggers", headers=manager).json()
    assert [t["kind"] for t in triggers] == ["content_restricted"]
    assert triggers[0]["action_id"] == action["id"]
    assert triggers[0]["obligations"]

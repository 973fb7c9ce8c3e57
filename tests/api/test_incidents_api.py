"""Incident API over HTTP: declare, read, edit with optimistic concurrency, lifecycle, tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapidresponse.auth.policy import Role
from tests.conftest import T0, incident_body

IM = Role.INCIDENT_MANAGER


def declare(client, headers, **overrides):
    response = client.post(
        "/api/v1/incidents", json=incident_body(**overrides), headers=headers(Role.RESPONDER)
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_declare_returns_key_severity_and_etag(client, headers):
    response = client.post(
        "/api/v1/incidents", json=incident_body(), headers=headers(Role.RESPONDER)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"] == "INC-2026-0001"
    assert body["status"] == "detected"
    assert body["severity"]["level"] == body["severity"]["computed"]
    assert body["severity"]["points"]["harm_type_gravity"] == 4
    assert body["dsa_category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert body["times"]["detected_at"] == "2026-11-25T10:00:00Z"
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == "/api/v1/incidents/INC-2026-0001"
    second = declare(client, headers)
    assert second["key"] == "INC-2026-0002"


def test_declarer_becomes_commander_and_timeline_records_declaration(client, headers):
    key = declare(client, headers)["key"]
    people = client.get(f"/api/v1/incidents/{key}/participants", headers=headers(Role.VIEWER))
    assert [(p["user"], p["role"]) for p in people.json()] == [
        ("responder-user", "incident_commander")
    ]
    timeline = client.get(f"/api/v1/incidents/{key}/timeline", headers=headers(Role.VIEWER))
    first = timeline.json()[0]
    assert first["kind"] == "declared"
    assert first["actor"] == "responder-user"


def test_values_are_normalised(client, headers):
    body = declare(
        client, headers, regions=["de", "fr", "DE"], languages=["pt-br"], tags=["Hate-Raid"]
    )
    assert body["regions"] == ["DE", "FR"]
    assert body["languages"] == ["pt-BR"]
    assert body["tags"] == ["hate-raid"]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"regions": ["ZZ"]}, "regions", "ISO 3166-1"),
        ({"regions": ["EU"]}, "regions", "member states"),
        ({"regions": []}, "regions", "at least 1"),
        ({"languages": ["klingon!!"]}, "languages", "BCP 47"),
        ({"harm_type": "spam"}, "harm_type", "violent_extremism"),
        ({"title": "x" * 201}, "title", "200"),
        ({"title": "   "}, "title", "at least 1"),
        ({"surfaces": ["billboards"]}, "surfaces", "feed"),
        ({"impact": {"views": -1}}, "impact.views", "greater than or equal"),
        ({"detected_at": "2026-11-25T09:00:00"}, "detected_at", "timezone"),
        ({"unexpected": 1}, "unexpected", "Extra inputs"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_problem_and_nothing_stored(
    client, headers, overrides, field, fragment
):
    response = client.post(
        "/api/v1/incidents", json=incident_body(**overrides), headers=headers(Role.RESPONDER)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("validation-error")
    assert any(
        e["field"].startswith(field) and fragment in e["message"] for e in problem["errors"]
    ), problem
    listing = client.get("/api/v1/incidents", headers=headers(Role.ADMIN)).json()
    assert listing["total"] == 0


def test_summary_size_limit(client, headers):
    response = client.post(
        "/api/v1/incidents",
        json=incident_body(summary="x" * 20_001),
        headers=headers(Role.RESPONDER),
    )
    assert response.status_code == 422


def test_future_detection_and_onset_after_detection_are_rejected(client, headers):
    later = (T0 + timedelta(hours=1)).isoformat()
    r = client.post(
        "/api/v1/incidents", json=incident_body(detected_at=later), headers=headers(Role.RESPONDER)
    )
    assert r.status_code == 422
    assert "future" in r.json()["detail"]
    r = client.post(
        "/api/v1/incidents",
        json=incident_body(detected_at="2026-11-25T09:00:00Z", started_at="2026-11-25T09:30:00Z"),
        headers=headers(Role.RESPONDER),
    )
    assert r.status_code == 422
    assert "started_at" in r.json()["detail"]


def test_unknown_incident_is_a_404_problem(client, headers):
    r = client.get("/api/v1/incidents/INC-2026-9999", headers=headers(Role.ADMIN))
    assert r.status_code == 404
    assert r.json()["detail"] == "no incident INC-2026-9999"


def test_patch_needs_a_version_and_rejects_a_stale_one(client, headers):
    key = declare(client, headers)["key"]
    url = f"/api/v1/incidents/{key}"
    missing = client.patch(url, json={"title": "New title"}, headers=headers(IM))
    assert missing.status_code == 428
    ok = client.patch(
        url, json={"title": "Manager A's title"}, headers=headers(IM) | {"If-Match": '"1"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] == '"2"'
    # Manager B still holds version 1: the write is refused, A's title survives.
    stale = client.patch(
        url, json={"title": "Manager B's title"}, headers=headers(IM) | {"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert "version 2" in stale.json()["detail"]
    assert client.get(url, headers=headers(Role.VIEWER)).json()["title"] == "Manager A's title"
    # The body's version field works as well as the header.
    ok2 = client.patch(url, json={"summary": "more", "version": 2}, headers=headers(IM))
    assert ok2.status_code == 200
    assert ok2.json()["version"] == 3


def test_impact_change_recomputes_severity_and_records_it(client, headers):
    body = declare(
        client, headers, harm_type="bullying_harassment", regions=["GB"], impact={"views": 20_000}
    )
    assert body["severity"]["level"] == "SEV3"
    r = client.patch(
        f"/api/v1/incidents/{body['key']}",
        json={
            "impact": {
                "views": 5_000_000,
                "views_per_hour": 200_000,
                "minors_involved": True,
                "press_attention": "coverage",
            },
            "regions": ["GB", "IE", "US", "CA", "AU"],
        },
        headers=headers(IM) | {"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    sev = r.json()["severity"]
    assert sev["level"] in {"SEV0", "SEV1"}
    assert r.json()["impact"]["views"] == 5_000_000
    kinds = [
        e["kind"]
        for e in client.get(
            f"/api/v1/incidents/{body['key']}/timeline", headers=headers(Role.VIEWER)
        ).json()
    ]
    assert kinds == [
        "declared",
        "playbook_planned",
        "updated",
        "severity_changed",
        "playbook_planned",
    ]


def test_lifecycle_through_to_closed_keeps_times(client, headers, clock):
    key = declare(client, headers, started_at="2026-11-25T09:40:00Z")["key"]
    url = f"/api/v1/incidents/{key}/transitions"
    for minutes, state in (
        (5, "triaged"),
        (5, "active"),
        (50, "contained"),
        (120, "resolved"),
        (60, "closed"),
    ):
        clock.advance(timedelta(minutes=minutes))
        r = client.post(url, json={"to": state}, headers=headers(IM))
        assert r.status_code == 200, r.text
    times = r.json()["times"]
    assert r.json()["status"] == "closed"
    assert times["time_to_detect_s"] == 20 * 60
    assert times["time_to_acknowledge_s"] == 5 * 60
    assert times["time_to_contain_s"] == 60 * 60
    assert times["time_to_resolve_s"] == 180 * 60
    assert times["closed_at"] == "2026-11-25T14:00:00Z"


def test_illegal_transition_is_rejected_and_changes_nothing(client, headers):
    key = declare(client, headers)["key"]
    r = client.post(
        f"/api/v1/incidents/{key}/transitions", json={"to": "closed"}, headers=headers(IM)
    )
    assert r.status_code == 409
    problem = r.json()
    assert "cannot move an incident from detected to closed" in problem["detail"]
    assert problem["allowed"] == ["declined", "merged", "triaged"]
    incident = client.get(f"/api/v1/incidents/{key}", headers=headers(Role.VIEWER)).json()
    assert incident["status"] == "detected"
    assert incident["version"] == 1


def test_reopening_clears_containment_time(client, headers, clock):
    key = declare(client, headers)["key"]
    url = f"/api/v1/incidents/{key}/transitions"
    for state in ("triaged", "active", "contained"):
        clock.advance(timedelta(minutes=10))
        client.post(url, json={"to": state}, headers=headers(IM))
    clock.advance(timedelta(minutes=10))
    r = client.post(
        url, json={"to": "active", "reason": "re-uploads surged again"}, headers=headers(IM)
    )
    assert r.status_code == 200
    assert r.json()["times"]["contained_at"] is None
    clock.advance(timedelta(minutes=30))
    r = client.post(url, json={"to": "contained"}, headers=headers(IM))
    assert r.json()["times"]["time_to_contain_s"] == 70 * 60


def test_decline_and_merge_need_reasons_and_a_target(client, headers):
    a = declare(client, headers)["key"]
    b = declare(client, headers)["key"]
    url = f"/api/v1/incidents/{b}/transitions"
    assert client.post(url, json={"to": "declined"}, headers=headers(IM)).status_code == 422
    assert (
        client.post(url, json={"to": "merged", "reason": "dup"}, headers=headers(IM)).status_code
        == 422
    )
    assert (
        client.post(
            url, json={"to": "merged", "reason": "dup", "merged_into": b}, headers=headers(IM)
        ).status_code
        == 422
    )
    r = client.post(
        url,
        json={"to": "merged", "reason": "same attack video", "merged_into": a},
        headers=headers(IM),
    )
    assert r.status_code == 200, r.text
    assert r.json()["merged_into"] == a
    survivor_timeline = client.get(
        f"/api/v1/incidents/{a}/timeline", headers=headers(Role.VIEWER)
    ).json()
    assert any(b in e["text"] for e in survivor_timeline)


def test_severity_override_requires_reason_and_is_kept_in_timeline(client, headers):
    body = declare(
        client, headers, harm_type="animal_abuse", regions=["US"], impact={"views": 1000}
    )
    key = body["key"]
    assert body["severity"]["level"] == "SEV3"
    url = f"/api/v1/incidents/{key}/severity"
    assert client.post(url, json={"override": "SEV1"}, headers=headers(IM)).status_code == 422
    r = client.post(
        url,
        json={"override": "SEV1", "reason": "Major outlet about to publish"},
        headers=headers(IM),
    )
    assert r.status_code == 200
    sev = r.json()["severity"]
    assert (sev["level"], sev["computed"], sev["override"]) == ("SEV1", "SEV3", "SEV1")
    r = client.post(
        url, json={"override": None, "reason": "Story did not run"}, headers=headers(IM)
    )
    assert r.json()["severity"]["level"] == "SEV3"
    entries = client.get(
        f"/api/v1/incidents/{key}/timeline?kind=severity_overridden", headers=headers(Role.VIEWER)
    ).json()
    assert [e["data"]["to"] for e in entries] == ["SEV1", "SEV3"]
    assert "Major outlet about to publish" in entries[0]["text"]


def test_tasks_due_overdue_and_versioned(client, headers, clock):
    key = declare(client, headers)["key"]
    due = (T0 + timedelta(hours=1)).isoformat()
    r = client.post(
        f"/api/v1/incidents/{key}/tasks",
        json={"title": "Preserve evidence", "owner": "alice", "due_at": due},
        headers=headers(Role.RESPONDER),
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["overdue"] is False
    clock.advance(timedelta(hours=1, minutes=1))
    listed = client.get(f"/api/v1/incidents/{key}/tasks", headers=headers(Role.VIEWER)).json()
    assert listed[0]["overdue"] is True
    url = f"/api/v1/incidents/{key}/tasks/{task['id']}"
    assert (
        client.patch(url, json={"status": "done"}, headers=headers(Role.RESPONDER)).status_code
        == 428
    )
    r = client.patch(
        url, json={"status": "done"}, headers=headers(Role.RESPONDER) | {"If-Match": '"1"'}
    )
    assert r.status_code == 200
    assert r.json()["overdue"] is False
    assert r.json()["completed_at"] == "2026-11-25T11:01:00Z"
    assert (
        client.patch(
            url, json={"status": "open"}, headers=headers(Role.RESPONDER) | {"If-Match": '"1"'}
        ).status_code
        == 412
    )


def test_notes_and_decisions_are_append_only_timeline(client, headers):
    key = declare(client, headers)["key"]
    r = client.post(
        f"/api/v1/incidents/{key}/timeline",
        json={"text": "GIFCT hash-sharing requested", "decision": True},
        headers=headers(Role.RESPONDER),
    )
    assert r.status_code == 201
    assert r.json()["kind"] == "decision"
    url = f"/api/v1/incidents/{key}/timeline"
    for method in ("PUT", "PATCH", "DELETE"):
        refused = client.request(method, url, headers=headers(Role.ADMIN))
        assert refused.status_code == 405, method
    entries = client.get(url, headers=headers(Role.VIEWER)).json()
    assert [e["kind"] for e in entries] == ["declared", "playbook_planned", "decision"]


def test_participants_roles_and_commander_rule(client, headers):
    key = declare(client, headers)["key"]
    url = f"/api/v1/incidents/{key}/participants"
    r = client.post(url, json={"user": "dana", "role": "legal"}, headers=headers(IM))
    assert r.status_code == 201
    assert (
        client.post(url, json={"user": "dana", "role": "legal"}, headers=headers(IM)).status_code
        == 409
    )
    assert (
        client.post(url, json={"user": "eve", "role": "astronaut"}, headers=headers(IM)).status_code
        == 422
    )
    commander = next(
        p for p in client.get(url, headers=headers(IM)).json() if p["role"] == "incident_commander"
    )
    r = client.delete(f"{url}/{commander['id']}", headers=headers(IM))
    assert r.status_code == 409
    assert "needs an incident commander" in r.json()["detail"]
    client.post(url, json={"user": "frank", "role": "incident_commander"}, headers=headers(IM))
    assert client.delete(f"{url}/{commander['id']}", headers=headers(IM)).status_code == 200
    users = [p["user"] for p in client.get(url, headers=headers(IM)).json()]
    assert "responder-user" not in users
    history = client.get(f"{url}?include_removed=true", headers=headers(IM)).json()
    assert any(p["user"] == "responder-user" and p["removed_at"] for p in history)


def test_list_filters(client, headers):
    declare(client, headers)
    declare(
        client,
        headers,
        title="Blackout challenge",
        harm_type="dangerous_challenges",
        regions=["BR"],
        impact={"views": 10},
    )
    h = headers(Role.VIEWER)
    assert client.get("/api/v1/incidents?region=br", headers=h).json()["total"] == 1
    assert (
        client.get("/api/v1/incidents?harm_type=violent_extremism", headers=h).json()["total"] == 1
    )
    assert client.get("/api/v1/incidents?q=attack", headers=h).json()["total"] == 1
    assert client.get("/api/v1/incidents?status=closed", headers=h).json()["total"] == 0
    assert client.get("/api/v1/incidents?region=XX", headers=h).status_code == 422
    page = client.get("/api/v1/incidents?limit=1", headers=h).json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert page["items"][0]["harm_type"] == "violent_extremism"  # most severe first


@pytest.mark.parametrize(
    "field", ["title", "summary", "harm_type", "regions", "tags", "restricted", "impact"]
)
def test_explicit_null_on_a_required_field_is_a_422_not_a_crash(client, headers, field):
    key = declare(client, headers)["key"]
    r = client.patch(
        f"/api/v1/incidents/{key}", json={field: None}, headers=headers(IM) | {"If-Match": '"1"'}
    )
    assert r.status_code == 422, r.text
    assert "cannot be null" in r.json()["detail"]
    assert client.get(f"/api/v1/incidents/{key}", headers=headers(IM)).json()["version"] == 1


def test_task_fields_can_be_cleared_but_not_nulled(client, headers):
    key = declare(client, headers)["key"]
    task = client.post(
        f"/api/v1/incidents/{key}/tasks",
        json={"title": "Brief legal", "owner": "dana", "due_at": "2026-11-25T12:00:00Z"},
        headers=headers(Role.RESPONDER),
    ).json()
    url = f"/api/v1/incidents/{key}/tasks/{task['id']}"
    bad = client.patch(url, json={"status": None}, headers=headers(IM) | {"If-Match": '"1"'})
    assert bad.status_code == 422
    cleared = client.patch(
        url, json={"owner": None, "due_at": None}, headers=headers(IM) | {"If-Match": '"1"'}
    )
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["owner"], cleared.json()["due_at"]) == (None, None)


def test_declarer_keeps_sight_of_a_restricted_incident_they_hand_to_a_commander(client, headers):
    body = declare(client, headers, harm_type="child_sexual_exploitation", commander="carol")
    assert body["restricted"] is True
    r = client.get(f"/api/v1/incidents/{body['key']}", headers=headers(Role.RESPONDER))
    assert r.status_code == 200
    # ...while other non-members still cannot see it
    assert (
        client.get(f"/api/v1/incidents/{body['key']}", headers=headers(Role.VIEWER)).status_code
        == 404
    )


def test_nul_characters_are_refused_everywhere_with_a_422(client, headers):
    key = declare(client, headers)["key"]
    h = headers(IM)
    cases = [
        client.post("/api/v1/incidents", json=incident_body(title="bad\x00title"), headers=h),
        client.post(f"/api/v1/incidents/{key}/timeline", json={"text": "a\x00b"}, headers=h),
        client.patch(
            f"/api/v1/incidents/{key}", json={"summary": "x\x00"}, headers=h | {"If-Match": '"1"'}
        ),
        client.get("/api/v1/incidents?q=a%00b", headers=h),
        client.get("/api/v1/incidents/INC%00X", headers=h),
    ]
    for response in cases:
        assert response.status_code == 422, (response.request.url, response.text)
        assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/v1/tokens/2147483648", "/api/v1/tokens/9223372036854775808"]
)
def test_ids_beyond_the_database_range_are_a_422_not_a_crash(client, headers, path):
    assert client.delete(path, headers=headers(Role.ADMIN)).status_code == 422


def test_unknown_row_ids_are_a_404(client, headers):
    key = declare(client, headers)["key"]
    r = client.patch(
        f"/api/v1/incidents/{key}/tasks/2147483647",
        json={"status": "done"},
        headers=headers(IM) | {"If-Match": '"1"'},
    )
    assert r.status_code == 404

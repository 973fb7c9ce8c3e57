"""Declaring an incident plans it; escalation re-plans; what is late shows and is reminded."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from rapidresponse.auth.policy import Role
from rapidresponse.cli import app as cli_app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.outbox.handlers import default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from tests.conftest import T0, incident_body

IM = Role.INCIDENT_MANAGER


def declare(client, headers, **overrides):
    r = client.post("/api/v1/incidents", json=incident_body(**overrides), headers=headers(IM))
    assert r.status_code == 201, r.text
    return r.json()


def tasks_of(client, headers, key):
    return {
        t["playbook_step"]: t
        for t in client.get(f"/api/v1/incidents/{key}/tasks", headers=headers(IM)).json()
    }


def test_declaring_plans_tasks_owners_and_due_times(client, headers):
    body = declare(
        client, headers, regions=["DE", "FR"], impact={"views": 50_000, "views_per_hour": 5_000}
    )
    assert body["severity"]["level"] == "SEV1"  # the floor for terrorist content
    tasks = tasks_of(client, headers, body["key"])
    assert tasks["stop-live-stream"]["due_at"] == "2026-11-25T10:15:00Z"
    assert tasks["stop-live-stream"]["owner_role"] == "ts_operations"
    assert tasks["stop-live-stream"]["owner"] is None  # nobody holds the role yet
    assert "check-eu-tco-removal-order" in tasks
    assert "exec-briefing" not in tasks  # SEV0 only
    plan = client.get(f"/api/v1/incidents/{body['key']}/plan", headers=headers(IM)).json()
    assert (plan["playbook_id"], plan["severity"], plan["cadence"]) == (
        "violent-extremism",
        "SEV1",
        "1h",
    )
    assert "ts_operations" in plan["open_roles"]
    timeline = client.get(f"/api/v1/incidents/{body['key']}/timeline", headers=headers(IM)).json()
    planned = [e for e in timeline if e["kind"] == "playbook_planned"]
    assert len(planned) == 1
    assert f"{len(tasks)} task(s) added" in planned[0]["text"]


def test_taking_a_role_assigns_its_open_tasks(client, headers):
    key = declare(client, headers)["key"]
    r = client.post(
        f"/api/v1/incidents/{key}/participants",
        json={"user": "lea.ops", "role": "ts_operations"},
        headers=headers(IM),
    )
    assert r.status_code == 201
    tasks = tasks_of(client, headers, key)
    assert tasks["stop-live-stream"]["owner"] == "lea.ops"
    assert tasks["hash-footage"]["owner"] is None  # engineering's, not ops'


def test_escalation_replans_additively_keeping_completed_work(client, headers, clock):
    body = declare(
        client, headers, regions=["US"], impact={"views": 50_000, "views_per_hour": 5_000}
    )
    key = body["key"]
    before = tasks_of(client, headers, key)
    stop = before["stop-live-stream"]
    client.patch(
        f"/api/v1/incidents/{key}/tasks/{stop['id']}",
        json={"status": "done"},
        headers=headers(IM) | {"If-Match": '"1"'},
    )
    clock.advance(timedelta(hours=2))
    r = client.patch(
        f"/api/v1/incidents/{key}",
        json={
            "impact": {"views": 5_000_000, "views_per_hour": 300_000, "press_attention": "major"}
        },
        headers=headers(IM) | {"If-Match": f'"{body["version"]}"'},
    )
    assert r.json()["severity"]["level"] == "SEV0"
    after = tasks_of(client, headers, key)
    assert after["stop-live-stream"]["status"] == "done"
    assert after["stop-live-stream"]["id"] == stop["id"]
    assert after["exec-briefing"]["due_at"] == "2026-11-25T12:30:00Z"
    assert set(before) < set(after)
    plan = client.get(f"/api/v1/incidents/{key}/plan", headers=headers(IM)).json()
    assert (plan["severity"], plan["cadence"], plan["replans"]) == ("SEV0", "30m", 1)
    # Asking again changes nothing: re-planning is idempotent.
    again = client.post(f"/api/v1/incidents/{key}/plan", headers=headers(IM))
    assert again.status_code == 200
    assert tasks_of(client, headers, key).keys() == after.keys()


def test_severity_override_replans_too(client, headers):
    key = declare(client, headers, regions=["US"], impact={"views": 50_000})["key"]
    assert "exec-briefing" not in tasks_of(client, headers, key)
    client.post(
        f"/api/v1/incidents/{key}/severity",
        json={"override": "SEV0", "reason": "Head of state named in the video"},
        headers=headers(IM),
    )
    assert "exec-briefing" in tasks_of(client, headers, key)


def test_a_late_task_is_reminded_once_on_the_timeline(db, client, headers, clock):
    key = declare(client, headers)["key"]
    worker = OutboxWorker(
        db,
        {"incident.events": lambda payload: None},
        clock,
        session_handlers=default_session_handlers(),
    )
    worker.drain()
    clock.advance(timedelta(minutes=14))
    worker.drain()
    reminders = list(
        client.get(f"/api/v1/incidents/{key}/timeline?kind=reminder", headers=headers(IM)).json()
    )
    assert reminders == []
    clock.advance(timedelta(minutes=1))
    worker.drain()
    worker.drain()
    reminders = client.get(
        f"/api/v1/incidents/{key}/timeline?kind=reminder", headers=headers(IM)
    ).json()
    assert len(reminders) == 1
    assert "overdue: End the live stream" in reminders[0]["text"]
    assert "role ts_operations (unfilled)" in reminders[0]["text"]


def test_a_task_done_in_time_is_not_reminded(db, client, headers, clock):
    key = declare(client, headers)["key"]
    stop = tasks_of(client, headers, key)["stop-live-stream"]
    client.patch(
        f"/api/v1/incidents/{key}/tasks/{stop['id']}",
        json={"status": "done"},
        headers=headers(IM) | {"If-Match": '"1"'},
    )
    clock.advance(timedelta(minutes=16))
    OutboxWorker(
        db,
        {"incident.events": lambda payload: None},
        clock,
        session_handlers=default_session_handlers(),
    ).drain()
    reminders = client.get(
        f"/api/v1/incidents/{key}/timeline?kind=reminder", headers=headers(IM)
    ).json()
    assert all("End the live stream" not in r["text"] for r in reminders)


def test_next_actions_shows_overdue_due_soon_blocked_and_open_roles(client, headers, clock):
    key = declare(client, headers)["key"]
    clock.advance(timedelta(minutes=20))
    view = client.get("/api/v1/next-actions", headers=headers(Role.VIEWER)).json()
    overdue = [i["title"] for i in view["overdue"]]
    assert overdue == ["End the live stream and suspend the broadcasting account"]
    assert view["overdue"][0]["detail"] == "5m late"
    assert "Preserve the original stream, first copies and account data" in [
        i["title"] for i in view["due_soon"]
    ]
    blocked = {i["title"]: i["detail"] for i in view["blocked"]}
    assert (
        blocked["Hash the footage (video and key frames) and add it to the incident hash bank"]
        == "waiting for preserve-evidence"
    )
    assert any(i["title"] == "Fill the engineering role" for i in view["open_roles"])
    one = client.get(f"/api/v1/incidents/{key}/next-actions", headers=headers(Role.VIEWER))
    assert one.json()["overdue"] == view["overdue"]


def test_playbook_library_api(client, headers):
    listing = client.get("/api/v1/playbooks", headers=headers(Role.VIEWER)).json()
    assert "violent-extremism" in [p["id"] for p in listing]
    full = client.get("/api/v1/playbooks/violent-extremism", headers=headers(Role.VIEWER))
    assert full.json()["harm_type"] == "violent_extremism"
    assert client.get("/api/v1/playbooks/nope", headers=headers(Role.VIEWER)).status_code == 404
    preview = client.get(
        "/api/v1/playbooks/violent-extremism/preview?severity=SEV1&region=EU&region=au",
        headers=headers(Role.VIEWER),
    ).json()
    checks = [t["step"] for t in preview["new_tasks"] if t["step"].startswith("check-")]
    assert "check-eu-tco-removal-order" in checks
    assert "check-au-abhorrent-violent-material" in checks
    bad = client.get(
        "/api/v1/playbooks/violent-extremism/preview?severity=SEV1&region=XX",
        headers=headers(Role.VIEWER),
    )
    assert bad.status_code == 422
    schema = client.get("/api/v1/playbook-schema", headers=headers(Role.VIEWER)).json()
    assert "tasks" in schema["properties"]


def test_next_from_the_cli(db, app_settings, clock, client, headers):
    declare(client, headers)
    clock.advance(timedelta(minutes=20))
    set_context(CliContext(settings=app_settings, clock=clock))
    try:
        result = CliRunner().invoke(cli_app, ["next", "--json"])
        human = CliRunner().invoke(cli_app, ["next"])
    finally:
        set_context(None)
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["overdue"][0]["incident"] == "INC-2026-0001"
    assert "OVERDUE" in human.output
    assert T0  # the scenario starts at the shared T0


def test_next_actions_shows_when_the_status_update_is_due(client, headers, clock):
    key = declare(client, headers)["key"]  # SEV1: the playbook's cadence is one hour
    clock.advance(timedelta(minutes=30))
    view = client.get(f"/api/v1/incidents/{key}/next-actions", headers=headers(IM)).json()
    assert [(i["title"], i["detail"]) for i in view["updates_due"]] == [
        ("Send the stakeholder status update", "in 30m")
    ]
    clock.advance(timedelta(minutes=31))
    view = client.get(f"/api/v1/incidents/{key}/next-actions", headers=headers(IM)).json()
    assert view["updates_due"][0]["detail"] == "1m late"


def test_the_plan_record_lists_only_roles_still_empty_after_staffing(client, headers):
    client.post(
        "/api/v1/people",
        json={"handle": "eli", "name": "Eli", "timezone": "UTC"},
        headers=headers(Role.ADMIN),
    )
    client.post(
        "/api/v1/schedules",
        headers=headers(Role.ADMIN),
        json={
            "slug": "eng",
            "name": "eng",
            "layers": [
                {
                    "name": "all",
                    "position": 0,
                    "participants": ["eli"],
                    "rotation_unit": "weeks",
                    "timezone": "UTC",
                    "starts_on": "2026-11-01",
                }
            ],
        },
    )
    client.post(
        "/api/v1/teams",
        headers=headers(Role.ADMIN),
        json={
            "slug": "eng",
            "name": "Engineering",
            "function": "engineering",
            "members": ["eli"],
            "schedule": "eng",
        },
    )
    key = declare(client, headers)["key"]
    people = {
        (p["user"], p["role"])
        for p in client.get(f"/api/v1/incidents/{key}/participants", headers=headers(IM)).json()
    }
    assert ("eli", "engineering") in people
    plan = client.get(f"/api/v1/incidents/{key}/plan", headers=headers(IM)).json()
    assert "engineering" not in plan["open_roles"]
    assert "ts_operations" in plan["open_roles"]  # no trust & safety team here


def test_a_role_listed_twice_is_staffed_once(client, headers, tmp_path, monkeypatch):
    """A site playbook may fill one role from two functions; declaring must still work."""
    from rapidresponse.playbooks.loader import LIBRARY
    from rapidresponse.settings import get_settings

    text = (LIBRARY / "hate-speech.yaml").read_text()
    text = text.replace(
        "roles:\n",
        "roles:\n  - role: regional_expert\n    function: "
        "public_policy\n    why: Policy knows the local law.\n",
        1,
    )
    (tmp_path / "hate-speech.yaml").write_text(text)
    monkeypatch.setenv("RR_PLAYBOOK_DIRS", str(tmp_path))
    get_settings.cache_clear()
    try:
        admin = headers(Role.ADMIN)
        for handle, function in (("pol", "public_policy"), ("reg", "regional_expert")):
            client.post(
                "/api/v1/people",
                headers=admin,
                json={"handle": handle, "name": handle, "timezone": "UTC"},
            )
            client.post(
                "/api/v1/schedules",
                headers=admin,
                json={
                    "slug": handle,
                    "name": handle,
                    "layers": [
                        {
                            "name": "all",
                            "position": 0,
                            "participants": [handle],
                            "rotation_unit": "weeks",
                            "timezone": "UTC",
                            "starts_on": "2026-11-01",
                        }
                    ],
                },
            )
            client.post(
                "/api/v1/teams",
                headers=admin,
                json={
                    "slug": handle,
                    "name": handle,
                    "function": function,
                    "members": [handle],
                    "schedule": handle,
                },
            )
        r = client.post(
            "/api/v1/incidents",
            headers=headers(IM),
            json=incident_body(harm_type="hate_speech", regions=["DE"]),
        )
        assert r.status_code == 201, r.text
        people = client.get(
            f"/api/v1/incidents/{r.json()['key']}/participants", headers=headers(IM)
        ).json()
        assert [p["user"] for p in people if p["role"] == "regional_expert"] == ["pol"]
    finally:
        get_settings.cache_clear()


def test_cli_task_owner_role_and_next_horizon(db, app_settings, clock, client, headers):
    key = declare(client, headers)["key"]
    client.post(
        f"/api/v1/incidents/{key}/participants",
        headers=headers(IM),
        json={"user": "dana", "role": "legal"},
    )
    set_context(CliContext(settings=app_settings, clock=clock))
    try:
        added = CliRunner().invoke(
            cli_app,
            [
                "incident",
                "task",
                "add",
                key,
                "Brief outside counsel",
                "--owner-role",
                "legal",
                "--due",
                "2026-11-25T15:00:00+00:00",
            ],
        )
        assert added.exit_code == 0, added.output
        near = json.loads(CliRunner().invoke(cli_app, ["next", "--json"]).stdout)
        far = json.loads(CliRunner().invoke(cli_app, ["next", "--json", "--horizon", "360"]).stdout)
    finally:
        set_context(None)
    task = next(
        t
        for t in client.get(f"/api/v1/incidents/{key}/tasks", headers=headers(IM)).json()
        if t["title"] == "Brief outside counsel"
    )
    assert (task["owner"], task["owner_role"]) == ("dana", "legal")
    assert "Brief outside counsel" not in [i["title"] for i in near["due_soon"]]
    assert "Brief outside counsel" in [i["title"] for i in far["due_soon"]]

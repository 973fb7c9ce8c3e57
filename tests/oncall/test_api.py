"""The on-call API: people, teams, schedules (who, final, handoffs, iCalendar), routing, pages."""

from __future__ import annotations

from datetime import datetime

import icalendar
import pytest

from rapidresponse.auth.policy import Role
from tests.conftest import incident_body
from tests.oncall import follow_the_sun as fts
from tests.oncall.follow_the_sun import utc

API = "/api/v1"


@pytest.fixture
def people(client, headers):
    for handle in (*fts.PEOPLE, "mgr"):
        response = client.post(
            f"{API}/people",
            json={
                "handle": handle,
                "name": handle.capitalize(),
                "timezone": fts.ZONES.get(handle, "Europe/Dublin"),
                "email": f"{handle}@example.org",
                "slack_webhook_url": f"https://hooks.slack.com/services/T0/B0/{handle}secret",
            },
            headers=headers(Role.INCIDENT_MANAGER),
        )
        assert response.status_code == 201, response.text


@pytest.fixture
def schedule(client, headers, people) -> str:
    response = client.post(
        f"{API}/schedules", json=fts.api_body(), headers=headers(Role.INCIDENT_MANAGER)
    )
    assert response.status_code == 201, response.text
    return response.json()["slug"]


def test_people_are_validated_audited_and_their_webhooks_kept_from_viewers(client, headers, people):
    manager, viewer = headers(Role.INCIDENT_MANAGER), headers(Role.VIEWER)
    bad = client.post(
        f"{API}/people",
        json={"handle": "zed", "name": "Zed", "timezone": "Dublin/Ireland"},
        headers=manager,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "timezone: 'Dublin/Ireland' is not an IANA time zone" in bad.json()["detail"]
    typo = client.post(
        f"{API}/people",
        json={"handle": "zed", "name": "Zed", "timezone": "singapore"},
        headers=manager,
    )
    assert "did you mean Asia/Singapore" in typo.json()["detail"]
    duplicate = client.post(
        f"{API}/people", json={"handle": "dee", "name": "Dee", "timezone": "UTC"}, headers=manager
    )
    assert duplicate.status_code == 409
    refused = client.post(
        f"{API}/people", json={"handle": "zed", "name": "Zed", "timezone": "UTC"}, headers=viewer
    )
    assert refused.status_code == 403

    shown = client.get(f"{API}/people/dee", headers=viewer).json()
    assert shown["slack_webhook_url"] == "https://hooks.slack.com/…"
    assert "secret" in client.get(f"{API}/people/dee", headers=manager).json()["slack_webhook_url"]

    patched = client.patch(
        f"{API}/people/dee", json={"name": "Dee Murphy", "email": None}, headers=manager
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["email"]) == ("Dee Murphy", None)
    nulled = client.patch(f"{API}/people/dee", json={"timezone": None}, headers=manager)
    assert nulled.status_code == 422
    assert "cannot be null" in nulled.json()["detail"]
    audit = client.get(
        f"{API}/audit",
        params={"entity_type": "oncall_person", "entity_id": "dee"},
        headers=headers(Role.ADMIN),
    ).json()
    assert [e["action"] for e in audit] == ["oncall.person_updated", "oncall.person_created"]
    assert (audit[0]["before"]["name"], audit[0]["after"]["name"]) == ("Dee", "Dee Murphy")
    assert client.get(f"{API}/people/nobody", headers=viewer).status_code == 404


def test_who_is_on_call_final_schedule_and_handoffs(client, headers, schedule):
    viewer = headers(Role.VIEWER)
    who = client.get(
        f"{API}/schedules/{schedule}/oncall", params={"at": "2026-03-17T09:30:00Z"}, headers=viewer
    ).json()
    assert (who["person"], who["layer"], who["source"]) == ("bea", "emea-backup", "backup")
    assert "Saint Patrick's Day" in who["reason"]
    assert who["until"] == "2026-03-17T16:00:00Z"
    naive = client.get(
        f"{API}/schedules/{schedule}/oncall", params={"at": "2026-03-17T09:30:00"}, headers=viewer
    )
    assert naive.status_code == 422
    assert "time zone" in naive.json()["detail"]

    final = client.get(
        f"{API}/schedules/{schedule}/final",
        params={"start": "2026-03-09T00:00:00Z", "end": "2026-03-10T00:00:00Z"},
        headers=viewer,
    ).json()
    assert [(s["start"][11:16], s["person"]) for s in final["segments"]] == [
        ("00:00", "sid"),
        ("08:00", "dan"),
        ("16:00", "abe"),
        ("23:00", "hal"),
    ]
    assert final["uncovered_seconds"] == 0

    handoffs = client.get(
        f"{API}/schedules/{schedule}/handoffs",
        params={"start": "2026-03-17T00:00:00Z", "end": "2026-03-18T00:00:00Z"},
        headers=viewer,
    ).json()
    assert [(h["at"], h["from_person"], h["to_person"]) for h in handoffs] == [
        ("2026-03-17T08:00:00Z", "sid", "bea"),
        ("2026-03-17T16:00:00Z", "bea", "abe"),
        ("2026-03-17T23:00:00Z", "abe", "gail"),
    ]
    too_long = client.get(
        f"{API}/schedules/{schedule}/final",
        params={"start": "2026-01-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"},
        headers=viewer,
    )
    assert too_long.status_code == 422


def test_schedule_ical_round_trips_through_icalendar(client, headers, schedule):
    response = client.get(
        f"{API}/schedules/{schedule}/ical",
        params={"start": "2026-03-17T04:00:00Z", "end": "2026-03-17T20:00:00Z"},
        headers=headers(Role.VIEWER),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = [
        (
            e.decoded("dtstart"),
            e.decoded("dtend"),
            str(e.get("summary")),
            str(e.get("uid")),
        )
        for e in calendar.walk("VEVENT")
    ]
    assert [(start, end) for start, end, _, _ in events] == [
        (utc(2026, 3, 17), utc(2026, 3, 17, 8)),  # whole shifts, not cut at the window
        (utc(2026, 3, 17, 8), utc(2026, 3, 17, 16)),
        (utc(2026, 3, 17, 16), utc(2026, 3, 17, 23)),
    ]
    assert [summary for _, _, summary, _ in events] == [
        "On call: sid - T&S follow the sun (singapore)",
        "On call: bea - T&S follow the sun (emea-backup)",
        "On call: abe - T&S follow the sun (austin)",
    ]
    assert len({uid for *_, uid in events}) == len(events)
    # The same shift keeps its UID whatever window it is exported in.
    wider = client.get(
        f"{API}/schedules/{schedule}/ical",
        params={"start": "2026-03-16T12:00:00Z", "end": "2026-03-19T00:00:00Z"},
        headers=headers(Role.VIEWER),
    )
    wider_uids = {
        str(e.get("uid")) for e in icalendar.Calendar.from_ical(wider.content).walk("VEVENT")
    }
    assert {uid for *_, uid in events} <= wider_uids

    mine = client.get(
        f"{API}/people/bea/ical",
        params={"start": "2026-03-17T00:00:00Z", "end": "2026-03-18T00:00:00Z"},
        headers=headers(Role.VIEWER),
    )
    [only] = icalendar.Calendar.from_ical(mine.content).walk("VEVENT")
    assert only.decoded("dtstart") == utc(2026, 3, 17, 8)
    assert str(only.get("uid")) == events[1][3]


def test_overrides_change_who_is_on_call(client, headers, schedule):
    manager = headers(Role.INCIDENT_MANAGER)
    created = client.post(
        f"{API}/overrides",
        json={
            "schedule": schedule,
            "person": "mgr",
            "starts_at": "2026-03-17T10:00:00+01:00",
            "ends_at": "2026-03-17T12:00:00Z",
            "reason": "bea at the dentist",
        },
        headers=manager,
    )
    assert created.status_code == 201, created.text
    who = client.get(
        f"{API}/schedules/{schedule}/oncall",
        params={"at": "2026-03-17T09:30:00Z"},
        headers=manager,
    ).json()
    assert (who["person"], who["source"]) == ("mgr", "override")
    backwards = client.post(
        f"{API}/overrides",
        json={
            "schedule": schedule,
            "person": "mgr",
            "starts_at": "2026-03-17T12:00:00Z",
            "ends_at": "2026-03-17T10:00:00Z",
        },
        headers=manager,
    )
    assert backwards.status_code == 422
    listed = client.get(f"{API}/overrides", params={"schedule": schedule}, headers=manager).json()
    assert [o["person"] for o in listed] == ["mgr"]
    removed = client.delete(f"{API}/overrides/{created.json()['id']}", headers=manager)
    assert removed.status_code == 200
    who = client.get(
        f"{API}/schedules/{schedule}/oncall",
        params={"at": "2026-03-17T09:30:00Z"},
        headers=manager,
    ).json()
    assert who["person"] == "bea"


def test_schedule_validation_names_the_problem(client, headers, people):
    manager = headers(Role.INCIDENT_MANAGER)
    body = fts.api_body("broken")
    body["layers"][2]["backup_layer"] = "nowhere"
    response = client.post(f"{API}/schedules", json=body, headers=manager)
    assert response.status_code == 422
    assert "backup_layer 'nowhere' is not a layer of this schedule" in response.json()["detail"]
    body = fts.api_body("broken")
    body["layers"][1]["participants"] = ["ann", "ghost"]
    response = client.post(f"{API}/schedules", json=body, headers=manager)
    assert response.status_code == 422
    assert "unknown people: ghost" in response.json()["detail"]
    body = fts.api_body("broken")
    body["layers"][0]["holiday_country"] = "XX"
    response = client.post(f"{API}/schedules", json=body, headers=manager)
    assert response.status_code == 422
    body = fts.api_body("broken")
    body["layers"][3]["covers_holidays"] = False
    response = client.post(f"{API}/schedules", json=body, headers=manager)
    assert "say whose (holiday_country" in response.json()["detail"]


def test_schedule_edit_replaces_layers_and_is_audited(client, headers, schedule):
    manager = headers(Role.INCIDENT_MANAGER)
    body = fts.api_body()
    body["layers"] = [layer for layer in body["layers"] if layer["name"] != "austin"]
    response = client.patch(
        f"{API}/schedules/{schedule}", json={"layers": body["layers"]}, headers=manager
    )
    assert response.status_code == 200, response.text
    assert [layer["name"] for layer in response.json()["layers"]] == [
        "singapore",
        "dublin",
        "emea-backup",
        "base",
    ]
    who = client.get(
        f"{API}/schedules/{schedule}/oncall",
        params={"at": "2026-03-03T20:00:00Z"},
        headers=manager,
    ).json()
    assert who["layer"] == "base"
    audit = client.get(
        f"{API}/audit",
        params={"entity_type": "oncall_schedule", "entity_id": schedule},
        headers=headers(Role.ADMIN),
    ).json()
    assert audit[0]["action"] == "oncall.schedule_updated"
    assert (len(audit[0]["before"]["layers"]), len(audit[0]["after"]["layers"])) == (5, 4)


def test_teams_routing_preview_and_pages_over_http(client, headers, schedule, clock):
    manager, responder = headers(Role.INCIDENT_MANAGER), headers(Role.RESPONDER)
    policy = client.post(
        f"{API}/escalation-policies",
        json={
            "slug": "ts-primary",
            "name": "T&S primary",
            "levels": [
                {"wait_minutes": 15, "targets": [{"schedule": schedule}]},
                {"wait_minutes": 15, "targets": [{"person": "mgr"}]},
            ],
        },
        headers=manager,
    )
    assert policy.status_code == 201, policy.text
    assert policy.json()["levels"][0]["targets"] == [{"kind": "schedule", "ref": schedule}]
    team = client.post(
        f"{API}/teams",
        json={
            "slug": "ts-ops",
            "name": "T&S operations",
            "function": "trust_safety",
            "members": ["sid", "dee"],
            "schedule": schedule,
            "escalation_policy": "ts-primary",
        },
        headers=manager,
    )
    assert team.status_code == 201, team.text
    rule = client.post(
        f"{API}/routing-rules",
        json={
            "name": "Terror everywhere",
            "harm_types": ["violent_extremism"],
            "teams": ["ts-ops"],
        },
        headers=manager,
    )
    assert rule.status_code == 201, rule.text
    preview = client.get(
        f"{API}/routing-rules/preview",
        params={
            "harm_type": "violent_extremism",
            "severity": "SEV1",
            "region": ["de", "FR"],
            "at": "2026-03-17T02:00:00Z",
        },
        headers=headers(Role.VIEWER),
    ).json()
    assert preview["regions"] == ["DE", "FR"]
    [engagement] = preview["engagements"]
    assert (engagement["team"], engagement["escalation_policy"]) == ("ts-ops", "ts-primary")
    assert [r["person"] for r in engagement["first_responders"]] == ["sid"]
    team_who = client.get(
        f"{API}/teams/ts-ops/oncall",
        params={"at": "2026-03-17T02:00:00Z"},
        headers=headers(Role.VIEWER),
    ).json()
    assert team_who["person"] == "sid"

    clock.set(datetime(2026, 3, 17, 2, tzinfo=clock.now().tzinfo))
    incident = client.post(f"{API}/incidents", json=incident_body(), headers=responder)
    key = incident.json()["key"]
    engaged = client.post(f"{API}/incidents/{key}/engage", headers=responder)
    assert engaged.status_code == 200, engaged.text
    [ref] = engaged.json()["pages"]
    again = client.post(f"{API}/incidents/{key}/engage", headers=responder).json()
    assert again["pages"][0]["created"] is False
    shown = client.get(f"{API}/pages/{ref['page_id']}", headers=responder).json()
    assert shown["incident_key"] == key
    assert {(n["person"], n["channel"]) for n in shown["notifications"]} == {
        ("sid", "email"),
        ("sid", "slack"),
    }
    not_notified = client.post(f"{API}/pages/{ref['page_id']}/acknowledge", headers=responder)
    assert not_notified.status_code == 403
    acked = client.post(
        f"{API}/pages/{ref['page_id']}/acknowledge",
        json={"note": "joining the bridge"},
        headers=manager,
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    listed = client.get(f"{API}/pages", params={"incident": key}, headers=responder).json()
    assert [p["id"] for p in listed] == [ref["page_id"]]
    timeline = client.get(f"{API}/incidents/{key}/timeline", headers=responder).json()
    assert any(
        e["kind"] == "page" and "acknowledged by manager-user: joining the bridge" in e["text"]
        for e in timeline
    )
    resolved = client.post(f"{API}/pages/{ref['page_id']}/resolve", headers=manager)
    assert resolved.json()["status"] == "resolved"
    reopened = client.post(f"{API}/pages/{ref['page_id']}/acknowledge", headers=manager)
    assert reopened.status_code == 409

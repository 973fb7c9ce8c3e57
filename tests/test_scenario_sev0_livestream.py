"""A SEV0 live-streamed attack on St Stephen's Day, across the Dublin -> Singapore handoff.

One scenario through the whole response, driven over the HTTP API with the clock moved by
hand and a real outbox worker delivering pages and reminders to a real local webhook
receiver standing in for each responder's pager:

- 26 Dec 2026 is an Irish public holiday (St Stephen's Day, from the `holidays` library).
  Trust & Safety's follow-the-sun schedule has Dublin covering the European day and late
  evening, and Singapore from 08:00 SGT (00:00 UTC). Dublin does not work Irish holidays,
  so its backup (Bea, in London) is on call instead of Dee or Dan.
- 22:30 UTC: an attack is live-streamed and re-uploaded; an incident manager declares it.
  It is SEV0; the violent-extremism playbook plans it, staffs its roles from whoever is on
  call for each function, and pages Trust & Safety (through the routing rule) and the
  executive on call (the playbook escalates to executives at SEV0).
- Nobody acknowledges the T&S page for 15 minutes: it escalates to the duty manager, once.
- 22:45: the first planned task ("end the live stream", due in 15 minutes) is late: it is
  reminded on the timeline and shows as overdue in next actions.
- SEV0 updates are due every 30 minutes: the reminder fires at 23:00, an update goes out at
  23:05, and the next reminder comes 30 minutes after it, at 23:35.
- 00:00 UTC: Singapore takes over; a new incident is paged to the Singapore responder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rapidresponse.auth.policy import Role
from rapidresponse.events import EventHub
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import OutboxWorker
from tests.oncall.conftest import Receiver, receiver  # noqa: F401 - the pager fixture

API = "/api/v1"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


PEOPLE = {
    # handle: (time zone, function team)
    "dee": ("Europe/Dublin", "ts"),
    "dan": ("Europe/Dublin", "ts"),
    "sam": ("Asia/Singapore", "ts"),
    "sid": ("Asia/Singapore", "ts"),
    "bea": ("Europe/London", "ts"),
    "mgr": ("Europe/Dublin", None),
    "lena": ("Europe/Berlin", "legal"),
    "pia": ("Europe/Dublin", "pr"),
    "eli": ("Europe/Dublin", "eng"),
    "vera": ("America/Chicago", "exec"),
}


def always(slug: str, person: str) -> dict[str, Any]:
    """A one-person, round-the-clock schedule."""
    return {
        "slug": slug,
        "name": slug,
        "layers": [
            {
                "name": "all-hours",
                "position": 0,
                "participants": [person],
                "rotation_unit": "weeks",
                "timezone": "UTC",
                "starts_on": "2026-12-01",
            }
        ],
    }


FOLLOW_THE_SUN = {
    "slug": "ts-follow-the-sun",
    "name": "Trust & Safety follow the sun",
    "layers": [
        {  # Dublin holds the pager except where Singapore's day covers it.
            "name": "dublin",
            "position": 10,
            "participants": ["dee", "dan"],
            "handoff_time": "12:00",
            "timezone": "Europe/Dublin",
            "starts_on": "2026-12-01",
            "holiday_country": "IE",
            "covers_holidays": False,
            "backup_layer": "emea-backup",
        },
        {
            "name": "singapore",
            "position": 20,
            "participants": ["sam", "sid"],
            "handoff_time": "08:00",
            "timezone": "Asia/Singapore",
            "starts_on": "2026-12-01",
            "restrictions": [{"days": ["daily"], "start": "08:00", "end": "20:00"}],
        },
        {
            "name": "emea-backup",
            "position": 5,
            "participants": ["bea"],
            "rotation_unit": "weeks",
            "timezone": "Europe/London",
            "starts_on": "2026-12-01",
            "backup_only": True,
        },
    ],
}


@pytest.fixture
def world(client, headers, receiver: Receiver):  # noqa: F811 - pytest fixture injection
    """People, teams, schedules, escalation policies and a routing rule, set up over the API."""
    admin = headers(Role.ADMIN)

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = client.post(f"{API}{path}", json=body, headers=admin)
        assert r.status_code == 201, (path, r.text)
        return r.json()

    for handle, (zone, _) in PEOPLE.items():
        post(
            "/people",
            {
                "handle": handle,
                "name": handle.title(),
                "timezone": zone,
                "webhook_url": receiver.url(handle),
            },
        )
    post("/schedules", FOLLOW_THE_SUN)
    for slug, person in (
        ("legal-oncall", "lena"),
        ("pr-oncall", "pia"),
        ("eng-oncall", "eli"),
        ("exec-oncall", "vera"),
    ):
        post("/schedules", always(slug, person))
    post(
        "/escalation-policies",
        {
            "slug": "ts-escalation",
            "name": "T&S",
            "levels": [
                {"wait_minutes": 15, "targets": [{"schedule": "ts-follow-the-sun"}]},
                {"wait_minutes": 15, "targets": [{"person": "mgr"}]},
            ],
        },
    )
    post(
        "/escalation-policies",
        {
            "slug": "exec-escalation",
            "name": "Executives",
            "levels": [{"wait_minutes": 30, "targets": [{"schedule": "exec-oncall"}]}],
        },
    )
    post(
        "/teams",
        {
            "slug": "ts",
            "name": "Trust & Safety",
            "function": "trust_safety",
            "members": ["dee", "dan", "sam", "sid", "bea"],
            "schedule": "ts-follow-the-sun",
            "escalation_policy": "ts-escalation",
        },
    )
    post(
        "/teams",
        {
            "slug": "legal",
            "name": "Legal",
            "function": "legal",
            "members": ["lena"],
            "schedule": "legal-oncall",
        },
    )
    post(
        "/teams",
        {
            "slug": "pr",
            "name": "Communications",
            "function": "pr",
            "members": ["pia"],
            "schedule": "pr-oncall",
        },
    )
    post(
        "/teams",
        {
            "slug": "eng",
            "name": "Integrity Engineering",
            "function": "engineering",
            "members": ["eli"],
            "schedule": "eng-oncall",
        },
    )
    post(
        "/teams",
        {
            "slug": "exec",
            "name": "Executives",
            "function": "executive",
            "members": ["vera"],
            "schedule": "exec-oncall",
            "escalation_policy": "exec-escalation",
        },
    )
    post(
        "/routing-rules",
        {
            "name": "extremism to T&S",
            "harm_types": ["violent_extremism"],
            "min_severity": "SEV1",
            "teams": ["ts"],
            "escalation_policy": "ts-escalation",
        },
    )
    return receiver


@pytest.fixture
def worker(db, app_settings, clock):
    settings = app_settings.model_copy(update={"webhook_secret": "scenario-secret"})
    return OutboxWorker(
        db,
        default_handlers(EventHub(), factory=db, settings=settings, clock=clock),
        clock,
        session_handlers=default_session_handlers(),
    )


def test_sev0_livestream_attack_on_a_holiday_across_the_dublin_singapore_handoff(
    client, headers, clock, world: Receiver, worker
):
    im = headers(Role.INCIDENT_MANAGER)

    def at(*when: int) -> None:
        clock.set(utc(*when))
        worker.drain()
        worker.drain()  # a second pass finds nothing new: timers fire exactly once

    def get(path: str) -> Any:
        r = client.get(f"{API}{path}", headers=im)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    # -- 22:30 UTC, St Stephen's Day: Dublin is off, its backup holds the T&S pager.
    clock.set(utc(2026, 12, 26, 22, 30))
    assert get("/schedules/ts-follow-the-sun/oncall?at=2026-12-26T22:30:00Z")["person"] == "bea"
    r = client.post(
        f"{API}/incidents",
        headers=im,
        json={
            "title": "Live-streamed attack re-uploaded in edited copies",
            "harm_type": "violent_extremism",
            "regions": ["DE", "FR", "AT", "US"],
            "languages": ["de", "en"],
            "surfaces": ["live", "feed", "search"],
            "impact": {
                "views": 3_400_000,
                "views_per_hour": 180_000,
                "regulatory_exposure": "deadline",
                "press_attention": "major",
            },
            "started_at": "2026-12-26T22:10:00Z",
        },
    )
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert r.json()["severity"]["level"] == "SEV0"

    # The playbook staffed its roles from whoever is on call for each function right now.
    people = {(p["user"], p["role"]) for p in get(f"/incidents/{key}/participants")}
    assert {
        ("manager-user", "incident_commander"),
        ("bea", "ts_operations"),
        ("lena", "legal"),
        ("pia", "communications"),
        ("eli", "engineering"),
    } <= people
    assert not {u for u, _ in people} & {"dee", "dan"}  # on holiday: never paged or staffed
    tasks = {t["playbook_step"]: t for t in get(f"/incidents/{key}/tasks")}
    assert tasks["stop-live-stream"]["owner"] == "bea"
    assert tasks["stop-live-stream"]["due_at"] == "2026-12-26T22:45:00Z"
    assert tasks["exec-briefing"]["owner"] == "manager-user"  # the commander's task
    assert "check-eu-tco-removal-order" in tasks
    plan = get(f"/incidents/{key}/plan")
    assert (plan["severity"], plan["cadence"]) == ("SEV0", "30m")

    # Pages: T&S through the routing rule, executives because the playbook says so at SEV0.
    pages = {p["escalation_policy"]: p for p in get(f"/pages?incident={key}")}
    assert set(pages) == {"ts-escalation", "exec-escalation"}
    at(2026, 12, 26, 22, 30)
    assert sorted(world.paged()) == ["bea", "vera"]

    # -- 22:45: nobody acknowledged T&S for 15 minutes; the duty manager is paged, once.
    at(2026, 12, 26, 22, 45)
    assert sorted(world.paged()) == ["bea", "mgr", "vera"]
    ts_page = get(f"/pages/{pages['ts-escalation']['id']}")
    assert ts_page["level"] == 1
    # ... and the first task is late: reminded on the timeline and overdue in next actions.
    reminders = get(f"/incidents/{key}/timeline?kind=reminder")
    assert [e["text"].split(":")[0] for e in reminders] == [
        f"Task #{tasks['stop-live-stream']['id']} is overdue"
    ]
    at(2026, 12, 26, 22, 46)
    overdue = get(f"/incidents/{key}/next-actions")["overdue"]
    assert overdue[0]["title"] == "End the live stream and suspend the broadcasting account"
    assert overdue[0]["owner"] == "bea"

    # -- 22:50: the duty manager acknowledges; the page stops escalating.
    r = client.post(
        f"{API}/pages/{ts_page['id']}/acknowledge",
        json={"note": "on it"},
        headers=headers(Role.INCIDENT_MANAGER),
    )
    assert r.status_code == 200, r.text
    # -- Cadence: SEV0 updates every 30 minutes. 23:00 comes with no update: reminded.
    at(2026, 12, 26, 23, 0)
    cadence = [
        e for e in get(f"/incidents/{key}/timeline?kind=reminder") if "update" in e["text"].lower()
    ]
    assert [e["at"] for e in cadence] == ["2026-12-26T23:00:00Z"]
    # An update goes out at 23:05 (composed from the live facts, sent to stakeholders) ...
    clock.set(utc(2026, 12, 26, 23, 5))
    update = client.post(
        f"{API}/incidents/{key}/comms/updates",
        headers=im,
        json={
            "kind": "internal_update",
            "recipients": [{"channel": "webhook", "target": world.url("stakeholders")}],
        },
    ).json()
    assert key in update["body"]
    sent = client.post(
        f"{API}/incidents/{key}/comms/updates/{update['id']}/send",
        headers=im | {"If-Match": f'"{update["version"]}"'},
    )
    assert sent.status_code == 200, sent.text
    at(2026, 12, 26, 23, 34)
    assert "stakeholders" in world.paged()
    assert sorted(world.paged()).count("mgr") == 1  # the acknowledged page stayed quiet
    assert get(f"/pages/{ts_page['id']}")["status"] == "acknowledged"
    # ... so the next reminder is due 30 minutes after it, not after the last one.
    cadence = [
        e for e in get(f"/incidents/{key}/timeline?kind=reminder") if "update" in e["text"].lower()
    ]
    assert [e["at"] for e in cadence] == ["2026-12-26T23:00:00Z"]
    at(2026, 12, 26, 23, 35)
    cadence = [
        e for e in get(f"/incidents/{key}/timeline?kind=reminder") if "update" in e["text"].lower()
    ]
    assert [e["at"] for e in cadence] == ["2026-12-26T23:00:00Z", "2026-12-26T23:35:00Z"]

    # -- 00:00 UTC: Singapore's day begins; the pager passes from Bea to Singapore.
    handoffs = get(
        "/schedules/ts-follow-the-sun/handoffs?start=2026-12-26T22:00:00Z&end=2026-12-27T02:00:00Z"
    )
    moves = [(h["at"], h["from_person"], h["to_person"]) for h in handoffs]
    assert moves[0][0] == "2026-12-27T00:00:00Z"
    assert moves[0][1] == "bea"
    singapore = moves[0][2]
    assert singapore in {"sam", "sid"}
    clock.set(utc(2026, 12, 27, 0, 10))
    second = client.post(
        f"{API}/incidents",
        headers=im,
        json={
            "title": "Manifesto spreading in Australian feeds",
            "harm_type": "violent_extremism",
            "regions": ["AU"],
            "impact": {"views": 200_000, "views_per_hour": 20_000},
        },
    )
    assert second.status_code == 201, second.text
    at(2026, 12, 27, 0, 10)
    [page] = get(f"/pages?incident={second.json()['key']}")
    assert [(n["person"], n["via"]) for n in page["notifications"]] == [
        (singapore, "schedule ts-follow-the-sun (singapore)")
    ]
    assert singapore in world.paged()

"""Who may call each on-call endpoint: reads for every role, edits for incident managers,
paging for responders, acknowledging for the people paged or incident managers.

``ENDPOINTS`` states it once; ``test_table_covers_every_oncall_route`` fails when a route is
added without deciding who may call it. (These rows are also what the suite-wide matrix in
tests/api/test_authorization_matrix.py needs for the on-call routes.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from rapidresponse.auth.policy import Role
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate
from rapidresponse.oncall import service
from rapidresponse.oncall.api import router
from rapidresponse.oncall.schemas import (
    OverrideCreate,
    PageCreate,
    PersonCreate,
    PolicyCreate,
    RuleCreate,
    ScheduleCreate,
    TeamCreate,
)
from tests.conftest import MANAGER, incident_body
from tests.oncall import follow_the_sun as fts

API = "/api/v1"
ROLES = [Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER, Role.ADMIN]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    minimum: Role
    success: int = 200
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _schedule_body(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": slug,
        "layers": [
            {
                "name": "all",
                "position": 0,
                "participants": ["dee"],
                "timezone": "Europe/Dublin",
                "starts_on": "2026-01-05",
            }
        ],
    }


def _policy_body(slug: str) -> dict[str, Any]:
    return {"slug": slug, "name": slug, "levels": [{"targets": [{"schedule": "ts"}]}]}


WINDOW = {"start": "2026-11-25T00:00:00Z", "end": "2026-11-26T00:00:00Z"}
ENDPOINTS = [
    Endpoint("GET", "/people", Role.VIEWER),
    Endpoint(
        "POST",
        "/people",
        Role.INCIDENT_MANAGER,
        201,
        {"handle": "newbie", "name": "New", "timezone": "UTC"},
    ),
    Endpoint("GET", "/people/{handle}", Role.VIEWER),
    Endpoint("PATCH", "/people/{handle}", Role.INCIDENT_MANAGER, body={"name": "Renamed"}),
    Endpoint("GET", "/people/{handle}/shifts", Role.VIEWER, params=WINDOW),
    Endpoint("GET", "/people/{handle}/ical", Role.VIEWER),
    Endpoint("GET", "/teams", Role.VIEWER),
    Endpoint(
        "POST",
        "/teams",
        Role.INCIDENT_MANAGER,
        201,
        {"slug": "new-team", "name": "New", "function": "pr"},
    ),
    Endpoint("GET", "/teams/{team}", Role.VIEWER),
    Endpoint("PATCH", "/teams/{team}", Role.INCIDENT_MANAGER, body={"members": ["dee"]}),
    Endpoint("DELETE", "/teams/{spare_team}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/teams/{team}/oncall", Role.VIEWER),
    Endpoint("GET", "/schedules", Role.VIEWER),
    Endpoint("POST", "/schedules", Role.INCIDENT_MANAGER, 201, _schedule_body("new-schedule")),
    Endpoint("GET", "/schedules/{schedule}", Role.VIEWER),
    Endpoint("PATCH", "/schedules/{schedule}", Role.INCIDENT_MANAGER, body={"name": "Renamed"}),
    Endpoint("DELETE", "/schedules/{spare_schedule}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/schedules/{schedule}/oncall", Role.VIEWER),
    Endpoint("GET", "/schedules/{schedule}/final", Role.VIEWER, params=WINDOW),
    Endpoint("GET", "/schedules/{schedule}/handoffs", Role.VIEWER, params=WINDOW),
    Endpoint("GET", "/schedules/{schedule}/ical", Role.VIEWER),
    Endpoint("GET", "/overrides", Role.VIEWER),
    Endpoint(
        "POST",
        "/overrides",
        Role.INCIDENT_MANAGER,
        201,
        {
            "schedule": "ts",
            "person": "dan",
            "starts_at": "2026-11-25T12:00:00Z",
            "ends_at": "2026-11-25T14:00:00Z",
        },
    ),
    Endpoint("DELETE", "/overrides/{override_id}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/escalation-policies", Role.VIEWER),
    Endpoint("POST", "/escalation-policies", Role.INCIDENT_MANAGER, 201, _policy_body("new-pol")),
    Endpoint("GET", "/escalation-policies/{policy}", Role.VIEWER),
    Endpoint("PATCH", "/escalation-policies/{policy}", Role.INCIDENT_MANAGER, body={"repeat": 2}),
    Endpoint("DELETE", "/escalation-policies/{spare_policy}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/routing-rules", Role.VIEWER),
    Endpoint(
        "GET",
        "/routing-rules/preview",
        Role.VIEWER,
        params={"harm_type": "hate_speech", "severity": "SEV2", "region": "DE"},
    ),
    Endpoint(
        "POST", "/routing-rules", Role.INCIDENT_MANAGER, 201, {"name": "new", "teams": ["pr"]}
    ),
    Endpoint("GET", "/routing-rules/{rule_id}", Role.VIEWER),
    Endpoint("PATCH", "/routing-rules/{rule_id}", Role.INCIDENT_MANAGER, body={"stop": True}),
    Endpoint("DELETE", "/routing-rules/{rule_id}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/pages", Role.VIEWER),
    Endpoint(
        "POST", "/pages", Role.RESPONDER, 201, {"escalation_policy": "ts-pol", "summary": "Help"}
    ),
    Endpoint("GET", "/pages/{page_id}", Role.VIEWER),
    # Nobody in the test principals was notified: the role decides.
    Endpoint("POST", "/pages/{page_id}/acknowledge", Role.INCIDENT_MANAGER),
    Endpoint("POST", "/pages/{page_id}/resolve", Role.INCIDENT_MANAGER),
    Endpoint("POST", "/incidents/{key}/engage", Role.RESPONDER),
]


def build_world(db, clock) -> dict[str, Any]:
    now = clock.now()
    with transaction(db) as session:
        for handle in ("dee", "dan"):
            service.create_person(
                session,
                MANAGER,
                PersonCreate(handle=handle, name=handle, timezone=fts.ZONES[handle]),
                now,
            )
        for slug in ("ts", "spare-schedule"):
            service.create_schedule(
                session, MANAGER, ScheduleCreate.model_validate(_schedule_body(slug)), now
            )
        for slug in ("ts-pol", "spare-policy"):
            service.create_policy(
                session, MANAGER, PolicyCreate.model_validate(_policy_body(slug)), now
            )
        for slug in ("pr", "spare-team"):
            service.create_team(
                session,
                MANAGER,
                TeamCreate.model_validate(
                    {"slug": slug, "name": slug, "function": "pr", "schedule": "ts"}
                ),
                now,
            )
        rule = service.create_rule(session, MANAGER, RuleCreate(name="pr", teams=["pr"]), now)
        override = service.create_override(
            session,
            MANAGER,
            OverrideCreate.model_validate(
                {
                    "schedule": "ts",
                    "person": "dan",
                    "starts_at": "2026-11-25T09:00:00Z",
                    "ends_at": "2026-11-25T11:00:00Z",
                }
            ),
            now,
        )
        page = service.trigger_page(
            session, MANAGER, PageCreate(escalation_policy="ts-pol", summary="Help"), now
        )
        key = incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body()), now
        ).key
        return {
            "handle": "dee",
            "team": "pr",
            "spare_team": "spare-team",
            "schedule": "ts",
            "spare_schedule": "spare-schedule",
            "policy": "ts-pol",
            "spare_policy": "spare-policy",
            "rule_id": rule.id,
            "override_id": override.id,
            "page_id": page.id,
            "key": key,
        }


def test_table_covers_every_oncall_route():
    routes = {
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    table = {(e.method, re.sub(r"{\w+}", "{}", e.path)) for e in ENDPOINTS}
    assert {(m, re.sub(r"{\w+}", "{}", p)) for m, p in routes} == table
    assert len(table) == len(ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_each_role_gets_what_the_table_says(client, headers, db, clock, endpoint):
    world = build_world(db, clock)
    path = API + endpoint.path.format(**world)

    def call(auth: dict[str, str]) -> Any:
        return client.request(
            endpoint.method, path, headers=auth, json=endpoint.body, params=endpoint.params
        )

    anonymous = call({})
    assert anonymous.status_code == 401, anonymous.text
    for role in ROLES:
        response = call(headers(role))
        label = f"{endpoint.id} as {role.value}: {response.status_code} {response.text[:300]}"
        if role.level < endpoint.minimum.level:
            assert response.status_code == 403, label
            assert response.json()["type"] == "urn:rapidresponse:problem:forbidden", label
        else:
            assert response.status_code == endpoint.success, label
            break  # the write succeeded; higher roles include this one's rights

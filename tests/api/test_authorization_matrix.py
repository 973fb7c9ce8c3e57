"""Authorisation matrix: every /api/v1 endpoint x every role (and no token), plus need-to-know.

`MATRIX` below is the single statement of who may call what. Each row is exercised with a
valid request against real rows, so the only reason a call can be refused is authorisation:

- no token, or an unknown one -> 401 with `WWW-Authenticate: Bearer`, and nothing is written;
- a role below the row's minimum -> 403, and nothing is written;
- the minimum role or above -> the row's success status.

`test_matrix_covers_every_route` enumerates the application's routes, so an endpoint added
without a row here fails the suite until someone decides who may call it.

Restricted incidents (need-to-know) must look exactly like incidents that do not exist to
everyone who is neither a current participant nor an admin.

Speed: the matrix is a few hundred requests per backend, and emptying every table before each
test (the `db` fixture) costs more than the requests themselves on PostgreSQL. So this module
empties the database once per backend (`api`, module scope) and every test builds the fresh
rows its own requests touch: tests share tokens, the audit log and the on-call directory
(each test's people, schedules, policies, teams and rules have names of their own), never an
incident or a row another test's requests touch.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from rapidresponse.app import create_app
from rapidresponse.auth import service as auth_service
from rapidresponse.auth.policy import Role
from rapidresponse.clock import ManualClock
from rapidresponse.db import make_session_factory, transaction
from rapidresponse.settings import Settings
from tests.conftest import PRINCIPALS, T0, incident_body, reset_database

API = "/api/v1"
ROLES = [Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER, Role.ADMIN]
NON_ADMIN_ROLES = [Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER]
ANONYMOUS = "anonymous"
UNKNOWN_TOKEN = "unknown-token"
CALLERS: list[Role | str] = [ANONYMOUS, UNKNOWN_TOKEN, *ROLES]
# Same format as real keys; never declared in this module.
MISSING_KEY = "INC-2026-9999"
# Incident-scoped reads that answer 200 on any incident the caller may see.
READS = ("", "/timeline", "/tasks", "/participants", "/plan", "/next-actions", "/comms/updates")


# ---------------------------------------------------------------- shared environment


@dataclass
class Api:
    client: TestClient
    tokens: dict[Role, str]
    # A responder who is no test principal, to give a statement the PR approval that an
    # admin's Legal approval completes (nobody may approve as both).
    pr_lead: str
    # Alerts come from detection over days of signals; the matrix inserts them directly.
    factory: Any = None

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.headers(Role.ADMIN)

    def newest_audit_seq(self) -> int:
        response = self.client.get(f"{API}/audit", params={"limit": 1}, headers=self.admin)
        assert response.status_code == 200, response.text
        entries = response.json()
        return int(entries[0]["seq"]) if entries else 0

    def listed(self, auth: dict[str, str], key: str, **params: Any) -> bool:
        response = self.client.get(
            f"{API}/incidents", params={"limit": 500, **params}, headers=auth
        )
        assert response.status_code == 200, response.text
        page = response.json()
        keys = [item["key"] for item in page["items"]]
        assert page["total"] == len(keys), page
        return key in keys


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[Api]:
    """An empty migrated database (per backend), one token per role, and a client."""
    reset_database(engine)
    clock = ManualClock(T0)
    with transaction(make_session_factory(engine)) as session:
        tokens = {
            role: auth_service.issue_token(
                session,
                name=f"{role.value} token",
                subject=principal.subject,
                role=role,
                actor="test-setup",
                now=clock.now(),
            )[1]
            for role, principal in PRINCIPALS.items()
        }
        pr_lead = auth_service.issue_token(
            session,
            name="pr lead token",
            subject=PR_LEAD,
            role=Role.RESPONDER,
            actor="test-setup",
            now=clock.now(),
        )[1]
    # Two items need a second approval, one does not (see ACTION_STATES).
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        worker_mode="off",
        approval_threshold=1,
    )
    with TestClient(create_app(settings, clock)) as client:
        yield Api(client, tokens, pr_lead, make_session_factory(engine))


# ---------------------------------------------------------------- rows the paths point at

# Path parameters whose name alone does not say which row they point at.
PARAMETER_ROWS = {
    ("people", "handle"): "person",
    ("teams", "slug"): "team",
    ("schedules", "ref"): "schedule",
    ("escalation-policies", "ref"): "policy",
    ("rules", "rule_id"): "legal_rule",
}
# A status update in the state a comms step needs: an internal update (a draft), or an
# external statement that is a draft, awaiting approval, or approved by PR and Legal.
UPDATE_STATES = ("internal_update", "draft_statement", "pending_statement", "approved_statement")
# Every test principal holds the incident's Legal role, so only their API role decides who
# may approve or reject a statement (an admin may without it).
LEGAL_ROLE = "legal_role"
# The incident has an update cadence.
CADENCE = "cadence"
# Containment actions in the states an enforcement step needs, all requested by the PR lead
# (who is no test principal, so any incident manager may approve): a small one (one item,
# under the approval threshold), a big one awaiting a second approval, one running.
ACTION_STATES = ("small_action", "big_action", "running_action")
# Report drafts (from a DSA Art. 18 trigger): a draft, and one reviewed.
REPORT_STATES = ("draft_report", "reviewed_report")
# The incident's content cluster has items.
CLUSTER = "cluster"
# Path parameters that point at a row in one of several states, named in `given`.
STATEFUL = {"update_id": UPDATE_STATES, "action_id": ACTION_STATES, "report_id": REPORT_STATES}
# Rows a row needs before it can be made.
DEPENDS = {
    "schedule": {"person"},
    "policy": {"schedule"},
    "team": {"schedule"},
    "rule_id": {"team"},
    "override_id": {"schedule", "person"},
    "page_id": {"policy"},
    **{state: {"key"} for state in UPDATE_STATES},
    LEGAL_ROLE: {"key"},
    CADENCE: {"key"},
    CLUSTER: {"key"},
    **{state: {CLUSTER} for state in ACTION_STATES},
    "obligation_id": {"key"},
    **{state: {"obligation_id"} for state in REPORT_STATES},
}
PR_LEAD = "pr-lead"
_SERIAL = itertools.count(1)


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(re.findall(r"{(\w+)}", value))
    if isinstance(value, dict):
        return set().union(*map(_placeholders, value.values()))
    if isinstance(value, list | tuple):
        return set().union(*map(_placeholders, value))
    return set()


def _closure(needs: set[str]) -> frozenset[str]:
    todo, done = set(needs), set()
    while todo:
        need = todo.pop()
        done.add(need)
        todo |= DEPENDS.get(need, set()) - done
    return frozenset(done)


@dataclass
class World:
    """Real rows the path templates (and request bodies) resolve to, built as an admin.

    On-call rows are named after `uniq`, which no other world shares: tests share the
    directory of people, schedules, policies, teams and rules, never a row of it.
    """

    uniq: str = ""
    key: str | None = None
    incident_version: int | None = None
    task_id: int | None = None
    task_version: int | None = None
    participant_id: int | None = None
    token_id: int | None = None
    playbook_id: str | None = None
    person: str | None = None
    schedule: str | None = None
    policy: str | None = None
    team: str | None = None
    rule_id: int | None = None
    override_id: int | None = None
    page_id: int | None = None
    harm_type: str = "violent_extremism"
    legal_rule: str = "eu-tco-art3-removal"
    obligation_id: int | None = None
    alert_id: int | None = None
    obligation_version: int | None = None
    # (id, version) of a status update, action or report draft in each state built, see
    # UPDATE_STATES, ACTION_STATES and REPORT_STATES.
    updates: dict[str, tuple[int, int]] = field(default_factory=dict)

    def values(self, given: tuple[str, ...] = ()) -> dict[str, Any]:
        values = {
            k: v for k, v in self.__dict__.items() if v is not None and not isinstance(v, dict)
        }
        for name, states in STATEFUL.items():
            state = next((s for s in states if s in given), None)
            if state is not None:
                values[name] = self.updates[state][0]
                values[name.removesuffix("_id") + "_version"] = self.updates[state][1]
        return values

    def path(self, template: str, given: tuple[str, ...] = ()) -> str:
        values = self.values(given)

        def value(match: re.Match[str]) -> str:
            collection, name = match.groups()
            return f"{collection}/{values[PARAMETER_ROWS.get((collection, name), name)]}"

        return re.sub(r"([\w-]+)/{(\w+)}", value, template)

    def fill(self, value: Any, given: tuple[str, ...] = ()) -> Any:
        """A request body or query with its {placeholders} replaced by this world's rows."""
        if isinstance(value, str):
            return value.format_map(self.values(given))
        if isinstance(value, dict):
            return {k: self.fill(v, given) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v, given) for v in value]
        return value


def _schedule_body(slug: str, person: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": f"Schedule {slug}",
        "layers": [
            {
                "name": "all",
                "position": 0,
                "participants": [person],
                "timezone": "Europe/Dublin",
                "starts_on": "2026-01-05",
            }
        ],
    }


def _policy_body(slug: str, schedule: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": f"Policy {slug}",
        "levels": [{"targets": [{"schedule": schedule}]}],
    }


def _alert(api: Api) -> int:
    from rapidresponse.signals.model import Alert

    with transaction(api.factory) as session:
        alert = Alert(
            status="open",
            title="Hate speech surging in DE (#raid)",
            harm_type="hate_speech",
            regions=["DE"],
            languages=["de"],
            series=["harm_region:hate_speech|DE", "hashtag:#raid"],
            score=0.97,
            first_seen=T0,
            last_seen=T0,
            opened_at=T0,
        )
        session.add(alert)
        session.flush()
        return alert.id


def _action_body(selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": "geo_restrict",
        "selector": selector,
        "regions": ["DE"],
        "policy_section": "VE-1",
        "explanation": "Attack footage shared to glorify the attack.",
    }


def build_world(api: Api, needs: frozenset[str], **declare: Any) -> World:
    client, admin, world = api.client, api.admin, World(uniq=f"m{next(_SERIAL)}")
    needs = _closure(set(needs))
    name = f"matrix-{world.uniq}"

    def post(path: str, body: dict[str, Any] | None, auth: dict[str, str] = admin) -> Any:
        response = client.post(API + path, json=body, headers=auth)
        assert response.status_code in (200, 201, 202), f"POST {path}: {response.text}"
        return response.json()

    if "key" in needs:
        world.key = post("/incidents", incident_body(**declare))["key"]
    if "task_id" in needs:
        task = post(f"/incidents/{world.key}/tasks", {"title": "Collect re-upload hashes"})
        world.task_id, world.task_version = task["id"], task["version"]
    if "participant_id" in needs:
        participant = post(
            f"/incidents/{world.key}/participants", {"user": "scribe-user", "role": "scribe"}
        )
        world.participant_id = participant["id"]
    if "token_id" in needs:
        token = post("/tokens", {"name": "spare", "subject": "spare-bot", "role": "viewer"})
        world.token_id = token["id"]
    if "playbook_id" in needs:
        response = client.get(f"{API}/playbooks", headers=admin)
        assert response.status_code == 200, response.text
        world.playbook_id = response.json()[0]["id"]
    if LEGAL_ROLE in needs:
        for principal in PRINCIPALS.values():
            post(
                f"/incidents/{world.key}/participants", {"user": principal.subject, "role": "legal"}
            )
    if {"pending_statement", "approved_statement"} & needs:
        post(f"/incidents/{world.key}/participants", {"user": PR_LEAD, "role": "communications"})
    for state in UPDATE_STATES:
        if state not in needs:
            continue
        kind = "internal_update" if state == "internal_update" else "external_statement"
        update = post(f"/incidents/{world.key}/comms/updates", {"kind": kind})
        one = f"/incidents/{world.key}/comms/updates/{update['id']}"
        if state in ("pending_statement", "approved_statement"):
            update = post(one + "/submit", None)
        if state == "approved_statement":
            pr = {"Authorization": f"Bearer {api.pr_lead}"}
            update = post(one + "/approvals", {"function": "pr", "version": update["version"]}, pr)
            update = post(one + "/approvals", {"function": "legal", "version": update["version"]})
            assert update["status"] == "approved", update
        world.updates[state] = (update["id"], update["version"])
    if CADENCE in needs:
        response = client.put(
            f"{API}/incidents/{world.key}/comms/cadence", json={"every_minutes": 30}, headers=admin
        )
        assert response.status_code == 200, response.text
    if "person" in needs:
        world.person = post("/people", {"handle": name, "name": name, "timezone": "Europe/Dublin"})[
            "handle"
        ]
    if "schedule" in needs:
        world.schedule = post("/schedules", _schedule_body(name, world.person or ""))["slug"]
    if "policy" in needs:
        world.policy = post("/escalation-policies", _policy_body(name, world.schedule or ""))[
            "slug"
        ]
    if "team" in needs:
        body = {"slug": name, "name": name, "function": "pr", "schedule": world.schedule}
        world.team = post("/teams", body)["slug"]
    if "rule_id" in needs:
        world.rule_id = post("/routing-rules", {"name": name, "teams": [world.team]})["id"]
    if "override_id" in needs:
        body = {
            "schedule": world.schedule,
            "person": world.person,
            "starts_at": "2026-11-25T12:00:00Z",
            "ends_at": "2026-11-25T14:00:00Z",
        }
        world.override_id = post("/overrides", body)["id"]
    if "page_id" in needs:
        world.page_id = post("/pages", {"escalation_policy": world.policy, "summary": "Help"})["id"]
    if CLUSTER in needs:
        items = [
            {"external_id": f"matrix-{world.uniq}-{i}", "account_id": "acct-1"} for i in range(2)
        ]
        post(f"/incidents/{world.key}/content", {"items": items})
    pr = {"Authorization": f"Bearer {api.pr_lead}"}
    for state in ACTION_STATES:
        if state not in needs:
            continue
        selector: dict[str, Any] = {"scope": "cluster"}
        if state != "big_action":
            selector = {"scope": "items", "external_ids": [f"matrix-{world.uniq}-0"]}
        action = post(f"/incidents/{world.key}/actions", _action_body(selector), pr)
        if state == "running_action":
            action = post(f"/incidents/{world.key}/actions/{action['id']}/execute", None)
        world.updates[state] = (action["id"], action["version"])
    if "obligation_id" in needs:
        post(f"/incidents/{world.key}/triggers", {"kind": "threat_to_life_identified"})
        response = client.get(f"{API}/incidents/{world.key}/obligations", headers=admin)
        assert response.status_code == 200, response.text
        (notify,) = [o for o in response.json() if o["report_draft"] is not None]
        world.obligation_id, world.obligation_version = notify["id"], notify["version"]
        report_id = notify["report_draft"]
        for state in REPORT_STATES:
            if state not in needs:
                continue
            one = f"/incidents/{world.key}/reports/{report_id}"
            report = client.get(API + one, headers=admin).json()
            if state == "reviewed_report":
                report = post(one + "/review", {"version": report["version"]})
            world.updates[state] = (report["id"], report["version"])
    if "alert_id" in needs:
        world.alert_id = _alert(api)
    if world.key is not None:
        # Read the version last: adding a participant touches the incident.
        response = client.get(f"{API}/incidents/{world.key}", headers=admin)
        assert response.status_code == 200, response.text
        world.incident_version = response.json()["version"]
    return world


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    minimum: Role
    success: int = 200
    body: dict[str, Any] | str | None = None
    params: dict[str, Any] | None = None
    # Which version to send as If-Match: "incident", "task" or "update".
    if_match: str | None = None
    # State the call needs beyond the rows its path and body name (see UPDATE_STATES,
    # LEGAL_ROLE and CADENCE).
    given: tuple[str, ...] = ()
    needs: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        named = {
            PARAMETER_ROWS.get((collection, name), name)
            for collection, name in re.findall(r"([\w-]+)/{(\w+)}", self.path)
        } - set(STATEFUL)
        named |= _placeholders(self.body) | _placeholders(self.params)
        object.__setattr__(self, "needs", frozenset(named - {"uniq"} | set(self.given)))
        for name, states in STATEFUL.items():
            state = next((s for s in states if s in self.given), None)
            assert (f"{{{name}}}" in self.path) == (state is not None), self.id

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def update(self) -> str | None:
        """The state of the status update the path points at, if it points at one."""
        return next((s for s in UPDATE_STATES if s in self.given), None)

    def send(self, client: TestClient, world: World, auth: dict[str, str]) -> Response:
        headers = dict(auth)
        if self.if_match == "incident":
            headers["If-Match"] = f'"{world.incident_version}"'
        elif self.if_match == "task":
            headers["If-Match"] = f'"{world.task_version}"'
        elif self.if_match == "update":
            headers["If-Match"] = f'"{world.updates[self.update or ""][1]}"'
        return client.request(
            self.method,
            world.path(API + self.path, self.given),
            headers=headers,
            json=world.fill(self.body, self.given),
            params=world.fill(self.params, self.given),
        )


WINDOW = {"start": "2026-11-25T00:00:00Z", "end": "2026-11-26T00:00:00Z"}


# Every route under /api/v1 with the least role that may call it (see auth/policy.py).
MATRIX: list[Endpoint] = [
    Endpoint("GET", "/taxonomy/harm-types", Role.VIEWER),
    Endpoint("GET", "/me", Role.VIEWER),
    Endpoint("GET", "/incidents", Role.VIEWER),
    Endpoint("POST", "/incidents", Role.RESPONDER, 201, body=incident_body()),
    Endpoint("GET", "/incidents/{key}", Role.VIEWER),
    Endpoint(
        "PATCH",
        "/incidents/{key}",
        Role.INCIDENT_MANAGER,
        body={"title": "Retitled by the matrix"},
        if_match="incident",
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/transitions",
        Role.INCIDENT_MANAGER,
        body={"to": "triaged", "reason": "confirmed"},
        if_match="incident",
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/severity",
        Role.INCIDENT_MANAGER,
        body={"override": "SEV3", "reason": "contained to one small region"},
        if_match="incident",
    ),
    Endpoint("GET", "/incidents/{key}/timeline", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/timeline",
        Role.RESPONDER,
        201,
        body={"text": "Hash-matching rolled out", "decision": False},
    ),
    Endpoint("GET", "/incidents/{key}/participants", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/participants",
        Role.INCIDENT_MANAGER,
        201,
        body={"user": "legal-user", "role": "legal"},
    ),
    Endpoint("DELETE", "/incidents/{key}/participants/{participant_id}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/incidents/{key}/tasks", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/tasks",
        Role.RESPONDER,
        201,
        body={"title": "Add hashes to the blocklist", "owner": "responder-user"},
    ),
    Endpoint(
        "PATCH",
        "/incidents/{key}/tasks/{task_id}",
        Role.RESPONDER,
        body={"status": "in_progress"},
        if_match="task",
    ),
    Endpoint("GET", "/tokens", Role.ADMIN),
    Endpoint(
        "POST",
        "/tokens",
        Role.ADMIN,
        201,
        body={"name": "matrix bot", "subject": "matrix-bot", "role": "viewer"},
    ),
    Endpoint("DELETE", "/tokens/{token_id}", Role.ADMIN),
    Endpoint("GET", "/audit", Role.ADMIN),
    Endpoint("GET", "/audit/verify", Role.ADMIN),
    Endpoint("GET", "/outbox", Role.ADMIN),
    Endpoint("GET", "/outbox/messages", Role.ADMIN),
    Endpoint("POST", "/outbox/requeue-dead", Role.ADMIN),
    Endpoint("GET", "/playbooks", Role.VIEWER),
    Endpoint("GET", "/playbook-schema", Role.VIEWER),
    Endpoint("GET", "/playbooks/{playbook_id}", Role.VIEWER),
    Endpoint(
        "GET",
        "/playbooks/{playbook_id}/preview",
        Role.VIEWER,
        params={"severity": "SEV1", "region": ["DE", "FR"]},
    ),
    Endpoint("GET", "/incidents/{key}/plan", Role.VIEWER),
    Endpoint("POST", "/incidents/{key}/plan", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/incidents/{key}/next-actions", Role.VIEWER),
    Endpoint("GET", "/next-actions", Role.VIEWER, params={"horizon_minutes": 240}),
    # ------------------------------------------------ on-call (see oncall/api.py)
    Endpoint("GET", "/people", Role.VIEWER),
    Endpoint(
        "POST",
        "/people",
        Role.INCIDENT_MANAGER,
        201,
        body={"handle": "new-{uniq}", "name": "New", "timezone": "UTC"},
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
        body={"slug": "new-{uniq}", "name": "New", "function": "pr"},
    ),
    Endpoint("GET", "/teams/{slug}", Role.VIEWER),
    Endpoint("PATCH", "/teams/{slug}", Role.INCIDENT_MANAGER, body={"members": ["{person}"]}),
    Endpoint("DELETE", "/teams/{slug}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/teams/{slug}/oncall", Role.VIEWER),
    Endpoint("GET", "/schedules", Role.VIEWER),
    Endpoint(
        "POST",
        "/schedules",
        Role.INCIDENT_MANAGER,
        201,
        body=_schedule_body("new-{uniq}", "{person}"),
    ),
    Endpoint("GET", "/schedules/{ref}", Role.VIEWER),
    Endpoint("PATCH", "/schedules/{ref}", Role.INCIDENT_MANAGER, body={"name": "Renamed"}),
    Endpoint("DELETE", "/schedules/{ref}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/schedules/{ref}/oncall", Role.VIEWER),
    Endpoint("GET", "/schedules/{ref}/final", Role.VIEWER, params=WINDOW),
    Endpoint("GET", "/schedules/{ref}/handoffs", Role.VIEWER, params=WINDOW),
    Endpoint("GET", "/schedules/{ref}/ical", Role.VIEWER),
    Endpoint("GET", "/overrides", Role.VIEWER),
    Endpoint(
        "POST",
        "/overrides",
        Role.INCIDENT_MANAGER,
        201,
        body={
            "schedule": "{schedule}",
            "person": "{person}",
            "starts_at": "2026-11-25T12:00:00Z",
            "ends_at": "2026-11-25T14:00:00Z",
        },
    ),
    Endpoint("DELETE", "/overrides/{override_id}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/escalation-policies", Role.VIEWER),
    Endpoint(
        "POST",
        "/escalation-policies",
        Role.INCIDENT_MANAGER,
        201,
        body=_policy_body("new-{uniq}", "{schedule}"),
    ),
    Endpoint("GET", "/escalation-policies/{ref}", Role.VIEWER),
    Endpoint("PATCH", "/escalation-policies/{ref}", Role.INCIDENT_MANAGER, body={"repeat": 2}),
    Endpoint("DELETE", "/escalation-policies/{ref}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/routing-rules", Role.VIEWER),
    Endpoint(
        "GET",
        "/routing-rules/preview",
        Role.VIEWER,
        params={"harm_type": "hate_speech", "severity": "SEV2", "region": "DE"},
    ),
    Endpoint(
        "POST",
        "/routing-rules",
        Role.INCIDENT_MANAGER,
        201,
        body={"name": "new {uniq}", "teams": ["{team}"]},
    ),
    Endpoint("GET", "/routing-rules/{rule_id}", Role.VIEWER),
    Endpoint("PATCH", "/routing-rules/{rule_id}", Role.INCIDENT_MANAGER, body={"stop": True}),
    Endpoint("DELETE", "/routing-rules/{rule_id}", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/pages", Role.VIEWER),
    Endpoint(
        "POST",
        "/pages",
        Role.RESPONDER,
        201,
        body={"escalation_policy": "{policy}", "summary": "Help"},
    ),
    Endpoint("GET", "/pages/{page_id}", Role.VIEWER),
    # Nobody the page notified is a test principal: the role decides.
    Endpoint("POST", "/pages/{page_id}/acknowledge", Role.INCIDENT_MANAGER),
    Endpoint("POST", "/pages/{page_id}/resolve", Role.INCIDENT_MANAGER),
    Endpoint("POST", "/incidents/{key}/engage", Role.RESPONDER),
    # ------------------------------------------------ comms (see comms/api.py)
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates",
        Role.RESPONDER,
        201,
        body={"kind": "internal_update"},
    ),
    Endpoint("GET", "/incidents/{key}/comms/updates", Role.VIEWER),
    Endpoint(
        "GET",
        "/incidents/{key}/comms/updates/{update_id}",
        Role.VIEWER,
        given=("internal_update",),
    ),
    Endpoint(
        "PATCH",
        "/incidents/{key}/comms/updates/{update_id}",
        Role.RESPONDER,
        body={"title": "Retitled by the matrix"},
        if_match="update",
        given=("internal_update",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/submit",
        Role.RESPONDER,
        given=("draft_statement",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/approvals",
        Role.RESPONDER,
        body={"function": "legal"},
        if_match="update",
        given=("pending_statement", LEGAL_ROLE),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/rejections",
        Role.RESPONDER,
        body={"function": "legal", "comment": "Needs another pass"},
        if_match="update",
        given=("pending_statement", LEGAL_ROLE),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/publish",
        Role.INCIDENT_MANAGER,
        given=("approved_statement",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/send",
        Role.INCIDENT_MANAGER,
        given=("internal_update",),
    ),
    Endpoint("GET", "/incidents/{key}/comms/cadence", Role.VIEWER, given=(CADENCE,)),
    Endpoint(
        "PUT", "/incidents/{key}/comms/cadence", Role.INCIDENT_MANAGER, body={"every_minutes": 20}
    ),
    Endpoint("DELETE", "/incidents/{key}/comms/cadence", Role.INCIDENT_MANAGER, given=(CADENCE,)),
    Endpoint("GET", "/comms/deliveries", Role.INCIDENT_MANAGER),
    # ------------------------------------------------ enforcement (see enforcement/api.py)
    Endpoint(
        "POST",
        "/incidents/{key}/content",
        Role.RESPONDER,
        body={"items": [{"external_id": "matrix-new-{uniq}", "regions": ["DE"]}]},
    ),
    Endpoint("GET", "/incidents/{key}/content", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/actions",
        Role.RESPONDER,
        201,
        body=_action_body({"scope": "cluster"}),
        given=(CLUSTER,),
    ),
    Endpoint("GET", "/incidents/{key}/actions", Role.VIEWER),
    Endpoint("GET", "/incidents/{key}/actions/{action_id}", Role.VIEWER, given=("big_action",)),
    Endpoint(
        "GET", "/incidents/{key}/actions/{action_id}/items", Role.VIEWER, given=("big_action",)
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/actions/{action_id}/approve",
        Role.INCIDENT_MANAGER,
        given=("big_action",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/actions/{action_id}/execute",
        Role.INCIDENT_MANAGER,
        202,
        given=("small_action",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/actions/{action_id}/cancel",
        Role.INCIDENT_MANAGER,
        body={"reason": "Order withdrawn"},
        given=("small_action",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/actions/{action_id}/rollback",
        Role.INCIDENT_MANAGER,
        202,
        body={"reason": "Order withdrawn"},
        given=("running_action",),
    ),
    # ------------------------------------------------ compliance (see compliance/api.py)
    Endpoint("GET", "/policy", Role.VIEWER),
    Endpoint("GET", "/policy/{harm_type}", Role.VIEWER),
    Endpoint("GET", "/compliance/rules", Role.VIEWER),
    Endpoint("GET", "/compliance/rules/{rule_id}", Role.VIEWER),
    Endpoint("GET", "/compliance/obligations", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/triggers",
        Role.RESPONDER,
        201,
        body={"kind": "removal_order_received", "regions": ["DE"], "reference": "order-1"},
    ),
    Endpoint("GET", "/incidents/{key}/triggers", Role.VIEWER),
    Endpoint("GET", "/incidents/{key}/obligations", Role.VIEWER),
    Endpoint(
        "POST",
        "/incidents/{key}/obligations/{obligation_id}/complete",
        Role.RESPONDER,
        body={"text": "Notified the BKA by phone", "version": "{obligation_version}"},
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/obligations/{obligation_id}/waive",
        Role.INCIDENT_MANAGER,
        body={"reason": "Police confirmed a hoax", "version": "{obligation_version}"},
    ),
    Endpoint("GET", "/incidents/{key}/statements", Role.VIEWER),
    Endpoint("GET", "/incidents/{key}/statements.jsonl", Role.VIEWER),
    Endpoint("GET", "/incidents/{key}/reports", Role.VIEWER),
    Endpoint("GET", "/incidents/{key}/reports/{report_id}", Role.VIEWER, given=("draft_report",)),
    Endpoint(
        "PUT",
        "/incidents/{key}/reports/{report_id}",
        Role.RESPONDER,
        body={"content": {"summary": "corrected"}, "version": "{report_version}"},
        given=("draft_report",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/reports/{report_id}/review",
        Role.INCIDENT_MANAGER,
        body={"version": "{report_version}"},
        given=("draft_report",),
    ),
    Endpoint(
        "POST",
        "/incidents/{key}/reports/{report_id}/submission",
        Role.INCIDENT_MANAGER,
        body={"reference": "BKA receipt 77", "version": "{report_version}"},
        given=("reviewed_report",),
    ),
    # ------------------------------------------------ signals (see signals/api.py)
    Endpoint("POST", "/signals", Role.RESPONDER, body="not an event"),
    Endpoint("GET", "/signals/schema", Role.VIEWER),
    Endpoint("POST", "/signals/detect", Role.INCIDENT_MANAGER),
    Endpoint("GET", "/alerts", Role.VIEWER),
    Endpoint("GET", "/alerts/{alert_id}", Role.VIEWER),
    Endpoint("POST", "/alerts/{alert_id}/acknowledge", Role.RESPONDER),
    Endpoint("POST", "/alerts/{alert_id}/dismiss", Role.RESPONDER, body={"reason": "known hoax"}),
    Endpoint("POST", "/alerts/{alert_id}/promote", Role.RESPONDER, body={}),
]
INCIDENT_SCOPED = [e for e in MATRIX if "key" in e.needs]
# What the restricted incident is built with: everything an incident-scoped row needs,
# except making the test principals participants (which would let them see it).
ALL_ROWS = frozenset().union(*(e.needs for e in INCIDENT_SCOPED)) - {LEGAL_ROLE}


def _caller_id(caller: Role | str) -> str:
    return caller.value if isinstance(caller, Role) else caller


def _auth(api: Api, caller: Role | str) -> dict[str, str]:
    if caller == ANONYMOUS:
        return {}
    if caller == UNKNOWN_TOKEN:
        return {"Authorization": "Bearer rr_00000000_not-a-real-token"}
    return api.headers(Role(caller))


def _api_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every APIRoute under /api/v1, however routers are nested."""
    try:  # Newer FastAPI keeps included routers as branches of app.routes; walk them.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI flattens them into app.routes
        candidates = [(r, r.path, r.methods) for r in app.routes]
    else:
        candidates = [
            (c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)
        ]
    return {
        (method, path)
        for route, path, methods in candidates
        if isinstance(route, APIRoute) and path.startswith(API)
        for method in methods - {"HEAD", "OPTIONS"}
    }


# ---------------------------------------------------------------- the table is complete


def test_matrix_covers_every_route() -> None:
    app = create_app(Settings(database_url="sqlite://", worker_mode="off"))
    table = {(e.method, API + e.path) for e in MATRIX}
    assert len(table) == len(MATRIX), "duplicate rows in MATRIX"
    routes = _api_routes(app)
    assert routes, "found no /api/v1 routes; has route enumeration broken?"
    missing, stale = sorted(routes - table), sorted(table - routes)
    assert not missing, f"endpoints without an authorisation-matrix row: {missing}"
    assert not stale, f"matrix rows for endpoints that no longer exist: {stale}"


def test_matrix_matches_the_published_schema() -> None:
    """A second, independent enumeration: the OpenAPI document clients are given."""
    schema = create_app(Settings(database_url="sqlite://", worker_mode="off")).openapi()
    published = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith(API)
        for method in operations
    }
    assert published == {(e.method, API + e.path) for e in MATRIX}


# ---------------------------------------------------------------- the matrix itself


@pytest.mark.parametrize("caller", CALLERS, ids=_caller_id)
@pytest.mark.parametrize("endpoint", MATRIX, ids=lambda e: e.id)
def test_authorisation(api: Api, endpoint: Endpoint, caller: Role | str) -> None:
    world = build_world(api, endpoint.needs)
    before = api.newest_audit_seq()
    response = endpoint.send(api.client, world, _auth(api, caller))
    label = f"{endpoint.id} as {_caller_id(caller)}: {response.status_code} {response.text}"

    if caller in (ANONYMOUS, UNKNOWN_TOKEN):
        assert response.status_code == 401, label
        assert response.headers.get("WWW-Authenticate") == "Bearer", label
        assert response.headers["content-type"].startswith("application/problem+json"), label
        assert api.newest_audit_seq() == before, f"{label}: the refused call was recorded"
        return

    role = Role(caller)
    if role.level < endpoint.minimum.level:
        assert response.status_code == 403, label
        assert response.json()["type"] == "urn:rapidresponse:problem:forbidden", label
        assert api.newest_audit_seq() == before, f"{label}: the refused call was recorded"
    else:
        assert response.status_code == endpoint.success, label


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_me_reports_the_token_subject(api: Api, role: Role) -> None:
    response = api.client.get(f"{API}/me", headers=api.headers(role))
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == PRINCIPALS[role].subject
    assert response.json()["role"] == role.value


# ---------------------------------------------------------------- need-to-know


RESTRICTED_WAYS = {
    "cse-by-default": {"harm_type": "child_sexual_exploitation"},
    "explicit-flag": {"restricted": True},
}


@pytest.fixture(params=sorted(RESTRICTED_WAYS))
def restricted(request: pytest.FixtureRequest, api: Api) -> World:
    """A restricted incident no test principal participates in, with a row of every kind.

    The admin declares it naming another commander, so no test principal is a participant;
    the others are `scribe-user`, `pr-lead` (who approved its statement for PR) and whoever
    the plan staffed from on-call schedules (never a test principal).
    """
    world = build_world(api, ALL_ROWS, commander="cmdr-user", **RESTRICTED_WAYS[request.param])
    response = api.client.get(f"{API}/incidents/{world.key}", headers=api.admin)
    assert response.json()["restricted"] is True, response.text
    return world


def _shape(response: Response, key: str) -> tuple[int, str, str]:
    """What a caller can tell from a problem response, with the key they sent blanked."""
    body = response.json()
    return (
        response.status_code,
        body.get("type", ""),
        str(body.get("detail", "")).replace(key, "<key>"),
    )


@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=lambda r: r.value)
def test_restricted_incident_does_not_exist_for_non_participants(
    api: Api, restricted: World, role: Role
) -> None:
    client, auth = api.client, api.headers(role)
    visible = build_world(api, frozenset({"key"}))
    before = api.newest_audit_seq()
    # The same requests for a key that does not exist, with the same ids in the path.
    phantom = replace(restricted, key=MISSING_KEY)

    problems = []
    for endpoint in INCIDENT_SCOPED:
        hidden = endpoint.send(client, restricted, auth)
        missing = endpoint.send(client, phantom, auth)
        label = f"{endpoint.id} as {role.value}"
        if role.level >= endpoint.minimum.level and hidden.status_code != 404:
            problems.append(f"{label}: {hidden.status_code} {hidden.text}; expected 404")
        # Whatever the answer (403 for a role that may never do this), it must not tell a
        # hidden incident from a missing one.
        if _shape(hidden, restricted.key or "") != _shape(missing, MISSING_KEY):
            problems.append(
                f"{label}: a restricted incident answers {hidden.status_code} {hidden.text} "
                f"but a missing one answers {missing.status_code} {missing.text}"
            )
    assert not problems, "\n".join(problems)

    # Merging a visible incident into the hidden one must not reveal it either.
    if role.level >= Role.INCIDENT_MANAGER.level:
        answers = {}
        for target in (restricted.key, MISSING_KEY):
            response = client.post(
                f"{API}/incidents/{visible.key}/transitions",
                json={"to": "merged", "merged_into": target, "reason": "duplicate report"},
                headers=auth,
            )
            answers[target] = _shape(response, target or "")
        assert answers[restricted.key] == answers[MISSING_KEY], answers
        assert answers[MISSING_KEY][0] == 404, answers

    # Absent from every listing, including searches and filters that would match it.
    assert api.listed(auth, visible.key or "")
    assert not api.listed(auth, restricted.key or "")
    assert not api.listed(auth, restricted.key or "", q=restricted.key)
    assert not api.listed(auth, restricted.key or "", q="attack video")
    assert not api.listed(auth, restricted.key or "", region="DE")
    assert not api.listed(auth, restricted.key or "", open_only=True)
    assert api.newest_audit_seq() == before, "a refused call was recorded"

    # The admin, though not a participant, sees all of it.
    assert api.listed(api.admin, restricted.key or "")
    for path in READS:
        response = client.get(f"{API}/incidents/{restricted.key}{path}", headers=api.admin)
        assert response.status_code == 200, f"admin GET {path}: {response.text}"


@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=lambda r: r.value)
def test_participation_grants_and_removal_revokes_visibility(
    api: Api, restricted: World, role: Role
) -> None:
    client, auth, admin = api.client, api.headers(role), api.admin
    key = restricted.key or ""

    def statuses() -> dict[str, int]:
        return {
            path: client.get(f"{API}/incidents/{key}{path}", headers=auth).status_code
            for path in READS
        }

    assert statuses() == dict.fromkeys(READS, 404)
    assert not api.listed(auth, key)

    response = client.post(
        f"{API}/incidents/{key}/participants",
        json={"user": PRINCIPALS[role].subject, "role": "scribe"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    participant_id = response.json()["id"]

    assert statuses() == dict.fromkeys(READS, 200)
    assert api.listed(auth, key)
    body = client.get(f"{API}/incidents/{key}", headers=auth).json()
    assert (body["key"], body["restricted"]) == (key, True)
    # Being a participant does not lift the role's limits.
    note = client.post(f"{API}/incidents/{key}/timeline", json={"text": "on it"}, headers=auth)
    assert note.status_code == (201 if role.level >= Role.RESPONDER.level else 403), note.text

    response = client.delete(f"{API}/incidents/{key}/participants/{participant_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["removed_at"] is not None

    assert statuses() == dict.fromkeys(READS, 404)
    assert not api.listed(auth, key)
    # The admin sees it throughout.
    assert client.get(f"{API}/incidents/{key}", headers=admin).status_code == 200
    assert api.listed(admin, key)


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.INCIDENT_MANAGER], ids=lambda r: r.value)
def test_declarer_keeps_seeing_a_restricted_incident(api: Api, role: Role) -> None:
    """Whoever declared it already knows it exists, even after handing over command."""
    auth = api.headers(role)
    response = api.client.post(
        f"{API}/incidents",
        json=incident_body(harm_type="child_sexual_exploitation", commander="cmdr-user"),
        headers=auth,
    )
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert response.json()["restricted"] is True
    participants = api.client.get(f"{API}/incidents/{key}/participants", headers=auth)
    assert PRINCIPALS[role].subject not in {p["user"] for p in participants.json()}

    for path in READS:
        response = api.client.get(f"{API}/incidents/{key}{path}", headers=auth)
        assert response.status_code == 200, f"declarer GET {path}: {response.text}"
    assert api.listed(auth, key)
    # Nobody else below admin who is not a participant.
    other = Role.VIEWER
    for path in READS:
        response = api.client.get(f"{API}/incidents/{key}{path}", headers=api.headers(other))
        assert response.status_code == 404, f"viewer GET {path}: {response.text}"
    assert not api.listed(api.headers(other), key)

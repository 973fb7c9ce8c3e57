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
rows its own requests touch: tests share tokens and the audit log, never an incident.
"""

from __future__ import annotations

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
READS = ("", "/timeline", "/tasks", "/participants")


# ---------------------------------------------------------------- shared environment


@dataclass
class Api:
    client: TestClient
    tokens: dict[Role, str]

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
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False), worker_mode="off"
    )
    with TestClient(create_app(settings, clock)) as client:
        yield Api(client, tokens)


# ---------------------------------------------------------------- rows the paths point at


@dataclass
class World:
    """Real rows the path templates resolve to, built through the API as an admin."""

    key: str | None = None
    incident_version: int | None = None
    task_id: int | None = None
    task_version: int | None = None
    participant_id: int | None = None
    token_id: int | None = None
    playbook_id: str | None = None

    def path(self, template: str) -> str:
        return template.format(**{k: v for k, v in self.__dict__.items() if v is not None})


def build_world(api: Api, needs: frozenset[str], **declare: Any) -> World:
    client, admin, world = api.client, api.admin, World()
    if "key" in needs:
        response = client.post(f"{API}/incidents", json=incident_body(**declare), headers=admin)
        assert response.status_code == 201, response.text
        world.key = response.json()["key"]
    if "task_id" in needs:
        response = client.post(
            f"{API}/incidents/{world.key}/tasks",
            json={"title": "Collect re-upload hashes"},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        world.task_id, world.task_version = response.json()["id"], response.json()["version"]
    if "participant_id" in needs:
        response = client.post(
            f"{API}/incidents/{world.key}/participants",
            json={"user": "scribe-user", "role": "scribe"},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        world.participant_id = response.json()["id"]
    if "token_id" in needs:
        response = client.post(
            f"{API}/tokens",
            json={"name": "spare", "subject": "spare-bot", "role": "viewer"},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        world.token_id = response.json()["id"]
    if "playbook_id" in needs:
        response = client.get(f"{API}/playbooks", headers=admin)
        assert response.status_code == 200, response.text
        world.playbook_id = response.json()[0]["id"]
    if world.key is not None:
        # Read the version last: adding a participant touches the incident.
        response = client.get(f"{API}/incidents/{world.key}", headers=admin)
        assert response.status_code == 200, response.text
        world.incident_version = response.json()["version"]
    return world


ALL_ROWS = frozenset({"key", "task_id", "participant_id", "token_id", "playbook_id"})


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    minimum: Role
    success: int = 200
    body: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    # Which version to send as If-Match: "incident" or "task".
    if_match: str | None = None
    needs: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", frozenset(re.findall(r"{(\w+)}", self.path)))

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def send(self, client: TestClient, world: World, auth: dict[str, str]) -> Response:
        headers = dict(auth)
        if self.if_match == "incident":
            headers["If-Match"] = f'"{world.incident_version}"'
        elif self.if_match == "task":
            headers["If-Match"] = f'"{world.task_version}"'
        return client.request(
            self.method,
            world.path(API + self.path),
            headers=headers,
            json=self.body,
            params=self.params,
        )


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
]
INCIDENT_SCOPED = [e for e in MATRIX if "key" in e.needs]


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
    """A restricted incident whose only participants are `cmdr-user` and `scribe-user`.

    The admin declares it naming another commander, so no test principal is a participant.
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

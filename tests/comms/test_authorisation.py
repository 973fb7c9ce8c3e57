"""Who may call each comms endpoint, and restricted incidents staying invisible through them.

Each endpoint is called by every role (and without a token) against fresh, real rows in the
state the step needs, so the only reason a call can be refused is authorisation. Approving
and rejecting also need the incident role of the function (here: Legal), or an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rapidresponse.auth.policy import Role
from tests.conftest import incident_body

API = "/api/v1"
ROLES = [Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER, Role.ADMIN]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    minimum: Role
    success: int = 200
    body: dict[str, Any] | None = None
    # The update the path points at: "internal" draft, or an external statement "draft",
    # "pending" approval, or "approved".
    update: str | None = None
    if_match: bool = False
    cadence: bool = False


ROWS = [
    Row(
        "POST",
        "/incidents/{key}/comms/updates",
        Role.RESPONDER,
        201,
        body={"kind": "internal_update"},
    ),
    Row("GET", "/incidents/{key}/comms/updates", Role.VIEWER),
    Row("GET", "/incidents/{key}/comms/updates/{update_id}", Role.VIEWER, update="internal"),
    Row(
        "PATCH",
        "/incidents/{key}/comms/updates/{update_id}",
        Role.RESPONDER,
        body={"title": "Retitled"},
        update="internal",
        if_match=True,
    ),
    Row(
        "POST", "/incidents/{key}/comms/updates/{update_id}/submit", Role.RESPONDER, update="draft"
    ),
    Row(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/approvals",
        Role.RESPONDER,
        body={"function": "legal"},
        update="pending",
        if_match=True,
    ),
    Row(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/rejections",
        Role.RESPONDER,
        body={"function": "legal", "comment": "Needs another pass"},
        update="pending",
    ),
    Row(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/publish",
        Role.INCIDENT_MANAGER,
        update="approved",
    ),
    Row(
        "POST",
        "/incidents/{key}/comms/updates/{update_id}/send",
        Role.INCIDENT_MANAGER,
        update="internal",
    ),
    Row("GET", "/incidents/{key}/comms/cadence", Role.VIEWER, cadence=True),
    Row("PUT", "/incidents/{key}/comms/cadence", Role.INCIDENT_MANAGER, body={"every_minutes": 20}),
    Row("DELETE", "/incidents/{key}/comms/cadence", Role.INCIDENT_MANAGER, cadence=True),
    Row("GET", "/comms/deliveries", Role.INCIDENT_MANAGER),
]


@pytest.fixture
def world(client, headers, token_for):
    """Build the rows one call needs, as an admin (and a PR lead for approvals)."""
    admin = headers(Role.ADMIN)
    pr = token_for("pr-lead", Role.RESPONDER)

    def post(path: str, body: dict[str, Any] | None, auth: dict[str, str] = admin) -> Any:
        response = client.post(API + path, json=body, headers=auth)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def build(row: Row, **declare: Any) -> tuple[str, int | None, int | None]:
        key = post("/incidents", incident_body(**declare))["key"]
        # Every test principal holds the Legal role, so only their API role decides.
        for user in ("viewer-user", "responder-user", "manager-user", "admin-user"):
            post(f"/incidents/{key}/participants", {"user": user, "role": "legal"})
        post(f"/incidents/{key}/participants", {"user": "pr-lead", "role": "communications"})
        if row.cadence:
            response = client.put(
                f"{API}/incidents/{key}/comms/cadence", json={"every_minutes": 30}, headers=admin
            )
            assert response.status_code == 200, response.text
        if row.update is None:
            return key, None, None
        kind = "internal_update" if row.update == "internal" else "external_statement"
        update = post(f"/incidents/{key}/comms/updates", {"kind": kind})
        base = f"/incidents/{key}/comms/updates/{update['id']}"
        if row.update in ("pending", "approved"):
            update = post(base + "/submit", None)
        if row.update == "approved":
            update = post(base + "/approvals", {"function": "pr", "version": update["version"]}, pr)
            update = post(base + "/approvals", {"function": "legal", "version": update["version"]})
            assert update["status"] == "approved"
        return key, update["id"], update["version"]

    return build


def _call(client, row: Row, key: str, update_id: int | None, version: int | None, auth):
    headers = dict(auth)
    if row.if_match:
        headers["If-Match"] = f'"{version}"'
    path = row.path.format(key=key, update_id=update_id)
    return client.request(row.method, API + path, json=row.body, headers=headers)


def test_every_comms_route_has_a_row(client):
    published = {
        (method.upper(), path.removeprefix(API))
        for path, operations in client.app.openapi()["paths"].items()
        if "/comms" in path
        for method in operations
    }
    assert published == {(r.method, r.path) for r in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.path}")
def test_authorisation(client, headers, world, row):
    def newest_audit_seq() -> int:
        entries = client.get(f"{API}/audit", params={"limit": 1}, headers=headers(Role.ADMIN))
        return int(entries.json()[0]["seq"])

    built = world(row)
    for caller in (None, *ROLES):
        key, update_id, version = built
        auth = headers(caller) if caller else {}
        before = newest_audit_seq()
        response = _call(client, row, key, update_id, version, auth)
        label = f"{row.method} {row.path} as {caller or 'anonymous'}: {response.text}"
        if caller is None or caller.level < row.minimum.level:
            assert response.status_code == (401 if caller is None else 403), label
            assert newest_audit_seq() == before, f"{label}: the refused call was recorded"
        else:
            assert response.status_code == row.success, label
            if row.method != "GET":
                built = world(row)  # the step is done: the next caller needs fresh rows


@pytest.mark.parametrize(
    "row", [r for r in ROWS if "{key}" in r.path], ids=lambda r: f"{r.method} {r.path}"
)
def test_restricted_incidents_look_missing(client, headers, world, row):
    """Non-participants get exactly what they would get for an incident that does not exist."""
    key, update_id, version = world(row, restricted=True, commander="cmdr-user")
    admin = headers(Role.ADMIN)
    # Every test principal was made a Legal participant: take them off the incident again.
    for p in client.get(f"{API}/incidents/{key}/participants", headers=admin).json():
        if p["user"] != "cmdr-user":
            response = client.delete(f"{API}/incidents/{key}/participants/{p['id']}", headers=admin)
            assert response.status_code == 200, response.text

    def shape(response, sent_key):
        body = response.json()
        return (
            response.status_code,
            body.get("type"),
            body.get("detail", "").replace(sent_key, "<key>"),
        )

    for role in (Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER):
        auth = headers(role)
        hidden = _call(client, row, key, update_id, version, auth)
        missing = _call(client, row, "INC-2026-9999", update_id, version, auth)
        assert shape(hidden, key) == shape(missing, "INC-2026-9999"), hidden.text
        if role.level >= row.minimum.level:
            assert hidden.status_code == 404, hidden.text
    visible = _call(client, row, key, update_id, version, admin)
    assert visible.status_code == row.success, visible.text

"""The landing page and browser login, health check and API docs."""

from __future__ import annotations

from rapidresponse.auth.policy import Role
from tests.conftest import incident_body


def test_landing_page_needs_login_then_lists_visible_incidents(client, headers, tokens):
    client.post(
        "/api/v1/incidents",
        json=incident_body(title="Attack video spreading"),
        headers=headers(Role.RESPONDER),
    )
    client.post(
        "/api/v1/incidents",
        json=incident_body(title="CSAM ring", harm_type="child_sexual_exploitation"),
        headers=headers(Role.ADMIN),
    )
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    bad = client.post("/login", data={"token": "rr_wrong"})
    assert bad.status_code == 401
    assert "unknown API token" in bad.text
    r = client.post("/login", data={"token": tokens[Role.VIEWER]}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.cookies.get("rr_session")
    assert cookie
    client.cookies.set("rr_session", cookie)
    page = client.get("/")
    assert page.status_code == 200
    assert "Attack video spreading" in page.text
    assert "CSAM ring" not in page.text  # restricted, and the viewer is not a member
    assert "INC-2026-0001" in page.text


def test_cookie_does_not_authenticate_the_json_api_for_writes(client, tokens):
    client.cookies.set("rr_session", tokens[Role.ADMIN])
    r = client.post("/api/v1/incidents", json=incident_body())
    assert r.status_code == 401


def test_health_and_docs(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/incidents" in schema["paths"]

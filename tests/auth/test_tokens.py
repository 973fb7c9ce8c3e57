"""API tokens: hashed at rest, expiry, revocation, and the problem shape of auth errors."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from rapidresponse.auth.model import ApiToken
from rapidresponse.auth.policy import Role
from rapidresponse.db import transaction


def test_secrets_are_stored_only_as_sha256(db, tokens):
    with transaction(db) as session:
        stored = session.scalars(select(ApiToken)).all()
    secrets = set(tokens.values())
    for token in stored:
        assert token.secret_sha256 not in secrets
        assert all(secret not in (token.name, token.prefix) for secret in secrets)
    assert {t.secret_sha256 for t in stored} == {
        hashlib.sha256(s.encode()).hexdigest() for s in secrets
    }


def test_missing_or_unknown_token_is_401_problem(client):
    r = client.get("/api/v1/incidents")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = client.get("/api/v1/incidents", headers={"Authorization": "Bearer rr_nope"})
    assert r.status_code == 401
    assert r.json()["detail"] == "unknown API token"


def test_admin_issues_and_revokes_tokens_over_the_api(client, headers):
    r = client.post(
        "/api/v1/tokens",
        json={"name": "ops", "subject": "ops-bot", "role": "viewer"},
        headers=headers(Role.ADMIN),
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/me", headers=bearer).json()["role"] == "viewer"
    listed = client.get("/api/v1/tokens", headers=headers(Role.ADMIN)).json()
    assert all("token" not in t for t in listed)
    assert (
        client.delete(f"/api/v1/tokens/{issued['id']}", headers=headers(Role.ADMIN)).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert (
        client.post(
            "/api/v1/tokens",
            json={"name": "x", "subject": "y", "role": "god"},
            headers=headers(Role.ADMIN),
        ).status_code
        == 422
    )


def test_expired_tokens_stop_working(client, headers, clock):
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    issued = client.post(
        "/api/v1/tokens",
        json={"name": "temp", "subject": "contractor", "role": "viewer", "expires_at": expires},
        headers=headers(Role.ADMIN),
    ).json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(timedelta(hours=1))
    r = client.get("/api/v1/me", headers=bearer)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]

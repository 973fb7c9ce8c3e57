"""Schemathesis over the published OpenAPI document: no request may make the server answer 5xx.

For every operation in /api/v1/openapi.json Schemathesis sends coverage cases (boundary
values, missing, extra and wrong-typed fields, unexpected methods) and Hypothesis-generated
requests, valid and invalid. The only check is `not_a_server_error`: whatever a client sends,
the answer is a 2xx or a 4xx problem, never a crash.

Each operation runs as its own test, on both databases, once as an admin (who may reach
every operation) and once as a viewer (who is refused most writes). Each test gets a fresh
database holding real incidents (one open, two restricted), tasks, participants and spare
tokens, and most generated path parameters are swapped for those real ids, so requests reach
the code behind the lookups instead of stopping at 404.

Why not `schemathesis.pytest.from_fixture`: with the pinned versions (schemathesis 4.32.5,
pytest 9.2) its lazy loader fails on every test with `AttributeError: 'Function' object has
no attribute '_nodeid'` (pytest 9 dropped the private `Node._nodeid` it writes to). So the
schema is loaded at import from the served document, and each case is sent to the
per-test application with `case.call_and_validate(app=...)`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.app import create_app
from rapidresponse.auth.policy import Role
from rapidresponse.clock import ManualClock
from rapidresponse.settings import Settings
from tests.conftest import incident_body

API = "/api/v1"
# Hypothesis-generated cases per operation; coverage cases come on top. Raise it for a
# deeper (slower) run: RR_SCHEMATHESIS_MAX_EXAMPLES=500 pytest tests/api/test_schemathesis.py
MAX_EXAMPLES = int(os.environ.get("RR_SCHEMATHESIS_MAX_EXAMPLES", "30"))


def _published_schema() -> dict[str, Any]:
    """The document the application serves (the database is never touched to serve it)."""
    app = create_app(Settings(database_url="sqlite://", worker_mode="off"))
    response = TestClient(app).get(f"{API}/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    """Signal batches are NDJSON: send generated values as one JSON document per line."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


CONFIG = schemathesis.Config.from_dict(
    {
        # Every request carries the caller's token (below); do not spend examples on
        # generated or missing credentials, which the authorisation matrix covers.
        "generation": {"with-security-parameters": False},
    }
)
SCHEMA = schemathesis.openapi.from_dict(_published_schema(), config=CONFIG)


# ---------------------------------------------------------------- a database with real rows


# Values the schema cannot express (ISO 3166 regions, BCP 47 languages, the tag pattern).
VALID_LISTS: dict[str, tuple[str, ...]] = {
    "regions": ("DE", "FR", "US", "IN", "BR", "GB"),
    "languages": ("en", "de", "pt-BR", "fr"),
    "tags": ("reuploads", "livestream", "coordinated"),
}


def _digest(*parts: Any) -> int:
    """A stable number for a generated value: the same case is steered the same way."""
    return int(hashlib.sha256(repr(parts).encode()).hexdigest(), 16)


@dataclass(frozen=True)
class Target:
    app: FastAPI
    auth: dict[str, str]
    admin: dict[str, str]
    keys: tuple[str, ...]
    task_ids: tuple[int, ...]
    participant_ids: tuple[int, ...]
    spare_token_ids: tuple[int, ...]
    # The callers' own tokens: revoking one would turn the rest of the test into 401s.
    protected_token_ids: frozenset[int]

    def steer(self, case: Any) -> None:
        """Point three generated requests in four at real rows and valid values.

        A steered case gets real ids in its path; a valid (positive) one also gets valid
        region, language and tag codes and the row's current version as If-Match, so it gets
        past validation into the use cases. The choice is a function of the generated case,
        so a run is reproducible; the other cases go out as generated, to keep probing unknown
        and malformed ids, stale versions and bad codes.
        """
        params = case.path_parameters or {}
        token_id = params.get("token_id")
        if token_id in self.protected_token_ids:
            params["token_id"] = self.spare_token_ids[0]
        digest = _digest(params, dict(case.headers or {}), case.query, case.body)
        if digest % 4 == 0:
            return
        real: dict[str, tuple[Any, ...]] = {
            "key": self.keys,
            "task_id": self.task_ids,
            "participant_id": self.participant_ids,
            "token_id": self.spare_token_ids,
        }
        for name in params:
            if name in real:
                params[name] = real[name][_digest(name, digest) % len(real[name])]

        if case.meta is None or case.meta.generation.mode.value != "positive":
            return
        body = case.body
        if isinstance(body, dict):
            for name, choices in VALID_LISTS.items():
                if isinstance(body.get(name), list):
                    size = max(len(body[name]), 1 if name == "regions" else 0)
                    body[name] = [choices[i % len(choices)] for i in range(size)]
        # Writes to incidents and tasks need the version read: If-Match, or a body field.
        sends_version = isinstance(body, dict) and body.get("version") is not None
        if_match = case.headers is not None and "if-match" in case.headers
        if sends_version or if_match:
            version = self._current_version(case.operation.path, params)
            if version is not None and sends_version:
                body["version"] = version
            if version is not None and if_match:
                case.headers["if-match"] = f'"{version}"'
        if isinstance(body, dict):
            case.body = body

    def _current_version(self, path: str, params: dict[str, Any]) -> int | None:
        client = TestClient(self.app)  # no lifespan: the test owns the app's
        if "key" not in params:
            if "{alert_id}" not in path:
                return None
            response = client.get(f"{API}/alerts/{params['alert_id']}", headers=self.admin)
            return response.json()["version"] if response.status_code == 200 else None
        if "{task_id}" in path:
            response = client.get(f"{API}/incidents/{params['key']}/tasks", headers=self.admin)
            tasks = response.json() if response.status_code == 200 else []
            return next((t["version"] for t in tasks if t["id"] == params["task_id"]), None)
        response = client.get(f"{API}/incidents/{params['key']}", headers=self.admin)
        return response.json()["version"] if response.status_code == 200 else None


def _seed(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(API + path, json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    keys, task_ids, participant_ids = [], [], []
    for overrides in (
        {},
        {"harm_type": "child_sexual_exploitation", "regions": ["US"]},
        {"harm_type": "hate_speech", "restricted": True, "commander": "cmdr-user"},
    ):
        key = post("/incidents", incident_body(**overrides))["key"]
        keys.append(key)
        task_ids.append(post(f"/incidents/{key}/tasks", {"title": "Collect hashes"})["id"])
        scribe = {"user": "scribe-user", "role": "scribe"}
        participant_ids.append(post(f"/incidents/{key}/participants", scribe)["id"])
    spare = [
        post("/tokens", {"name": f"spare {n}", "subject": "spare-bot", "role": "viewer"})["id"]
        for n in range(3)
    ]
    listed = client.get(f"{API}/tokens", headers=admin).json()
    return {
        "keys": tuple(keys),
        "task_ids": tuple(task_ids),
        "participant_ids": tuple(participant_ids),
        "spare_token_ids": tuple(spare),
        "protected_token_ids": frozenset(t["id"] for t in listed if t["id"] not in spare),
    }


@pytest.fixture(params=[Role.ADMIN, Role.VIEWER], ids=lambda r: r.value)
def target(
    request: pytest.FixtureRequest,
    db: sessionmaker[Session],
    app_settings: Settings,
    clock: ManualClock,
    tokens: dict[Role, str],
) -> Iterator[Target]:
    app = create_app(app_settings, clock)
    with TestClient(app) as client:
        seeded = _seed(client, {"Authorization": f"Bearer {tokens[Role.ADMIN]}"})
    yield Target(
        app=app,
        auth={"Authorization": f"Bearer {tokens[request.param]}"},
        admin={"Authorization": f"Bearer {tokens[Role.ADMIN]}"},
        **seeded,
    )
    app.state.engine.dispose()


# ---------------------------------------------------------------- the property


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory: runs are derandomised anyway
    # Repeatable: a full run of this file sends the same cases every time. (Schemathesis
    # feeds earlier responses back into generation, so a subset may send different ones.)
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: Any, target: Target) -> None:
    target.steer(case)
    case.call_and_validate(app=target.app, headers=target.auth, checks=[not_a_server_error])

"""Shared fixtures. Every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL: RR_TEST_POSTGRES_URL (default: the local server's `test` database). Each run
works in a schema of its own, dropped at the end, so runs never see each other's rows. When
the server is unreachable the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.app import create_app
from rapidresponse.audit.chain import GENESIS
from rapidresponse.auth import service as auth_service
from rapidresponse.auth.policy import Principal, Role
from rapidresponse.clock import ManualClock
from rapidresponse.db import make_engine, make_session_factory, transaction
from rapidresponse.migrate import upgrade
from rapidresponse.models import metadata
from rapidresponse.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests judge behaviour, not speed: a loaded 2-core CI machine must not fail them.
settings.register_profile(
    "rapidresponse", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("rapidresponse")
POSTGRES_URL = os.environ.get(
    "RR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``only_postgresql`` are about PostgreSQL behaviour: drop their SQLite half."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if item.get_closest_marker("only_postgresql") and backend == "sqlite":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def require_service(name: str, reason: str) -> None:
    """Skip a test whose real service is missing, or fail it under CI=true."""
    message = f"{name} unavailable: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true makes it mandatory)")
    pytest.skip(message)


def _postgres_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    schema = f"rr_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any connection failure means "no server"
        require_service("PostgreSQL", f"{POSTGRES_URL}: {exc.__class__.__name__}: {exc}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "rapidresponse.db"
        yield f"sqlite:///{path}"
    else:
        yield from _postgres_schema_url(request)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def reset_database(engine: Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS}
        )


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    """A clean, migrated database (tables emptied before each test)."""
    reset_database(engine)
    return make_session_factory(engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


ADMIN = Principal("admin-user", Role.ADMIN)
MANAGER = Principal("manager-user", Role.INCIDENT_MANAGER)
RESPONDER = Principal("responder-user", Role.RESPONDER)
VIEWER = Principal("viewer-user", Role.VIEWER)
PRINCIPALS = {p.role: p for p in (ADMIN, MANAGER, RESPONDER, VIEWER)}


@pytest.fixture
def uow(db: sessionmaker[Session]) -> Callable[[], Any]:
    """`with uow() as session:` one committed transaction."""
    return lambda: transaction(db)


@pytest.fixture
def app_settings(engine: Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False), worker_mode="off"
    )


@pytest.fixture
def client(
    db: sessionmaker[Session], app_settings: Settings, clock: ManualClock
) -> Iterator[TestClient]:
    app = create_app(app_settings, clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def tokens(db: sessionmaker[Session], clock: ManualClock) -> dict[Role, str]:
    """One API token per role, acting as the matching principal above."""
    issued: dict[Role, str] = {}
    with transaction(db) as session:
        for role, principal in PRINCIPALS.items():
            _, secret = auth_service.issue_token(
                session,
                name=f"{role.value} token",
                subject=principal.subject,
                role=role,
                actor="test-setup",
                now=clock.now(),
            )
            issued[role] = secret
    return issued


@pytest.fixture
def headers(tokens: dict[Role, str]) -> Callable[[Role], dict[str, str]]:
    return lambda role: {"Authorization": f"Bearer {tokens[role]}"}


def incident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Attack video re-uploaded across feed and live",
        "summary": "Footage of an attack is being re-uploaded in edited copies.",
        "harm_type": "violent_extremism",
        "regions": ["DE", "FR"],
        "languages": ["de", "fr"],
        "surfaces": ["feed", "live"],
        "tags": ["reuploads"],
        "impact": {"views": 250_000, "views_per_hour": 40_000, "press_attention": "inquiries"},
    }
    body.update(overrides)
    return body

"""FastAPI application factory: wires settings, database, clock, worker and every router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rapidresponse import __version__
from rapidresponse.clock import Clock, SystemClock
from rapidresponse.db import make_engine, make_session_factory
from rapidresponse.events import EventHub
from rapidresponse.http import install_input_guards, install_problem_handlers
from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
from rapidresponse.outbox.worker import InProcessWorker, OutboxWorker
from rapidresponse.settings import Settings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Rapid Response coordinates Trust & Safety incident response: declare and triage incidents,
compute severity from impact, run the lifecycle, assign roles and tasks, and keep an
append-only timeline and a hash-chained audit log of every write.

Authenticate with an API token: `Authorization: Bearer rr_…`. Errors are RFC 9457 problem
details. Writes to incidents and tasks need the version you read (`If-Match` with the ETag,
or a `version` field), so concurrent edits are never silently overwritten.
"""


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    hub = EventHub()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner: InProcessWorker | None = None
        if settings.worker_mode == "inprocess":
            runner = InProcessWorker(
                OutboxWorker(
                    session_factory,
                    default_handlers(hub, factory=session_factory, settings=settings, clock=clock),
                    clock,
                    session_handlers=default_session_handlers(settings),
                    max_attempts=settings.outbox_max_attempts,
                ),
                settings.worker_poll_seconds,
            )
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            engine.dispose()

    app = FastAPI(
        title="Rapid Response",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.clock = clock
    app.state.hub = hub
    install_problem_handlers(app)
    install_input_guards(app)

    from rapidresponse.audit.api import router as audit_router
    from rapidresponse.auth.api import router as auth_router
    from rapidresponse.comms.api import router as comms_router
    from rapidresponse.compliance.api import router as compliance_router
    from rapidresponse.enforcement.api import router as enforcement_router
    from rapidresponse.incidents.api import router as incidents_router
    from rapidresponse.oncall.api import router as oncall_router
    from rapidresponse.outbox.api import router as outbox_router
    from rapidresponse.playbooks.api import router as playbooks_router
    from rapidresponse.signals import service as signals_service
    from rapidresponse.signals.api import router as signals_router
    from rapidresponse.web.pages import router as pages_router

    for router in (incidents_router, auth_router, audit_router, outbox_router, playbooks_router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(oncall_router, prefix="/api/v1")
    app.include_router(comms_router, prefix="/api/v1")
    app.include_router(enforcement_router, prefix="/api/v1")
    app.include_router(compliance_router, prefix="/api/v1")
    app.include_router(signals_router, prefix="/api/v1")
    app.state.detection_engine = signals_service.DetectionEngine(
        signals_service.detection_settings(settings)
    )
    app.include_router(pages_router)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        from sqlalchemy import text

        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app

"""The handlers the worker delivers each outbox topic to; each domain registers its own here."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.clock import Clock, SystemClock
from rapidresponse.events import EventHub
from rapidresponse.outbox.worker import Handler, SessionHandler
from rapidresponse.settings import Settings, get_settings


def default_handlers(
    hub: EventHub,
    *,
    factory: sessionmaker[Session] | None = None,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> dict[str, Handler]:
    """Topics whose delivery leaves the database (at least once).

    Handlers that read and record their outcome in the database (comms deliveries) need the
    session ``factory``; without one they are not registered.
    """
    handlers: dict[str, Handler] = {"incident.events": hub.publish}
    if factory is not None:
        from rapidresponse.comms import service as comms

        handlers.update(comms.handlers(factory, settings or get_settings(), clock or SystemClock()))
    return handlers


def default_session_handlers(settings: Settings | None = None) -> dict[str, SessionHandler]:
    """Topics whose handling changes the database (exactly once, in the delivery transaction)."""
    from rapidresponse.comms import service as comms
    from rapidresponse.compliance import service as compliance
    from rapidresponse.enforcement import service as enforcement
    from rapidresponse.oncall import service as oncall
    from rapidresponse.playbooks import service as playbooks
    from rapidresponse.signals import service as signals

    handlers: dict[str, SessionHandler] = {}
    handlers.update(playbooks.session_handlers())
    handlers.update(oncall.session_handlers())
    handlers.update(comms.session_handlers())
    handlers.update(compliance.session_handlers())
    handlers.update(
        enforcement.session_handlers((settings or get_settings()).enforcement_batch_size)
    )
    handlers.update(
        signals.session_handlers(signals.detection_settings(settings or get_settings()))
    )
    return handlers

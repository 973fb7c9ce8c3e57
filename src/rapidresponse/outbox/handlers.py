"""The handlers the worker delivers each outbox topic to; each domain registers its own here."""

from __future__ import annotations

from rapidresponse.events import EventHub
from rapidresponse.outbox.worker import Handler, SessionHandler


def default_handlers(hub: EventHub) -> dict[str, Handler]:
    """Topics whose delivery leaves the database (at least once)."""
    return {"incident.events": hub.publish}


def default_session_handlers() -> dict[str, SessionHandler]:
    """Topics whose handling changes the database (exactly once, in the delivery transaction)."""
    from rapidresponse.playbooks import service as playbooks

    handlers: dict[str, SessionHandler] = {}
    handlers.update(playbooks.session_handlers())
    return handlers

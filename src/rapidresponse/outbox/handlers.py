"""The handlers the worker delivers each outbox topic to."""

from __future__ import annotations

from rapidresponse.events import EventHub
from rapidresponse.outbox.worker import Handler


def default_handlers(hub: EventHub) -> dict[str, Handler]:
    return {"incident.events": hub.publish}

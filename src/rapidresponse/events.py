"""In-process publish/subscribe of domain events, fed by the outbox worker.

Live views (server-sent events in the web UI) subscribe here. Subscribers get a bounded queue;
a slow subscriber loses its oldest events rather than slowing delivery for everyone (the
database stays the source of truth, so a live view can always reload).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any


class EventHub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[queue.Queue[dict[str, Any]]] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size

    def subscribe(self) -> queue.Queue[dict[str, Any]]:
        q: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=self._queue_size)
        with self._lock:
            self._subscribers.add(q)
        return q

    def unsubscribe(self, q: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers.discard(q)

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for q in subscribers:
            while True:
                try:
                    q.put_nowait(event)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):
                        q.get_nowait()

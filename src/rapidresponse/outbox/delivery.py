"""Retry policy for outbox delivery (pure)."""

from __future__ import annotations

from datetime import timedelta

BASE_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try: 5 s, 10 s, 20 s … capped at 1 h."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    return min(MAX_DELAY, BASE_DELAY * (1 << min(attempts - 1, 20)))

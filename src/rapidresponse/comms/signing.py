"""Webhook signatures (pure): HMAC-SHA256 of the exact bytes sent, in the X-RR-Signature header.

Receivers recompute the HMAC over the raw request body with the shared secret and compare in
constant time. The body carries ``sent_at`` (also sent as X-RR-Timestamp), so a receiver
that rejects old timestamps is protected against replays by the signature too.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-RR-Signature"
TIMESTAMP_HEADER = "X-RR-Timestamp"
IDEMPOTENCY_HEADER = "X-RR-Idempotency-Key"


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Does ``header`` carry the signature of ``body``? (What a receiver runs.)"""
    if not header:
        return False
    return hmac.compare_digest(signature(secret, body), header.strip())

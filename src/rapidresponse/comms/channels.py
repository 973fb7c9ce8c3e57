"""Delivery channels and targets (pure): what a target must look like before anything is sent.

A bad target is refused when the delivery is requested, in the requester's transaction, so
that it is fixed by the person who typed it instead of failing twelve times in the worker.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlsplit


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # stored, waiting for the worker
    SENT = "sent"
    RETRYING = "retrying"  # at least one attempt failed; the outbox will try again
    DEAD = "dead"  # the outbox gave up; stays visible (operators can requeue it)


MAX_TARGET = 2000
# Deliberately loose: the SMTP server is the judge of deliverability; this only catches
# typing mistakes and header injection (no whitespace, commas or angle brackets).
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def normalise_target(channel: Channel | str, target: str) -> str:
    """The target in canonical form, or ValueError saying what is wrong with it."""
    channel = Channel(channel)
    value = target.strip()
    if not value:
        raise ValueError(f"a {channel.value} delivery needs a target")
    if len(value) > MAX_TARGET:
        raise ValueError(f"target is longer than {MAX_TARGET} characters")
    if channel is Channel.EMAIL:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        local, domain = value.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if any(c.isspace() for c in value):
        raise ValueError("a URL cannot contain whitespace")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a {channel.value} target must be an http(s) URL, got {value!r}")
    return value


def masked(channel: Channel | str, target: str) -> str:
    """A target safe to show in listings.

    Webhook and Slack URLs carry their credential in the path (an incoming-webhook URL *is*
    the secret), so listings show the host and the last characters only.
    """
    if Channel(channel) is Channel.EMAIL:
        return target
    parts = urlsplit(target)
    tail = (parts.path + ("?" + parts.query if parts.query else ""))[-4:]
    return f"{parts.scheme}://{parts.netloc}/…{tail}"

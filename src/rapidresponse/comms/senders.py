"""The wire: e-mail over SMTP, signed JSON webhooks and Slack incoming webhooks.

This is the only comms module that talks to the network. It takes a plain :class:`Outgoing`
(no database row) and raises :class:`DeliveryFailed` when the receiver did not take the
message: network errors, SMTP refusals and non-2xx answers alike. The outbox worker turns
that into a retry with backoff. Every attempt carries the delivery's idempotency key
(Message-ID for e-mail, X-RR-Idempotency-Key for webhooks) so that a receiver can drop the
duplicate that at-least-once delivery produces when a worker dies after sending.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx

from rapidresponse import __version__
from rapidresponse.comms import signing, slack
from rapidresponse.comms.channels import Channel
from rapidresponse.settings import Settings

USER_AGENT = f"RapidResponse/{__version__}"


class DeliveryFailed(Exception):
    """The receiver did not accept the message; the outbox will try again."""


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel: Channel
    target: str
    subject: str
    body: str
    idempotency_key: str
    incident_key: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    link: str | None = None


def message_id(idempotency_key: str, sender: str) -> str:
    """A stable Message-ID: the same delivery always carries the same one."""
    domain = sender.rsplit("@", 1)[-1].strip(">") or "localhost"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<rr.{digest}@{domain}>"


# Headers up to RFC 5322's hard limit stay on one line: the standard library folds long
# subjects after "Subject:", which some clients then show with a leading space.
_POLICY = email.policy.default.clone(max_line_length=998)


def email_message(outgoing: Outgoing, settings: Settings, now: datetime) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = settings.smtp_from
    message["To"] = outgoing.target
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outgoing.idempotency_key, settings.smtp_from)
    message["X-RR-Idempotency-Key"] = outgoing.idempotency_key
    if outgoing.incident_key:
        message["X-RR-Incident"] = outgoing.incident_key
    body = outgoing.body
    if outgoing.link:
        body = f"{body.rstrip()}\n\n{outgoing.link}\n"
    message.set_content(body)
    return message


def send_email(outgoing: Outgoing, settings: Settings, now: datetime) -> None:
    message = email_message(outgoing, settings, now)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.delivery_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"
        ) from exc
    if refused:
        raise DeliveryFailed(f"SMTP refused {', '.join(refused)}")


def webhook_body(outgoing: Outgoing, now: datetime) -> bytes:
    document = {
        "delivery_id": outgoing.delivery_id,
        "idempotency_key": outgoing.idempotency_key,
        "incident": outgoing.incident_key,
        "subject": outgoing.subject,
        "body": outgoing.body,
        "link": outgoing.link,
        "payload": outgoing.payload,
        "sent_at": int(now.timestamp()),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> None:
    try:
        with httpx.Client(
            timeout=settings.delivery_timeout_seconds, follow_redirects=False
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:300]}")


def send_webhook(outgoing: Outgoing, settings: Settings, now: datetime) -> None:
    body = webhook_body(outgoing, now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.signature(settings.webhook_secret, body),
        signing.TIMESTAMP_HEADER: str(int(now.timestamp())),
        signing.IDEMPOTENCY_HEADER: outgoing.idempotency_key,
    }
    _post(outgoing.target, body, headers, settings)


def send_slack(outgoing: Outgoing, settings: Settings, now: datetime) -> None:
    document = slack.message(
        outgoing.subject, outgoing.body, incident_key=outgoing.incident_key, link=outgoing.link
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.IDEMPOTENCY_HEADER: outgoing.idempotency_key,
    }
    _post(outgoing.target, json.dumps(document).encode(), headers, settings)


def send(outgoing: Outgoing, settings: Settings, now: datetime) -> None:
    if outgoing.channel is Channel.EMAIL:
        send_email(outgoing, settings, now)
    elif outgoing.channel is Channel.WEBHOOK:
        send_webhook(outgoing, settings, now)
    else:
        send_slack(outgoing, settings, now)

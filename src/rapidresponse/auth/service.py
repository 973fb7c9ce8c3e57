"""API token use cases: issue, authenticate, list, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rapidresponse.audit import service as audit
from rapidresponse.auth.model import ApiToken
from rapidresponse.auth.policy import Principal, Role
from rapidresponse.errors import InvalidInput, NotFound, Unauthenticated

TOKEN_PREFIX = "rr_"
# Touching last_used_at on every request would turn reads into writes; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _public(token: ApiToken) -> dict[str, object]:
    return audit.snapshot(token, exclude=("secret_sha256", "last_used_at"))


def issue_token(
    session: Session,
    *,
    name: str,
    subject: str,
    role: Role | str,
    actor: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the plaintext secret is returned once and never stored."""
    try:
        role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role!r}; expected one of: {allowed}") from None
    name, subject = name.strip(), subject.strip()
    if not name or len(name) > 120:
        raise InvalidInput("token name must be 1-120 characters")
    if not subject or len(subject) > 120:
        raise InvalidInput("token subject (the user it acts as) must be 1-120 characters")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name,
        subject=subject,
        role=role.value,
        prefix=prefix,
        secret_sha256=_digest(secret),
        created_at=now,
        created_by=actor,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.issued",
        entity_type="api_token",
        entity_id=token.id,
        before=None,
        after=_public(token),
        at=now,
    )
    return token, secret


def authenticate(session: Session, secret: str, now: datetime) -> Principal:
    token = session.scalars(
        select(ApiToken).where(ApiToken.secret_sha256 == _digest(secret))
    ).one_or_none()
    if token is None:
        raise Unauthenticated("unknown API token")
    if token.revoked_at is not None:
        raise Unauthenticated("this API token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("this API token has expired")
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_RESOLUTION:
        token.last_used_at = now
    return Principal(subject=token.subject, role=Role(token.role), token_id=token.id)


def list_tokens(session: Session, include_revoked: bool = False) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, actor: str, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    if token.revoked_at is not None:
        return token
    before = _public(token)
    token.revoked_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.revoked",
        entity_type="api_token",
        entity_id=token.id,
        before=before,
        after=_public(token),
        at=now,
    )
    return token

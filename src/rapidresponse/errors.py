"""Domain errors. Each maps to one RFC 9457 problem type on the API and one CLI message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(DomainError):
    status = 422
    type_slug = "validation-error"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class Unauthenticated(DomainError):
    status = 401
    type_slug = "unauthenticated"
    title = "Authentication required"


class Conflict(DomainError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class StaleVersion(DomainError):
    """Someone else changed the record since the caller read it."""

    status = 412
    type_slug = "stale-version"
    title = "Precondition failed: the record has changed"


class VersionRequired(DomainError):
    status = 428
    type_slug = "version-required"
    title = "Precondition required"

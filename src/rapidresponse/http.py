"""What every router shares: RFC 9457 problem details, authentication, units of work, ETags."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from rapidresponse.auth import service as auth_service
from rapidresponse.auth.policy import Principal
from rapidresponse.clock import Clock
from rapidresponse.db import transaction
from rapidresponse.errors import DomainError, Unauthenticated
from rapidresponse.inputs import MAX_ROW_ID

# A database id in a path (see inputs.MAX_ROW_ID).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Numeric id")]
log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
SESSION_COOKIE = "rr_session"
bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer rr_…`")


def problem(
    status: int, title: str, detail: str, slug: str, instance: str | None = None, **ext: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:rapidresponse:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(ext)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_input_guards(app: FastAPI) -> None:
    """Refuse NUL characters in paths and query strings before any route sees them
    (request bodies are checked by inputs.Input)."""

    @app.middleware("http")
    async def _no_nul(request: Request, call_next: Any) -> Any:
        path = request.scope.get("path", "")
        if "\x00" in path or any(
            "\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()
        ):
            return problem(
                422,
                "Invalid input",
                "the URL cannot contain NUL characters",
                "validation-error",
                path.replace("\x00", "\\0"),
            )
        return await call_next(request)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status, exc.title, exc.detail, exc.type_slug, request.url.path, **exc.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            message = str(err.get("msg", "invalid"))
            message = message.removeprefix("Value error, ")
            errors.append({"field": _location(err.get("loc", ())), "message": message})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(
            422, "Invalid input", detail, "validation-error", request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
        return problem(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            f"http-{exc.status_code}",
            request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal error",
            "an unexpected error occurred; it was logged",
            "internal",
            request.url.path,
        )


@contextmanager
def unit_of_work(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.session_factory) as session:
        yield session


def clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


def _secret_from(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    # Browser pages authenticate with the login cookie; the JSON API needs the header so a
    # cross-site form can never act with a user's cookie.
    if request.method == "GET" and not request.url.path.startswith("/api/"):
        return request.cookies.get(SESSION_COOKIE)
    return None


def authenticate_request(request: Request, secret: str | None) -> Principal:
    if not secret:
        raise Unauthenticated("send an API token: Authorization: Bearer rr_…")
    with unit_of_work(request) as session:
        return auth_service.authenticate(session, secret, request.app.state.clock.now())


def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    return authenticate_request(request, _secret_from(request, credentials))


def parse_if_match(value: str | None) -> int | None:
    """Accept "3", W/"3" or 3 and return 3; None when the header is absent."""
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise DomainError(f'If-Match must be the ETag you read (e.g. "3"), got {value!r}')
    return int(cleaned)


def etag(version: int) -> str:
    return f'"{version}"'

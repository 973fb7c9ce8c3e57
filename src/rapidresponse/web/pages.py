"""The landing page (incidents you may see) and token login/logout for browsers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from rapidresponse.errors import Unauthenticated
from rapidresponse.http import SESSION_COOKIE, authenticate_request, unit_of_work
from rapidresponse.incidents import service
from rapidresponse.incidents.taxonomy import harm_type_info

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> Response:
    try:
        principal = authenticate_request(request, request.cookies.get(SESSION_COOKIE))
    except Unauthenticated:
        return RedirectResponse("/login", status_code=303)
    with unit_of_work(request) as session:
        rows, total = service.list_incidents(
            session, principal, service.IncidentFilter(), limit=200, offset=0
        )
        incidents = [
            {
                "key": r.key,
                "title": r.title,
                "severity": r.severity,
                "status": r.status,
                "harm": harm_type_info(r.harm_type).label,
                "regions": ", ".join(r.regions),
                "restricted": r.restricted,
                "detected_at": r.detected_at.strftime("%Y-%m-%d %H:%M UTC"),
            }
            for r in rows
        ]
    return templates.TemplateResponse(
        request,
        "index.html",
        {"incidents": incidents, "total": total, "principal": principal},
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": error})


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    try:
        authenticate_request(request, token.strip())
    except Unauthenticated as exc:
        return templates.TemplateResponse(
            request, "login.html", {"error": exc.detail}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

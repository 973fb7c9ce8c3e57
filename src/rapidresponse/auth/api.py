"""Token management (admin) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from rapidresponse.auth import service
from rapidresponse.auth.model import ApiToken
from rapidresponse.auth.policy import Principal, Role, require
from rapidresponse.auth.schemas import Me, TokenCreate, TokenIssued, TokenOut
from rapidresponse.http import RowId, current_principal, unit_of_work

router = APIRouter(tags=["auth"])
Auth = Annotated[Principal, Depends(current_principal)]


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        subject=token.subject,
        role=Role(token.role),
        prefix=token.prefix,
        created_at=token.created_at,
        created_by=token.created_by,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.get("/me", response_model=Me, summary="Who the presented token acts as")
def me(principal: Auth) -> Me:
    return Me(subject=principal.subject, role=principal.role, token_id=principal.token_id)


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens (admin)")
def list_tokens(request: Request, principal: Auth, include_revoked: bool = False) -> list[TokenOut]:
    require(principal, Role.ADMIN, "listing API tokens")
    with unit_of_work(request) as session:
        return [token_out(t) for t in service.list_tokens(session, include_revoked)]


@router.post(
    "/tokens",
    response_model=TokenIssued,
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API token (admin); the secret is shown once",
)
def issue(request: Request, principal: Auth, body: TokenCreate) -> TokenIssued:
    require(principal, Role.ADMIN, "issuing API tokens")
    with unit_of_work(request) as session:
        token, secret = service.issue_token(
            session,
            name=body.name,
            subject=body.subject,
            role=body.role,
            actor=principal.subject,
            now=request.app.state.clock.now(),
            expires_at=body.expires_at,
        )
        return TokenIssued(**token_out(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke an API token")
def revoke(request: Request, principal: Auth, token_id: RowId) -> TokenOut:
    require(principal, Role.ADMIN, "revoking API tokens")
    with unit_of_work(request) as session:
        return token_out(
            service.revoke_token(
                session, token_id, actor=principal.subject, now=request.app.state.clock.now()
            )
        )

"""`rapidresponse token …`: issue, list and revoke API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from rapidresponse.auth import service
from rapidresponse.auth.policy import Role
from rapidresponse.cli_support import console, ctx, handle_errors, print_json

app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    subject: Annotated[str, typer.Option(help="The user or service the token acts as")],
    role: Annotated[Role, typer.Option(help="viewer|responder|incident_manager|admin")],
    name: Annotated[str | None, typer.Option(help="Label (default: the subject)")] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a token. The secret is printed once; only its hash is stored."""
    c = ctx()
    now = c.clock.now()
    expires = now + timedelta(days=expires_in_days) if expires_in_days else None
    with c.session() as session:
        token, secret = service.issue_token(
            session,
            name=name or subject,
            subject=subject,
            role=role,
            actor=c.principal.subject,
            now=now,
            expires_at=expires,
        )
    if as_json:
        print_json(
            {
                "id": token.id,
                "subject": token.subject,
                "role": token.role,
                "token": secret,
                "expires_at": token.expires_at,
            }
        )
    else:
        console.print(
            f"Token #{token.id} for {token.subject} ({token.role}). "
            "Store it now; it is not shown again:"
        )
        console.print(secret, highlight=False, soft_wrap=True)


@app.command("list")
@handle_errors
def list_(all_: Annotated[bool, typer.Option("--all", help="Include revoked")] = False) -> None:
    """List tokens (never their secrets)."""
    c = ctx()
    with c.session() as session:
        tokens = service.list_tokens(session, include_revoked=all_)
    table = Table("id", "name", "subject", "role", "prefix", "created", "expires", "revoked")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.subject,
            t.role,
            f"rr_{t.prefix}_…",
            t.created_at.strftime("%Y-%m-%d"),
            t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "-",
            t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "-",
        )
    console.print(table)


@app.command("revoke")
@handle_errors
def revoke(token_id: int) -> None:
    """Revoke a token; requests with it fail from now on."""
    c = ctx()
    with c.session() as session:
        token = service.revoke_token(
            session, token_id, actor=c.principal.subject, now=c.clock.now()
        )
    console.print(f"Token #{token.id} ({token.subject}) revoked")

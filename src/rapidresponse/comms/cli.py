"""`rapidresponse comms …`: status updates, approvals, deliveries and cadence from a terminal."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from rapidresponse.cli_support import console, ctx, handle_errors, print_json
from rapidresponse.comms import service
from rapidresponse.comms.approvals import ApprovalFunction
from rapidresponse.comms.channels import DeliveryStatus
from rapidresponse.comms.schemas import (
    ApprovalIn,
    CadenceOut,
    ComposeIn,
    DeliveryOut,
    RejectionIn,
    StatusUpdateOut,
    UpdatePatch,
)
from rapidresponse.comms.templates import UpdateKind
from rapidresponse.errors import InvalidInput

app = typer.Typer(
    help="Status updates, PR/Legal approval, deliveries and update cadence.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
To = Annotated[
    list[str] | None,
    typer.Option(
        "--to",
        help="Recipient as channel:target, e.g. email:ops@example.org or "
        "slack:https://hooks.slack.com/…; repeatable",
    ),
]
ExpectVersion = Annotated[
    int | None,
    typer.Option(help="Fail if the update is no longer at this version (default: the current one)"),
]
STATUS_STYLE = {
    "draft": "white",
    "pending_approval": "yellow",
    "approved": "green",
    "published": "bold green",
    "sent": "bold green",
    "queued": "white",
    "retrying": "yellow",
    "dead": "bold red",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _recipients(values: list[str] | None) -> list[dict[str, str]] | None:
    if values is None:
        return None
    parsed = []
    for value in values:
        channel, sep, target = value.partition(":")
        if not sep:
            raise InvalidInput(f"--to {value!r}: write channel:target (e.g. email:ops@example.org)")
        parsed.append({"channel": channel.strip().lower(), "target": target.strip()})
    return parsed


_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.IGNORECASE)


def parse_every(text: str) -> timedelta:
    """ "30m", "1h", "1h30m" or plain minutes ("45")."""
    if text.strip().isdigit():
        return timedelta(minutes=int(text))
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise InvalidInput(f"--every {text!r}: use minutes or hours, e.g. 30m, 1h, 1h30m")
    hours, minutes = (int(g) if g else 0 for g in match.groups())
    return timedelta(hours=hours, minutes=minutes)


def _show(out: StatusUpdateOut) -> None:
    style = STATUS_STYLE.get(out.status.value, "white")
    head = (
        f"[bold]#{out.id}[/] {out.kind.value} on [bold]{out.incident}[/] · "
        f"[{style}]{out.status.value}[/] · version {out.version}\n"
        f"drafted {_when(out.created_at)} by {out.created_by}; "
        f"last edit {_when(out.updated_at)} by {out.updated_by}"
        + (f"\naudience: {out.audience}" if out.audience else "")
        + (
            "\nto: " + ", ".join(f"{r.channel.value}:{r.target}" for r in out.recipients)
            if out.recipients
            else ""
        )
        + (f"\n[red]rejected:[/] {out.rejection}" if out.rejection else "")
        + (
            "\n[yellow]needs approval by:[/] " + ", ".join(m.value for m in out.missing_approvals)
            if out.missing_approvals and out.status.value != "draft"
            else ""
        )
    )
    console.print(Panel(head, title=out.title, expand=False))
    console.print(Markdown(out.body))
    if out.approvals:
        table = Table("at", "function", "decision", "by", "valid", "comment", title="Approvals")
        for a in out.approvals:
            table.add_row(
                _when(a.decided_at),
                a.function.value,
                a.decision.value,
                a.decided_by + (" (admin as)" if a.on_behalf else ""),
                "yes" if a.valid else f"no ({a.void_reason})" if a.void_reason else "no",
                a.comment,
            )
        console.print(table)
    if out.deliveries:
        _deliveries_table(out.deliveries)


def _deliveries_table(rows: list[DeliveryOut], title: str = "Deliveries") -> None:
    table = Table(title=title)
    for column in ("id", "status", "channel", "target"):
        table.add_column(column, no_wrap=True)
    for column in ("subject", "attempts", "last error"):
        table.add_column(column)
    for d in rows:
        style = STATUS_STYLE.get(d.status.value, "white")
        table.add_row(
            str(d.id),
            f"[{style}]{d.status.value}[/]",
            d.channel.value,
            d.target,
            d.subject,
            str(d.attempts),
            d.last_error or "",
        )
    console.print(table)


def _print(out: StatusUpdateOut, as_json: bool) -> None:
    if as_json:
        print_json(out)
    else:
        _show(out)


@app.command()
@handle_errors
def compose(
    key: str,
    kind: Annotated[UpdateKind, typer.Option(help="Which template")],
    audience: Annotated[str, typer.Option(help="Who it is for, in words")] = "",
    to: To = None,
    as_json: Json = False,
) -> None:
    """Draft a status update from its template and the incident's live facts."""
    data = ComposeIn.model_validate(
        {"kind": kind, "audience": audience, "recipients": _recipients(to) or []}
    )
    c = ctx()
    with c.session() as session:
        update = service.compose(session, c.principal, key, data, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command("list")
@handle_errors
def list_(
    key: str,
    kind: Annotated[UpdateKind | None, typer.Option(help="Only this kind")] = None,
    as_json: Json = False,
) -> None:
    """List an incident's status updates."""
    c = ctx()
    with c.session() as session:
        rows = [
            service.update_out(session, u, key)
            for u in service.list_updates(session, c.principal, key, kind)
        ]
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title=f"{len(rows)} update(s)")
    for column in ("id", "kind", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("title", "updated", "needs"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id),
            r.kind.value,
            f"[{STATUS_STYLE.get(r.status.value, 'white')}]{r.status.value}[/]",
            r.title,
            _when(r.updated_at),
            ", ".join(m.value for m in r.missing_approvals),
        )
    console.print(table)


@app.command()
@handle_errors
def show(key: str, update_id: int, as_json: Json = False) -> None:
    """Show one status update with its approvals and deliveries."""
    c = ctx()
    with c.session() as session:
        out = service.update_out(
            session, service.get_update(session, c.principal, key, update_id), key
        )
    _print(out, as_json)


def _current_version(key: str, update_id: int) -> int:
    c = ctx()
    with c.session() as session:
        return service.get_update(session, c.principal, key, update_id).version


@app.command()
@handle_errors
def edit(
    key: str,
    update_id: int,
    title: Annotated[str | None, typer.Option()] = None,
    body: Annotated[str | None, typer.Option(help="New body text")] = None,
    body_file: Annotated[
        Path | None, typer.Option(help="Read the new body from this file", exists=True)
    ] = None,
    audience: Annotated[str | None, typer.Option()] = None,
    to: To = None,
    expect_version: ExpectVersion = None,
    as_json: Json = False,
) -> None:
    """Edit a draft (editing a statement under approval voids its approvals)."""
    if body is not None and body_file is not None:
        raise InvalidInput("give --body or --body-file, not both")
    text = body_file.read_text(encoding="utf-8") if body_file is not None else body
    fields = {"title": title, "body": text, "audience": audience, "recipients": _recipients(to)}
    patch = UpdatePatch.model_validate({k: v for k, v in fields.items() if v is not None})
    c = ctx()
    version = expect_version or _current_version(key, update_id)
    with c.session() as session:
        update = service.edit(session, c.principal, key, update_id, patch, version, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def submit(key: str, update_id: int, as_json: Json = False) -> None:
    """Submit an external statement for PR and Legal approval."""
    c = ctx()
    with c.session() as session:
        update = service.submit(session, c.principal, key, update_id, None, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def approve(
    key: str,
    update_id: int,
    as_: Annotated[ApprovalFunction, typer.Option("--as", help="Approve as pr or legal")],
    comment: Annotated[str, typer.Option()] = "",
    expect_version: ExpectVersion = None,
    as_json: Json = False,
) -> None:
    """Approve the statement's current text as PR or Legal."""
    data = ApprovalIn(function=as_, comment=comment)
    c = ctx()
    version = expect_version or _current_version(key, update_id)
    with c.session() as session:
        update = service.approve(session, c.principal, key, update_id, data, version, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def reject(
    key: str,
    update_id: int,
    as_: Annotated[ApprovalFunction, typer.Option("--as", help="Reject as pr or legal")],
    comment: Annotated[str, typer.Option(help="What must change")],
    as_json: Json = False,
) -> None:
    """Send a statement back to draft with a comment."""
    data = RejectionIn(function=as_, comment=comment)
    c = ctx()
    with c.session() as session:
        update = service.reject(session, c.principal, key, update_id, data, None, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def publish(key: str, update_id: int, as_json: Json = False) -> None:
    """Mark an approved external statement published (and deliver it to its recipients)."""
    c = ctx()
    with c.session() as session:
        update = service.publish(session, c.principal, key, update_id, None, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def send(key: str, update_id: int, as_json: Json = False) -> None:
    """Send an internal update or executive summary to its recipients."""
    c = ctx()
    with c.session() as session:
        update = service.send(session, c.principal, key, update_id, None, c.clock.now())
        out = service.update_out(session, update, key)
    _print(out, as_json)


@app.command()
@handle_errors
def deliveries(
    status: Annotated[DeliveryStatus | None, typer.Option(help="Only this status")] = None,
    incident: Annotated[str | None, typer.Option(help="Only this incident")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Json = False,
) -> None:
    """List deliveries, newest first; failed ones show their attempts and last error."""
    c = ctx()
    with c.session() as session:
        rows = [
            service.delivery_out(d)
            for d in service.list_deliveries(
                session, c.principal, status=status, incident_key=incident, limit=limit
            )
        ]
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    _deliveries_table(rows, f"{len(rows)} deliver{'y' if len(rows) == 1 else 'ies'}")


@app.command("cadence")
@handle_errors
def cadence_(
    key: str,
    every: Annotated[
        str | None, typer.Option(help="Set the cadence: 30m, 1h, 1h30m or minutes")
    ] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the reminders")] = False,
    as_json: Json = False,
) -> None:
    """Show (or set, or stop) the update cadence and when the next update is due."""
    if every is not None and stop:
        raise InvalidInput("give --every or --stop, not both")
    c = ctx()
    now = c.clock.now()
    out: CadenceOut | None
    with c.session() as session:
        if every is not None:
            service.set_cadence(session, c.principal, key, parse_every(every), now)
        elif stop:
            service.stop_cadence(session, c.principal, key, now)
        out = service.cadence_status(session, c.principal, key, now)
    if as_json:
        print_json(out.model_dump(mode="json") if out else None)
        return
    if out is None:
        console.print(f"{key.upper()} has no update cadence (set one with --every 30m)")
        return
    due = _when(out.next_update_due_at) if out.next_update_due_at else "- (reminders stopped)"
    if out.overdue:
        due = f"[bold red]{due} (overdue)[/]"
    console.print(
        f"[bold]{out.incident}[/]: an internal update every {out.every_minutes} min; "
        f"next due {due}; last sent {_when(out.last_update_at)}; "
        f"{out.reminders_sent} reminder(s) so far"
    )

"""`rapidresponse audit …`: read and verify the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rapidresponse.audit import service
from rapidresponse.cli_support import console, ctx, err_console, handle_errors, print_json

app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)


@app.command()
@handle_errors
def verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute the hash chain; exit 1 if any entry was edited or deleted."""
    c = ctx()
    with c.session() as session:
        report = service.verify_log(session)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems],
            }
        )
    elif report.ok:
        console.print(f"[green]audit log intact[/]: {report.entries} entries verified")
    else:
        err_console.print(
            f"[bold red]audit log TAMPERED[/]: {len(report.problems)} problem(s) "
            f"in {report.entries} entries"
        )
        for p in report.problems:
            err_console.print(f"  entry {p.seq}: {p.problem}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("log")
@handle_errors
def log_(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    entity_type: Annotated[str | None, typer.Option()] = None,
    entity_id: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Recent audit entries, newest first."""
    c = ctx()
    with c.session() as session:
        rows = service.list_entries(
            session, entity_type=entity_type, entity_id=entity_id, limit=limit
        )
    table = Table("seq", "at", "actor", "action", "entity", "hash")
    for r in rows:
        table.add_row(
            str(r.seq),
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.action,
            f"{r.entity_type}:{r.entity_id}",
            r.hash[:12],
        )
    console.print(table)


@app.command()
@handle_errors
def head() -> None:
    """Print the chain head (entry number and hash): record it outside the database.

    A copy of the head kept elsewhere (a ticket, a log archive, a notary) lets you prove later
    that nobody rewrote the whole chain from some point on, which the chain alone cannot show.
    """
    from rapidresponse.audit.model import AuditHead

    c = ctx()
    with c.session() as session:
        current = session.get(AuditHead, service.HEAD_ID)
    if current is None:
        console.print("no audit head (database not migrated?)")
        raise typer.Exit(1)
    console.print(f"{current.seq} {current.hash}", highlight=False)

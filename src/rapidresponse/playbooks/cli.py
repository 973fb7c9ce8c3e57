"""`rapidresponse playbook …` and `rapidresponse next`: the library, plans, what is next."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rapidresponse.cli_support import console, ctx, fail, handle_errors, print_json
from rapidresponse.incidents.severity import Severity
from rapidresponse.playbooks import service
from rapidresponse.playbooks.loader import PlaybookError, load_directories
from rapidresponse.playbooks.schema import Playbook

app = typer.Typer(help="The playbook library, validation and plans.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


@app.command("list")
@handle_errors
def list_(as_json: Json = False) -> None:
    """Playbooks in the library (shipped plus RR_PLAYBOOK_DIRS)."""
    rows = [service.summary_of(p) for p in service.library()]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "harm type", "tasks SEV3/SEV0", "reviewed", "title")
    table.columns.insert(0, Table("id").columns[0])
    table.columns[0].no_wrap = True
    for r in rows:
        table.add_row(
            r.id,
            str(r.version),
            r.harm_type.value,
            f"{r.tasks_by_severity['SEV3']}/{r.tasks_by_severity['SEV0']}",
            r.reviewed,
            r.title,
        )
    console.print(table)


@app.command()
@handle_errors
def show(playbook_id: str) -> None:
    """Print one playbook as JSON."""
    print_json(service.get_playbook(playbook_id))


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
) -> None:
    """Export the playbook format as JSON Schema (for editors and CI)."""
    text = json.dumps(Playbook.model_json_schema(), indent=2) + "\n"
    if output:
        output.write_text(text)
        console.print(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@app.command()
def validate(
    directories: Annotated[list[Path], typer.Argument(help="Playbook directories")],
) -> None:
    """Check playbook files; every problem is reported as file:line: field: message."""
    try:
        playbooks = load_directories(directories)
    except PlaybookError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(1) from None
    console.print(
        f"{len(playbooks)} playbook(s) valid: "
        + ", ".join(f"{p.id} v{p.version}" for p in playbooks)
    )


@app.command()
@handle_errors
def preview(
    playbook_id: str,
    severity: Annotated[Severity, typer.Option()],
    region: Annotated[list[str], typer.Option(help="Region codes; repeat or comma-list")],
    as_json: Json = False,
) -> None:
    """The tasks, roles and checks an incident would get."""
    regions = [r.strip() for v in region for r in v.split(",") if r.strip()]
    now = ctx().clock.now()
    result = service.plan_out(service.preview(playbook_id, severity, regions, now))
    if as_json:
        print_json(result)
        return
    table = Table(
        "due in",
        "step",
        "task",
        "owner role",
        title=f"{result.playbook_id} at {result.severity.value}: updates every {result.cadence}",
    )
    for t in result.new_tasks:
        minutes = int((t.due_at - now).total_seconds() // 60)
        table.add_row(f"{minutes} min", t.step, t.title, t.owner_role.value)
    console.print(table)
    console.print("roles: " + ", ".join(r["role"] for r in result.roles_needed))


@app.command()
@handle_errors
def replan(key: str) -> None:
    """Re-apply an incident's playbook: adds missing steps, keeps completed work."""
    c = ctx()
    with c.session() as session:
        result = service.plan_incident(
            session, c.principal, key, c.clock.now(), "re-planned from the CLI"
        )
    if result is None:
        raise fail(f"{key.upper()} is closed or has no playbook for its harm type")
    console.print(
        f"{key.upper()}: {len(result.new_tasks)} task(s) added, {len(result.kept_steps)} kept"
    )


def next_command(
    incident: Annotated[str | None, typer.Option(help="Only this incident")] = None,
    horizon: Annotated[
        int, typer.Option(min=1, max=7 * 24 * 60, help="Minutes ahead that count as due soon")
    ] = 120,
    as_json: Json = False,
) -> None:
    """What is overdue, due soon, blocked or unstaffed, most severe first."""
    from datetime import timedelta

    c = ctx()
    with c.session() as session:
        view = service.next_actions_out(
            service.next_actions(
                session, c.principal, c.clock.now(), incident, timedelta(minutes=horizon)
            )
        )
    if as_json:
        print_json(view)
        return
    sections = (
        ("OVERDUE", view.overdue, "bold red"),
        ("Due soon", view.due_soon, "yellow"),
        ("Blocked", view.blocked, "magenta"),
        ("Roles to fill", view.open_roles, "cyan"),
        ("Status updates due", view.updates_due, "blue"),
    )
    if not any(items for _, items, _ in sections):
        console.print("Nothing is due. Check again after the next update.")
        return
    for title, items, style in sections:
        if not items:
            continue
        table = Table("incident", "sev", "what", "owner", "when", title=title, title_style=style)
        for i in items:
            table.add_row(i.incident, i.severity.value, i.title, i.owner or "-", i.detail)
        console.print(table)


next_ = handle_errors(next_command)

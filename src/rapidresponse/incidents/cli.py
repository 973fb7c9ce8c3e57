"""`rapidresponse incident …`: declare, list, show and work incidents from a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from rapidresponse.cli_support import console, ctx, handle_errors, print_json
from rapidresponse.incidents import service
from rapidresponse.incidents.lifecycle import Status
from rapidresponse.incidents.schemas import (
    IncidentCreate,
    IncidentOut,
    IncidentPatch,
    NoteIn,
    ParticipantIn,
    SeverityOverrideIn,
    TaskCreate,
    TaskPatch,
    TransitionIn,
)
from rapidresponse.incidents.severity import PressAttention, RegulatoryExposure, Severity
from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType

app = typer.Typer(help="Declare, list, show and work incidents.", no_args_is_help=True)
participant_app = typer.Typer(help="People and their roles on an incident.", no_args_is_help=True)
task_app = typer.Typer(help="Tasks on an incident.", no_args_is_help=True)
app.add_typer(participant_app, name="participant")
app.add_typer(task_app, name="task")

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
SEV_STYLE = {
    "SEV0": "bold white on red",
    "SEV1": "bold white on dark_orange3",
    "SEV2": "bold black on yellow",
    "SEV3": "white on grey39",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _split(values: list[str] | None) -> list[str] | None:
    """Accept repeated options and comma-separated lists alike."""
    if values is None:
        return None
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _none_if_empty(values: list[str]) -> list[str] | None:
    return values or None


def _show(out: IncidentOut) -> None:
    sev = out.severity
    head = (
        f"[{SEV_STYLE[sev.level]}] {sev.level} [/] [bold]{out.key}[/] {out.title}\n"
        f"status [bold]{out.status}[/] · {HARM_TYPES[out.harm_type].label} · "
        f"regions {', '.join(out.regions)}"
        + (f" · languages {', '.join(out.languages)}" if out.languages else "")
        + (f" · surfaces {', '.join(out.surfaces)}" if out.surfaces else "")
        + (" · [red]restricted[/]" if out.restricted else "")
        + (f"\ntags {', '.join(out.tags)}" if out.tags else "")
        + f"\nseverity: {sev.explanation}"
        + (f"\n[bold]override[/] {sev.override}: {sev.override_reason}" if sev.override else "")
    )
    console.print(Panel(head, expand=False))
    if out.summary:
        console.print(out.summary)
    times = Table(title="Times", show_header=False, box=None)
    for label, value in (
        ("started", out.times.started_at),
        ("detected", out.times.detected_at),
        ("declared", out.times.declared_at),
        ("triaged", out.times.triaged_at),
        ("active", out.times.active_at),
        ("contained", out.times.contained_at),
        ("resolved", out.times.resolved_at),
        ("closed", out.times.closed_at),
    ):
        if value:
            times.add_row(label, _when(value))
    console.print(times)


@app.command("harm-types")
def harm_types(as_json: Json = False) -> None:
    """The harm-type taxonomy and its EU DSA category."""
    rows = [
        {
            "harm_type": i.harm_type.value,
            "label": i.label,
            "gravity": i.gravity,
            "dsa_category": i.dsa_category,
        }
        for i in HARM_TYPES.values()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    table.add_column("harm type", no_wrap=True)
    for column in ("label", "gravity", "DSA category"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["harm_type"]), str(r["label"]), str(r["gravity"]), str(r["dsa_category"])
        )
    console.print(table)


@app.command()
@handle_errors
def declare(
    title: Annotated[str, typer.Option(help="Short headline")],
    harm_type: Annotated[HarmType, typer.Option(help="Harm type (see `incident harm-types`)")],
    region: Annotated[list[str], typer.Option(help="ISO 3166-1 alpha-2; repeat or comma-list")],
    summary: Annotated[str, typer.Option(help="What is happening")] = "",
    language: Annotated[list[str] | None, typer.Option(help="BCP 47 tag; repeatable")] = None,
    surface: Annotated[list[str] | None, typer.Option(help="feed|live|search|comments|dms")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Free tag; repeatable")] = None,
    views: Annotated[int, typer.Option(help="Views so far")] = 0,
    views_per_hour: Annotated[int, typer.Option(help="Current view velocity")] = 0,
    minors: Annotated[bool, typer.Option("--minors", help="Minors are involved")] = False,
    regulatory: Annotated[RegulatoryExposure, typer.Option()] = RegulatoryExposure.NONE,
    press: Annotated[PressAttention, typer.Option()] = PressAttention.NONE,
    restricted: Annotated[
        bool | None,
        typer.Option("--restricted/--not-restricted", help="Need-to-know (default by harm type)"),
    ] = None,
    commander: Annotated[str | None, typer.Option(help="Incident commander")] = None,
    started_at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"], help="Harm onset, with zone"
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Declare an incident; severity is computed from the impact given."""
    data = IncidentCreate.model_validate(
        {
            "title": title,
            "summary": summary,
            "harm_type": harm_type,
            "regions": _split(region),
            "languages": _split(language) or [],
            "surfaces": _split(surface) or [],
            "tags": _split(tag) or [],
            "impact": {
                "views": views,
                "views_per_hour": views_per_hour,
                "minors_involved": minors,
                "regulatory_exposure": regulatory,
                "press_attention": press,
            },
            "restricted": restricted,
            "commander": commander,
            "started_at": started_at,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.describe(session, service.declare(session, c.principal, data, c.clock.now()))
    if as_json:
        print_json(out)
    else:
        console.print(f"Declared [bold]{out.key}[/] ({out.severity.level})")
        _show(out)


@app.command("list")
@handle_errors
def list_(
    status: Annotated[list[Status] | None, typer.Option(help="Filter by status")] = None,
    severity: Annotated[list[Severity] | None, typer.Option(help="Filter by severity")] = None,
    harm_type: Annotated[HarmType | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open incidents")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Json = False,
) -> None:
    """List incidents, most severe first."""
    c = ctx()
    filters = service.IncidentFilter(status, severity, harm_type, region, open_only)
    with c.session() as session:
        rows, total = service.list_incidents(session, c.principal, filters, limit, 0)
        items = [service.summarise(r) for r in rows]
    if as_json:
        print_json({"items": [i.model_dump(mode="json") for i in items], "total": total})
        return
    table = Table(title=f"{total} incident(s)")
    table.add_column("key", no_wrap=True)
    table.add_column("sev", no_wrap=True)
    for column in ("status", "title", "harm type", "regions", "detected"):
        table.add_column(column)
    for i in items:
        table.add_row(
            i.key + (" 🔒" if i.restricted else ""),
            f"[{SEV_STYLE[i.severity]}] {i.severity} [/]",
            i.status,
            i.title,
            i.harm_type.value,
            ",".join(i.regions),
            _when(i.detected_at),
        )
    console.print(table)


@app.command()
@handle_errors
def show(key: str, as_json: Json = False) -> None:
    """Show an incident with its people, tasks and timeline."""
    c = ctx()
    now = c.clock.now()
    with c.session() as session:
        out = service.describe(session, service.get_incident(session, c.principal, key))
        people = [
            service.participant_out(p) for p in service.participants(session, c.principal, key)
        ]
        tasks = [service.task_out(t, now) for t in service.tasks(session, c.principal, key)]
        events = [service.timeline_out(e) for e in service.timeline(session, c.principal, key)]
    if as_json:
        print_json(
            {
                "incident": out.model_dump(mode="json"),
                "participants": [p.model_dump(mode="json") for p in people],
                "tasks": [t.model_dump(mode="json") for t in tasks],
                "timeline": [e.model_dump(mode="json") for e in events],
            }
        )
        return
    _show(out)
    if people:
        table = Table("id", "user", "role", "since", title="People")
        for p in people:
            table.add_row(str(p.id), p.user, p.role.value, _when(p.added_at))
        console.print(table)
    if tasks:
        _task_table(tasks)
    table = Table("at", "who", "kind", "what", title="Timeline")
    for e in events:
        table.add_row(_when(e.at), e.actor, e.kind.value, e.text)
    console.print(table)


@app.command()
@handle_errors
def update(
    key: str,
    title: Annotated[str | None, typer.Option()] = None,
    summary: Annotated[str | None, typer.Option()] = None,
    harm_type: Annotated[HarmType | None, typer.Option()] = None,
    region: Annotated[list[str] | None, typer.Option(help="Replaces the regions")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Replaces the languages")] = None,
    surface: Annotated[list[str] | None, typer.Option(help="Replaces the surfaces")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Replaces the tags")] = None,
    views: Annotated[int | None, typer.Option()] = None,
    views_per_hour: Annotated[int | None, typer.Option()] = None,
    minors: Annotated[bool | None, typer.Option("--minors/--no-minors")] = None,
    regulatory: Annotated[RegulatoryExposure | None, typer.Option()] = None,
    press: Annotated[PressAttention | None, typer.Option()] = None,
    restricted: Annotated[bool | None, typer.Option("--restricted/--not-restricted")] = None,
    expect_version: Annotated[
        int | None,
        typer.Option(
            help="Fail if the incident is no longer at this version (default: the current one)"
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Edit an incident; severity is recomputed."""
    fields: dict[str, Any] = {
        "title": title,
        "summary": summary,
        "harm_type": harm_type,
        "regions": _split(region),
        "languages": _split(language),
        "surfaces": _split(surface),
        "tags": _split(tag),
        "restricted": restricted,
    }
    impact = {
        "views": views,
        "views_per_hour": views_per_hour,
        "minors_involved": minors,
        "regulatory_exposure": regulatory,
        "press_attention": press,
    }
    payload = {k: v for k, v in fields.items() if v is not None}
    if any(v is not None for v in impact.values()):
        payload["impact"] = {k: v for k, v in impact.items() if v is not None}
    patch = IncidentPatch.model_validate(payload)
    c = ctx()
    with c.session() as session:
        current = service.get_incident(session, c.principal, key)
        incident = service.update(
            session, c.principal, key, patch, expect_version or current.version, c.clock.now()
        )
        out = service.describe(session, incident)
    if as_json:
        print_json(out)
    else:
        _show(out)


@app.command()
@handle_errors
def status(
    key: str,
    to: Annotated[Status, typer.Argument(help="The state to move to")],
    reason: Annotated[str | None, typer.Option(help="Why (required to decline or merge)")] = None,
    merged_into: Annotated[str | None, typer.Option(help="Surviving incident when merging")] = None,
    as_json: Json = False,
) -> None:
    """Move an incident through its lifecycle."""
    data = TransitionIn(to=to, reason=reason, merged_into=merged_into)
    c = ctx()
    with c.session() as session:
        out = service.describe(
            session, service.change_status(session, c.principal, key, data, None, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"{out.key} is now [bold]{out.status}[/]")


@app.command()
@handle_errors
def severity(
    key: str,
    reason: Annotated[str, typer.Option(help="Why (kept in the timeline)")],
    override: Annotated[Severity | None, typer.Option(help="Severity to impose")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Return to computed")] = False,
    as_json: Json = False,
) -> None:
    """Override an incident's computed severity, or clear the override."""
    if (override is None) == (not clear):
        from rapidresponse.cli_support import fail

        raise fail("give either --override SEVn or --clear")
    data = SeverityOverrideIn(override=override, reason=reason)
    c = ctx()
    with c.session() as session:
        out = service.describe(
            session, service.override_severity(session, c.principal, key, data, None, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"{out.key} severity {out.severity.level} ({out.severity.explanation})")


@app.command()
@handle_errors
def note(
    key: str,
    text: Annotated[str, typer.Argument(help="The note")],
    decision: Annotated[bool, typer.Option("--decision", help="Record as a decision")] = False,
) -> None:
    """Add a note or decision to the timeline."""
    c = ctx()
    with c.session() as session:
        entry = service.add_note(
            session, c.principal, key, NoteIn(text=text, decision=decision), c.clock.now()
        )
    console.print(f"Added {entry.kind} #{entry.id} to {key.upper()}")


@app.command("timeline")
@handle_errors
def timeline_(key: str, as_json: Json = False) -> None:
    """The incident's timeline, oldest first."""
    c = ctx()
    with c.session() as session:
        events = [service.timeline_out(e) for e in service.timeline(session, c.principal, key)]
    if as_json:
        print_json(events)
        return
    table = Table("at", "who", "kind", "what")
    for e in events:
        table.add_row(_when(e.at), e.actor, e.kind.value, e.text)
    console.print(table)


@participant_app.command("add")
@handle_errors
def participant_add(key: str, user: str, role: str) -> None:
    """Assign USER to ROLE (incident_commander, deputy, scribe, communications, …)."""
    c = ctx()
    with c.session() as session:
        p = service.add_participant(
            session,
            c.principal,
            key,
            ParticipantIn.model_validate({"user": user, "role": role}),
            c.clock.now(),
        )
    console.print(f"{p.user} is {p.role} on {key.upper()} (participant #{p.id})")


@participant_app.command("remove")
@handle_errors
def participant_remove(key: str, participant_id: int) -> None:
    """Release a participant from their role."""
    c = ctx()
    with c.session() as session:
        p = service.remove_participant(session, c.principal, key, participant_id, c.clock.now())
    console.print(f"{p.user} released from {p.role} on {key.upper()}")


@participant_app.command("list")
@handle_errors
def participant_list(key: str, as_json: Json = False) -> None:
    c = ctx()
    with c.session() as session:
        people = [
            service.participant_out(p) for p in service.participants(session, c.principal, key)
        ]
    if as_json:
        print_json(people)
        return
    table = Table("id", "user", "role", "since")
    for p in people:
        table.add_row(str(p.id), p.user, p.role.value, _when(p.added_at))
    console.print(table)


def _task_table(tasks: list[Any]) -> None:
    table = Table("id", "task", "owner", "due", "status", title="Tasks")
    for t in tasks:
        due = _when(t.due_at) + (" [bold red]OVERDUE[/]" if t.overdue else "")
        table.add_row(str(t.id), t.title, t.owner or "-", due, t.status.value)
    console.print(table)


@task_app.command("add")
@handle_errors
def task_add(
    key: str,
    title: str,
    owner: Annotated[str | None, typer.Option()] = None,
    due: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"], help="Due time, with zone"
        ),
    ] = None,
    description: Annotated[str, typer.Option()] = "",
    owner_role: Annotated[
        str | None,
        typer.Option(help="Incident role that owns it (its holder becomes the owner)"),
    ] = None,
) -> None:
    """Add a task."""
    c = ctx()
    data = TaskCreate.model_validate(
        {
            "title": title,
            "owner": owner,
            "due_at": due,
            "description": description,
            "owner_role": owner_role,
        }
    )
    with c.session() as session:
        task = service.add_task(session, c.principal, key, data, c.clock.now())
    console.print(f"Task #{task.id} added to {key.upper()}")


@task_app.command("update")
@handle_errors
def task_update(
    key: str,
    task_id: int,
    status: Annotated[
        str | None, typer.Option(help="open|in_progress|blocked|done|cancelled")
    ] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    due: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])
    ] = None,
    title: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Update a task."""
    payload = {
        k: v
        for k, v in {"status": status, "owner": owner, "due_at": due, "title": title}.items()
        if v is not None
    }
    patch = TaskPatch.model_validate(payload)
    c = ctx()
    with c.session() as session:
        current = {t.id: t for t in service.tasks(session, c.principal, key)}.get(task_id)
        version = current.version if current else None
        task = service.update_task(
            session, c.principal, key, task_id, patch, version or 1, c.clock.now()
        )
    console.print(f"Task #{task.id} is {task.status}")


@task_app.command("list")
@handle_errors
def task_list(key: str, as_json: Json = False) -> None:
    c = ctx()
    now = c.clock.now()
    with c.session() as session:
        tasks = [service.task_out(t, now) for t in service.tasks(session, c.principal, key)]
    if as_json:
        print_json(tasks)
    else:
        _task_table(tasks)

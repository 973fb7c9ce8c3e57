"""`rapidresponse oncall …`: people, teams, schedules, routing and pages from a terminal.

"Who is on call?" is one command: ``rapidresponse oncall who --schedule ts-follow-the-sun
--at 2026-03-17T09:00Z`` (or ``--team legal``; no option lists every schedule). Schedules
and escalation policies are documents, so they are created from YAML or JSON files shaped
like the API's request bodies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from rapidresponse.cli_support import console, ctx, fail, handle_errors, print_json
from rapidresponse.errors import InvalidInput
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.oncall import service
from rapidresponse.oncall.escalation import PageStatus
from rapidresponse.oncall.schemas import (
    OnCallOut,
    OverrideCreate,
    PageCreate,
    PageOut,
    PersonCreate,
    PersonPatch,
    PolicyCreate,
    PolicyPatch,
    RuleCreate,
    ScheduleCreate,
    SchedulePatch,
    SegmentOut,
    TeamCreate,
    TeamFunction,
    TeamPatch,
    normalise_rule_regions,
)
from rapidresponse.oncall.zones import zone as _zone

app = typer.Typer(
    help="On-call: who is on call, schedules, teams, routing rules and pages.",
    no_args_is_help=True,
)
person_app = typer.Typer(help="People who can be on call.", no_args_is_help=True)
team_app = typer.Typer(help="Teams and their functions.", no_args_is_help=True)
schedule_app = typer.Typer(help="On-call schedules and their layers.", no_args_is_help=True)
override_app = typer.Typer(help="Someone covers a schedule for a while.", no_args_is_help=True)
policy_app = typer.Typer(help="Escalation policies.", no_args_is_help=True)
rule_app = typer.Typer(help="Routing rules: harm type x severity x region.", no_args_is_help=True)
page_app = typer.Typer(help="Pages: trigger, list, acknowledge, resolve.", no_args_is_help=True)
app.add_typer(person_app, name="person")
app.add_typer(team_app, name="team")
app.add_typer(schedule_app, name="schedule")
app.add_typer(override_app, name="override")
app.add_typer(policy_app, name="policy")
app.add_typer(rule_app, name="rule")
app.add_typer(page_app, name="page")

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
When = Annotated[
    str | None,
    typer.Option(help="ISO 8601 instant with zone, e.g. 2026-03-17T09:00Z (default now)"),
]
Tz = Annotated[str, typer.Option("--tz", help="Show times in this IANA zone")]
# Columns kept on one line (times, handles); free text wraps instead.
NO_WRAP = frozenset({"at", "from", "to", "when", "until", "created", "handle", "person", "id"})


def _instant(text: str | None, what: str = "time") -> datetime | None:
    """Parse an ISO 8601 instant; a time without a zone is refused rather than guessed."""
    if text is None or text.strip().lower() == "now":
        return None
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            f"{what}: {text!r} is not an ISO 8601 instant (e.g. 2026-03-17T09:00Z)"
        ) from None
    if value.tzinfo is None:
        raise InvalidInput(f"{what}: {text!r} needs a zone (e.g. Z or +01:00)")
    return value


def _window(start: str | None, end: str | None, days: int = 7) -> tuple[datetime, datetime]:
    begin = _instant(start, "--start") or ctx().clock.now()
    return service.window(begin, _instant(end, "--end"), timedelta(days=days))


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]


def zone(name: str) -> Any:
    """An IANA zone named on the command line; a typo is a one-line error, not a traceback."""
    try:
        return _zone(name)
    except ValueError as exc:
        raise InvalidInput(f"--tz: {exc}") from None


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return "-"
    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


def _document(path: Path) -> dict[str, Any]:
    """A YAML or JSON file as a dict (YAML is a superset of JSON)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold a mapping (the API's request body)")
    return data


def _write(path: Path, body: bytes) -> None:
    path.write_bytes(body)
    console.print(f"wrote {path} ({len(body)} bytes)")


# ---------------------------------------------------------------- who


def _who_table(rows: list[OnCallOut], tz: str | None) -> Table:
    table = Table(title="On call")
    for column in ("schedule", "person"):
        table.add_column(column, no_wrap=True)
    for column in ("name", "layer", "until", "why"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for r in rows:
        show = tz or "UTC"
        table.add_row(
            r.schedule,
            r.person or "[red]nobody[/]",
            r.name or "",
            r.layer or r.source.value,
            _local(r.until, show),
            r.reason,
        )
    return table


@app.command()
@handle_errors
def who(
    schedule: Annotated[str | None, typer.Option(help="Schedule slug or id")] = None,
    team: Annotated[str | None, typer.Option(help="Team slug (its on-call schedule)")] = None,
    at: When = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Show times in this zone")] = None,
    as_json: Json = False,
) -> None:
    """Who is on call for a schedule or team at a time (default: every schedule, now)."""
    c = ctx()
    when = _instant(at, "--at") or c.clock.now()
    if tz:
        zone(tz)
    if schedule and team:
        raise fail("give --schedule or --team, not both")
    with c.session() as session:
        if schedule:
            rows = [service.who_is_on_call(session, schedule, when)]
        elif team:
            rows = [service.who_is_on_call_for_team(session, team, when)]
        else:
            rows = [
                service.who_is_on_call(session, s.slug, when)
                for s in service.list_schedules(session)
            ]
    if as_json:
        print_json(rows if not (schedule or team) else rows[0])
        return
    if not rows:
        console.print("no schedules yet: rapidresponse oncall schedule create --file …")
        return
    console.print(f"at {_local(when, tz or 'UTC')}")
    console.print(_who_table(rows, tz))


# ---------------------------------------------------------------- people


@person_app.command("add")
@handle_errors
def person_add(
    handle: str,
    name: Annotated[str, typer.Option(help="Full name")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Dublin")],
    email: Annotated[str | None, typer.Option()] = None,
    slack_webhook: Annotated[str | None, typer.Option(help="Slack incoming-webhook URL")] = None,
    webhook: Annotated[str | None, typer.Option(help="Webhook URL that pages this person")] = None,
    as_json: Json = False,
) -> None:
    """Add a person who can be on call."""
    data = PersonCreate.model_validate(
        {
            "handle": handle,
            "name": name,
            "timezone": timezone,
            "email": email,
            "slack_webhook_url": slack_webhook,
            "webhook_url": webhook,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.person_out(
            session, service.create_person(session, c.principal, data, c.clock.now()), c.principal
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Added [bold]{out.handle}[/] ({out.name}, {out.timezone})")


@person_app.command("list")
@handle_errors
def person_list(
    include_inactive: Annotated[bool, typer.Option("--all", help="Include inactive")] = False,
    as_json: Json = False,
) -> None:
    """People, by handle."""
    c = ctx()
    with c.session() as session:
        people = [
            service.person_out(session, p, c.principal)
            for p in service.list_people(session, None if include_inactive else True)
        ]
    if as_json:
        print_json(people)
        return
    table = Table(title=f"{len(people)} people")
    for column in ("handle", "name", "time zone", "e-mail", "slack", "webhook", "teams", "active"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for p in people:
        table.add_row(
            p.handle,
            p.name,
            p.timezone,
            p.email or "-",
            "yes" if p.slack_webhook_url else "-",
            "yes" if p.webhook_url else "-",
            ", ".join(p.teams),
            "yes" if p.active else "[red]no[/]",
        )
    console.print(table)


@person_app.command("show")
@handle_errors
def person_show(handle: str, as_json: Json = False) -> None:
    """One person."""
    c = ctx()
    with c.session() as session:
        out = service.person_out(session, service.get_person(session, handle), c.principal)
    if as_json:
        print_json(out)
        return
    for field, value in out.model_dump().items():
        console.print(f"[bold]{field}[/]: {value}")


@person_app.command("update")
@handle_errors
def person_update(
    handle: str,
    name: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    slack_webhook: Annotated[str | None, typer.Option()] = None,
    webhook: Annotated[str | None, typer.Option()] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    as_json: Json = False,
) -> None:
    """Edit a person; --inactive takes them off paging (refused while they are scheduled)."""
    values = {
        "name": name,
        "timezone": timezone,
        "email": email,
        "slack_webhook_url": slack_webhook,
        "webhook_url": webhook,
        "active": active,
    }
    patch = PersonPatch.model_validate({k: v for k, v in values.items() if v is not None})
    c = ctx()
    with c.session() as session:
        person = service.update_person(session, c.principal, handle, patch, c.clock.now())
        out = service.person_out(session, person, c.principal)
    if as_json:
        print_json(out)
    else:
        console.print(f"Updated [bold]{out.handle}[/]")


def _segments_table(title: str, segments: list[SegmentOut], tz: str, schedules: bool) -> Table:
    table = Table(title=title)
    if schedules:
        table.add_column("schedule")
    for column in ("from", "to", "person", "layer", "why"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for s in segments:
        row = [
            _local(s.start, tz),
            _local(s.end, tz),
            s.person or "[red]nobody[/]",
            s.layer or s.source.value,
            s.reason,
        ]
        if schedules:
            row.insert(0, getattr(s, "schedule", ""))
        table.add_row(*row)
    return table


@person_app.command("shifts")
@handle_errors
def person_shifts(
    handle: str,
    start: When = None,
    end: Annotated[str | None, typer.Option(help="Default: start + 7 days")] = None,
    tz: Tz = "UTC",
    as_json: Json = False,
) -> None:
    """A person's on-call shifts across every schedule."""
    zone(tz)
    begin, finish = _window(start, end)
    with ctx().session() as session:
        shifts = service.person_shifts(session, handle, begin, finish)
    if as_json:
        print_json(shifts)
        return
    console.print(_segments_table(f"Shifts of {handle}", list(shifts), tz, schedules=True))


@person_app.command("ical")
@handle_errors
def person_ical(
    handle: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.ics)")],
    start: When = None,
    end: Annotated[str | None, typer.Option(help="Default: start + 60 days")] = None,
) -> None:
    """Write a person's shifts as an iCalendar file."""
    c = ctx()
    begin, finish = _window(start, end, days=60)
    with c.session() as session:
        body = service.person_ical(session, handle, begin, finish, c.clock.now())
    _write(out, body)


# ---------------------------------------------------------------- teams


@team_app.command("add")
@handle_errors
def team_add(
    slug: str,
    name: Annotated[str, typer.Option()],
    function: Annotated[TeamFunction, typer.Option()],
    member: Annotated[list[str] | None, typer.Option(help="Handle; repeat or comma-list")] = None,
    schedule: Annotated[str | None, typer.Option(help="The team's on-call schedule")] = None,
    policy: Annotated[str | None, typer.Option(help="The team's escalation policy")] = None,
    description: Annotated[str, typer.Option()] = "",
    as_json: Json = False,
) -> None:
    """Add a team."""
    data = TeamCreate.model_validate(
        {
            "slug": slug,
            "name": name,
            "function": function,
            "members": _split(member),
            "schedule": schedule,
            "escalation_policy": policy,
            "description": description,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.team_out(
            session, service.create_team(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(
            f"Added team [bold]{out.slug}[/] ({out.function}, {len(out.members)} members)"
        )


@team_app.command("list")
@handle_errors
def team_list(
    function: Annotated[TeamFunction | None, typer.Option()] = None, as_json: Json = False
) -> None:
    """Teams."""
    with ctx().session() as session:
        teams = [service.team_out(session, t) for t in service.list_teams(session, function)]
    if as_json:
        print_json(teams)
        return
    table = Table(title=f"{len(teams)} team(s)")
    for column in ("slug", "name", "function", "members", "schedule", "policy"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for t in teams:
        table.add_row(
            t.slug,
            t.name,
            t.function.value,
            ", ".join(t.members),
            t.schedule or "-",
            t.escalation_policy or "-",
        )
    console.print(table)


@team_app.command("show")
@handle_errors
def team_show(slug: str, as_json: Json = False) -> None:
    """One team."""
    with ctx().session() as session:
        out = service.team_out(session, service.get_team(session, slug))
    if as_json:
        print_json(out)
        return
    for field, value in out.model_dump().items():
        console.print(f"[bold]{field}[/]: {value}")


@team_app.command("update")
@handle_errors
def team_update(
    slug: str,
    name: Annotated[str | None, typer.Option()] = None,
    function: Annotated[TeamFunction | None, typer.Option()] = None,
    member: Annotated[list[str] | None, typer.Option(help="Replaces the members")] = None,
    schedule: Annotated[str | None, typer.Option()] = None,
    policy: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    as_json: Json = False,
) -> None:
    """Edit a team (members given replace the current ones)."""
    values: dict[str, Any] = {
        "name": name,
        "function": function,
        "schedule": schedule,
        "escalation_policy": policy,
        "description": description,
    }
    if member is not None:
        values["members"] = _split(member)
    patch = TeamPatch.model_validate({k: v for k, v in values.items() if v is not None})
    c = ctx()
    with c.session() as session:
        out = service.team_out(
            session, service.update_team(session, c.principal, slug, patch, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Updated team [bold]{out.slug}[/]")


@team_app.command("delete")
@handle_errors
def team_delete(slug: str) -> None:
    """Delete a team no routing rule engages."""
    c = ctx()
    with c.session() as session:
        out = service.delete_team(session, c.principal, slug, c.clock.now())
    console.print(f"Deleted team {out.slug}")


# ---------------------------------------------------------------- schedules


@schedule_app.command("create")
@handle_errors
def schedule_create(
    file: Annotated[Path, typer.Option("--file", "-f", help="YAML or JSON schedule document")],
    as_json: Json = False,
) -> None:
    """Create a schedule and its layers from a file shaped like POST /api/v1/schedules."""
    data = ScheduleCreate.model_validate(_document(file))
    c = ctx()
    with c.session() as session:
        out = service.schedule_out(
            session, service.create_schedule(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Created schedule [bold]{out.slug}[/] with {len(out.layers)} layer(s)")


@schedule_app.command("update")
@handle_errors
def schedule_update(
    ref: str,
    file: Annotated[Path, typer.Option("--file", "-f", help="Fields to change (layers replace)")],
    as_json: Json = False,
) -> None:
    """Edit a schedule from a file shaped like PATCH /api/v1/schedules/{ref}."""
    data = SchedulePatch.model_validate({k: v for k, v in _document(file).items() if k != "slug"})
    c = ctx()
    with c.session() as session:
        out = service.schedule_out(
            session, service.update_schedule(session, c.principal, ref, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Updated schedule [bold]{out.slug}[/]")


@schedule_app.command("list")
@handle_errors
def schedule_list(as_json: Json = False) -> None:
    """Schedules and their layers."""
    with ctx().session() as session:
        schedules = [service.schedule_out(session, s) for s in service.list_schedules(session)]
    if as_json:
        print_json(schedules)
        return
    table = Table(title=f"{len(schedules)} schedule(s)")
    for column in ("slug", "name", "layers", "teams"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for s in schedules:
        table.add_row(
            s.slug,
            s.name,
            "\n".join(
                f"{lv.position}: {lv.name} ({lv.timezone}, {', '.join(lv.participants)})"
                for lv in s.layers
            ),
            ", ".join(s.teams),
        )
    console.print(table)


@schedule_app.command("show")
@handle_errors
def schedule_show(ref: str, as_json: Json = False) -> None:
    """One schedule with each layer's rotation, hours and day-off rules."""
    with ctx().session() as session:
        out = service.schedule_out(session, service.get_schedule(session, ref))
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{out.slug}[/] {out.name} (shown in {out.timezone})")
    table = Table()
    for column in ("pos", "layer", "rotation", "hours", "days off", "backup"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for layer in out.layers:
        hours = (
            "; ".join(
                f"{','.join(w.days)} {w.start:%H:%M}-{w.end:%H:%M}" for w in layer.restrictions
            )
            or "24/7"
        )
        off = []
        if not layer.covers_holidays:
            off.append(f"{layer.holiday_country} holidays")
        if not layer.covers_weekends:
            off.append("weekends")
        table.add_row(
            str(layer.position),
            layer.name + (" (backup only)" if layer.backup_only else ""),
            f"{', '.join(layer.participants)} every {layer.rotation_length} "
            f"{layer.rotation_unit.value} at {layer.handoff_time:%H:%M} {layer.timezone} "
            f"from {layer.starts_on}",
            hours,
            ", ".join(off) or "-",
            layer.backup_layer or "-",
        )
    console.print(table)


@schedule_app.command("delete")
@handle_errors
def schedule_delete(ref: str) -> None:
    """Delete a schedule no escalation policy pages."""
    c = ctx()
    with c.session() as session:
        out = service.delete_schedule(session, c.principal, ref, c.clock.now())
    console.print(f"Deleted schedule {out.slug}")


@schedule_app.command("final")
@handle_errors
def schedule_final(
    ref: str,
    start: When = None,
    end: Annotated[str | None, typer.Option(help="Default: start + 7 days")] = None,
    tz: Tz = "UTC",
    as_json: Json = False,
) -> None:
    """The final schedule: who covers each stretch of the window, and why."""
    zone(tz)
    begin, finish = _window(start, end)
    with ctx().session() as session:
        out = service.final_schedule(session, ref, begin, finish)
    if as_json:
        print_json(out)
        return
    console.print(_segments_table(f"{out.schedule}", out.segments, tz, schedules=False))
    if out.uncovered_seconds:
        console.print(f"[red]uncovered: {out.uncovered_seconds / 3600:.1f} h[/]")


@schedule_app.command("handoffs")
@handle_errors
def schedule_handoffs(
    ref: str,
    start: When = None,
    end: Annotated[str | None, typer.Option(help="Default: start + 7 days")] = None,
    tz: Tz = "UTC",
    as_json: Json = False,
) -> None:
    """When the pager changes hands."""
    zone(tz)
    begin, finish = _window(start, end)
    with ctx().session() as session:
        rows = service.handoffs(session, ref, begin, finish)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} handoff(s)")
    for column in ("at", "from", "to", "why"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for h in rows:
        table.add_row(
            _local(h.at, tz),
            f"{h.from_person or 'nobody'} ({h.from_layer or '-'})",
            f"{h.to_person or 'nobody'} ({h.to_layer or '-'})",
            h.reason,
        )
    console.print(table)


@schedule_app.command("ical")
@handle_errors
def schedule_ical(
    ref: str,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.ics)")],
    start: When = None,
    end: Annotated[str | None, typer.Option(help="Default: start + 60 days")] = None,
) -> None:
    """Write a schedule as an iCalendar file."""
    c = ctx()
    begin, finish = _window(start, end, days=60)
    with c.session() as session:
        body = service.schedule_ical(session, ref, begin, finish, c.clock.now())
    _write(out, body)


# ---------------------------------------------------------------- overrides


@override_app.command("add")
@handle_errors
def override_add(
    schedule: Annotated[str, typer.Option()],
    person: Annotated[str, typer.Option()],
    start: Annotated[str, typer.Option(help="ISO 8601 instant with zone")],
    end: Annotated[str, typer.Option(help="ISO 8601 instant with zone")],
    reason: Annotated[str, typer.Option()] = "",
    as_json: Json = False,
) -> None:
    """PERSON covers SCHEDULE from START to END."""
    data = OverrideCreate.model_validate(
        {
            "schedule": schedule,
            "person": person,
            "starts_at": _instant(start, "--start") or ctx().clock.now(),
            "ends_at": _instant(end, "--end"),
            "reason": reason,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.override_out(
            session, service.create_override(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Override #{out.id}: {out.person} covers {out.schedule}")


@override_app.command("list")
@handle_errors
def override_list(
    schedule: Annotated[str | None, typer.Option()] = None,
    tz: Tz = "UTC",
    as_json: Json = False,
) -> None:
    """Overrides (optionally of one schedule)."""
    with ctx().session() as session:
        rows = [service.override_out(session, o) for o in service.list_overrides(session, schedule)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} override(s)")
    for column in ("id", "schedule", "person", "from", "to", "reason", "by"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for o in rows:
        table.add_row(
            str(o.id),
            o.schedule,
            o.person,
            _local(o.starts_at, tz),
            _local(o.ends_at, tz),
            o.reason,
            o.created_by,
        )
    console.print(table)


@override_app.command("remove")
@handle_errors
def override_remove(override_id: int) -> None:
    """Remove an override."""
    c = ctx()
    with c.session() as session:
        out = service.delete_override(session, c.principal, override_id, c.clock.now())
    console.print(f"Removed override #{out.id}")


# ---------------------------------------------------------------- escalation policies


def _level(text: str) -> dict[str, Any]:
    """'15:schedule:ts-primary,person:dana' -> one level."""
    wait, _, rest = text.partition(":")
    if not wait.strip().isdigit() or not rest:
        raise InvalidInput(f"--level {text!r}: write MINUTES:KIND:REF[,KIND:REF] (15:schedule:x)")
    targets = []
    for item in rest.split(","):
        kind, _, ref = item.strip().partition(":")
        if kind not in ("schedule", "person") or not ref:
            raise InvalidInput(f"--level {text!r}: targets are schedule:SLUG or person:HANDLE")
        targets.append({kind: ref})
    return {"wait_minutes": int(wait), "targets": targets}


@policy_app.command("create")
@handle_errors
def policy_create(
    file: Annotated[Path | None, typer.Option("--file", "-f", help="YAML or JSON policy")] = None,
    slug: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    level: Annotated[
        list[str] | None,
        typer.Option(help="MINUTES:schedule:SLUG[,person:HANDLE]; repeat, in order"),
    ] = None,
    repeat: Annotated[int, typer.Option(help="Times to repeat all levels")] = 0,
    as_json: Json = False,
) -> None:
    """Create an escalation policy from a file, or from --slug, --name and --level options."""
    if file is not None:
        document = _document(file)
    else:
        document = {
            "slug": slug,
            "name": name or slug,
            "repeat": repeat,
            "levels": [_level(t) for t in level or []],
        }
    data = PolicyCreate.model_validate(document)
    c = ctx()
    with c.session() as session:
        out = service.policy_out(
            session, service.create_policy(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Created escalation policy [bold]{out.slug}[/] ({len(out.levels)} levels)")


@policy_app.command("update")
@handle_errors
def policy_update(
    ref: str,
    file: Annotated[Path, typer.Option("--file", "-f", help="Fields to change")],
    as_json: Json = False,
) -> None:
    """Edit an escalation policy from a file shaped like its PATCH body."""
    data = PolicyPatch.model_validate({k: v for k, v in _document(file).items() if k != "slug"})
    c = ctx()
    with c.session() as session:
        out = service.policy_out(
            session, service.update_policy(session, c.principal, ref, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Updated escalation policy [bold]{out.slug}[/]")


@policy_app.command("list")
@handle_errors
def policy_list(as_json: Json = False) -> None:
    """Escalation policies and their levels."""
    with ctx().session() as session:
        rows = [service.policy_out(session, p) for p in service.list_policies(session)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} escalation polic(ies)")
    for column in ("slug", "name", "levels", "repeat"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for p in rows:
        table.add_row(
            p.slug,
            p.name,
            "\n".join(
                f"{i + 1}. {', '.join(f'{t.kind} {t.ref}' for t in lv.targets)} "
                f"(wait {lv.wait_minutes} min)"
                for i, lv in enumerate(p.levels)
            ),
            str(p.repeat),
        )
    console.print(table)


@policy_app.command("show")
@handle_errors
def policy_show(ref: str) -> None:
    """One escalation policy (JSON)."""
    with ctx().session() as session:
        print_json(service.policy_out(session, service.get_policy(session, ref)))


@policy_app.command("delete")
@handle_errors
def policy_delete(ref: str) -> None:
    """Delete an escalation policy nothing uses."""
    c = ctx()
    with c.session() as session:
        out = service.delete_policy(session, c.principal, ref, c.clock.now())
    console.print(f"Deleted escalation policy {out.slug}")


# ---------------------------------------------------------------- routing


@rule_app.command("add")
@handle_errors
def rule_add(
    name: str,
    team: Annotated[list[str] | None, typer.Option(help="Team slug; repeat or comma-list")] = None,
    harm_type: Annotated[list[HarmType] | None, typer.Option(help="Default: any")] = None,
    min_severity: Annotated[Severity, typer.Option(help="This or worse")] = Severity.SEV3,
    region: Annotated[
        list[str] | None, typer.Option(help="ISO code or EU/EEA; default any")
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Escalation policy to page")] = None,
    position: Annotated[int, typer.Option(help="Lower runs first")] = 0,
    stop: Annotated[bool, typer.Option("--stop", help="Skip later rules when matched")] = False,
    as_json: Json = False,
) -> None:
    """Add a routing rule."""
    data = RuleCreate.model_validate(
        {
            "name": name,
            "teams": _split(team),
            "harm_types": harm_type or [],
            "min_severity": min_severity,
            "regions": _split(region),
            "escalation_policy": policy,
            "position": position,
            "stop": stop,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.rule_out(
            session, service.create_rule(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"Added routing rule #{out.id} {out.name!r}")


@rule_app.command("list")
@handle_errors
def rule_list(as_json: Json = False) -> None:
    """Routing rules in the order they are evaluated."""
    with ctx().session() as session:
        rows = [service.rule_out(session, r) for r in service.list_rules(session)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} routing rule(s)")
    for column in ("id", "pos", "name", "harm types", "severity", "regions", "teams", "policy"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for r in rows:
        table.add_row(
            str(r.id),
            str(r.position),
            r.name + ("" if r.enabled else " [dim](disabled)[/]") + (" [stop]" if r.stop else ""),
            ", ".join(h.value for h in r.harm_types) or "any",
            f"{r.min_severity.value}+" if r.min_severity is not Severity.SEV3 else "any",
            ", ".join(r.regions) or "any",
            ", ".join(r.teams) or "-",
            r.escalation_policy or "(team default)",
        )
    console.print(table)


@rule_app.command("remove")
@handle_errors
def rule_remove(rule_id: int) -> None:
    """Delete a routing rule."""
    c = ctx()
    with c.session() as session:
        out = service.delete_rule(session, c.principal, rule_id, c.clock.now())
    console.print(f"Removed routing rule #{out.id} {out.name!r}")


@app.command()
@handle_errors
def route(
    harm_type: Annotated[HarmType, typer.Option()],
    severity: Annotated[Severity, typer.Option()],
    region: Annotated[list[str] | None, typer.Option(help="ISO code; repeat or comma-list")] = None,
    at: When = None,
    as_json: Json = False,
) -> None:
    """Who would be engaged (and paged first) for an incident of this kind."""
    c = ctx()
    try:
        regions = normalise_rule_regions(_split(region))
    except ValueError as exc:
        raise InvalidInput(f"--region: {exc}") from None
    with c.session() as session:
        out = service.preview_routing(
            session, harm_type, severity, regions, _instant(at, "--at") or c.clock.now()
        )
    if as_json:
        print_json(out)
        return
    if not out.engagements:
        console.print("no routing rule matches: nobody would be engaged")
        return
    table = Table(
        title=f"{harm_type.value} {severity.value} in {', '.join(regions) or 'any region'}"
    )
    for column in ("team", "policy", "paged first", "why"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for e in out.engagements:
        table.add_row(
            e.team or "-",
            e.escalation_policy or "[red]none[/]",
            ", ".join(f"{r.person} ({r.via})" for r in e.first_responders) or "-",
            "\n".join(e.reasons),
        )
    console.print(table)


# ---------------------------------------------------------------- pages


def _show_page(out: PageOut) -> None:
    console.print(
        f"[bold]page #{out.id}[/] {out.status.value} · {out.escalation_policy} · "
        f"level {out.level + 1} round {out.round + 1}"
        + (f" · {out.incident_key}" if out.incident_key else "")
        + f"\n{out.summary}"
    )
    table = Table()
    for column in ("when", "level", "person", "channel", "via", "delivery"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for n in out.notifications:
        table.add_row(
            _local(n.notified_at, "UTC"),
            f"{n.level + 1}/{n.round + 1}",
            n.person,
            n.channel.value,
            n.via,
            str(n.delivery_id) if n.delivery_id else (n.error or "-"),
        )
    console.print(table)


@page_app.command("trigger")
@handle_errors
def page_trigger(
    policy: Annotated[str, typer.Option(help="Escalation policy slug")],
    summary: Annotated[str, typer.Option()],
    severity: Annotated[Severity | None, typer.Option()] = None,
    incident: Annotated[str | None, typer.Option(help="Incident key")] = None,
    as_json: Json = False,
) -> None:
    """Page an escalation policy now."""
    data = PageCreate.model_validate(
        {
            "escalation_policy": policy,
            "summary": summary,
            "severity": severity,
            "incident_key": incident,
        }
    )
    c = ctx()
    with c.session() as session:
        out = service.page_out(
            session, service.trigger_page(session, c.principal, data, c.clock.now())
        )
    if as_json:
        print_json(out)
    else:
        _show_page(out)


@page_app.command("list")
@handle_errors
def page_list(
    status: Annotated[list[PageStatus] | None, typer.Option()] = None,
    incident: Annotated[str | None, typer.Option()] = None,
    as_json: Json = False,
) -> None:
    """Pages, newest first."""
    c = ctx()
    with c.session() as session:
        rows = [
            service.page_out(session, p)
            for p in service.list_pages(session, c.principal, status, incident)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} page(s)")
    for column in ("id", "status", "policy", "incident", "level", "created", "summary"):
        table.add_column(column, no_wrap=column in NO_WRAP)
    for p in rows:
        table.add_row(
            str(p.id),
            p.status.value,
            p.escalation_policy,
            p.incident_key or "-",
            f"{p.level + 1}/{p.round + 1}",
            _local(p.created_at, "UTC"),
            p.summary,
        )
    console.print(table)


@page_app.command("show")
@handle_errors
def page_show(page_id: int, as_json: Json = False) -> None:
    """One page and everyone it notified."""
    c = ctx()
    with c.session() as session:
        out = service.page_out(session, service.get_page(session, c.principal, page_id))
    if as_json:
        print_json(out)
    else:
        _show_page(out)


@page_app.command("ack")
@handle_errors
def page_ack(
    page_id: int, note: Annotated[str | None, typer.Option()] = None, as_json: Json = False
) -> None:
    """Acknowledge a page: escalation stops."""
    c = ctx()
    with c.session() as session:
        out = service.page_out(
            session, service.acknowledge_page(session, c.principal, page_id, c.clock.now(), note)
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"page #{out.id} acknowledged by {out.acknowledged_by}")


@page_app.command("resolve")
@handle_errors
def page_resolve(
    page_id: int, note: Annotated[str | None, typer.Option()] = None, as_json: Json = False
) -> None:
    """Resolve a page."""
    c = ctx()
    with c.session() as session:
        out = service.page_out(
            session, service.resolve_page(session, c.principal, page_id, c.clock.now(), note)
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"page #{out.id} resolved by {out.resolved_by}")


@app.command()
@handle_errors
def engage(incident_key: str, as_json: Json = False) -> None:
    """Route an incident and page its escalation policies (never pages a policy twice)."""
    c = ctx()
    with c.session() as session:
        out = service.engage_for_incident(session, c.principal, incident_key, c.clock.now())
    if as_json:
        print_json(out)
        return
    for e in out.engagements:
        console.print(f"engaged {e.team or '-'} via {e.escalation_policy or '-'}: {e.reasons[0]}")
    for p in out.pages:
        state = "paged" if p.created else "already paged"
        console.print(f"{state}: {p.escalation_policy} (page #{p.page_id}, {p.status.value})")
    if not out.engagements:
        console.print("no routing rule matches this incident")

"""`rapidresponse content …` and `rapidresponse action …`: the cluster and bulk actions."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from rapidresponse.cli_support import console, ctx, err_console, handle_errors, print_json
from rapidresponse.enforcement import service
from rapidresponse.enforcement.schemas import ActionIn, ActionOut, ItemIn, ReasonIn
from rapidresponse.playbooks.schema import ContainmentAction

content_app = typer.Typer(
    help="An incident's content cluster (content, accounts, keys).", no_args_is_help=True
)
action_app = typer.Typer(
    help="Containment actions: dry run, two-person approval, run, roll back.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
LIST_FIELDS = {"regions", "keys"}


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Numbered records of a JSON-lines or CSV file (lists in CSV cells are ';'-separated)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = []
        for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
            record: dict[str, Any] = {}
            for name, value in row.items():
                if name is None or value is None or value == "":
                    continue
                record[name] = (
                    [v for v in value.split(";") if v.strip()] if name in LIST_FIELDS else value
                )
            rows.append((number, record))
        return rows
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                rows.append((number, {"__error__": f"not JSON: {exc.msg}"}))
    return rows


@content_app.command("add")
@handle_errors
def add(
    key: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines or CSV")],
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected lines here, each with its reason")
    ] = None,
) -> None:
    """Add items from a file; bad lines are reported and skipped, good ones all added."""
    good: list[ItemIn] = []
    bad: list[dict[str, Any]] = []
    for number, record in _rows(file):
        if "__error__" in record:
            bad.append({"line": number, "error": record["__error__"]})
            continue
        try:
            good.append(ItemIn.model_validate(record))
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}" for e in exc.errors()
            )
            bad.append({"line": number, "error": reason, "record": record})
    added = updated = total = 0
    c = ctx()
    for start in range(0, len(good), 10_000):
        with c.session() as session:
            result = service.add_items(
                session, c.principal, key, good[start : start + 10_000], c.clock.now()
            )
        added, updated, total = added + result.added, updated + result.updated, result.total
    if rejects is not None:
        rejects.write_text("".join(json.dumps(b) + "\n" for b in bad), encoding="utf-8")
    for b in bad[:20]:
        err_console.print(f"[yellow]line {b['line']}:[/] {b['error']}", highlight=False)
    console.print(
        f"{added} added, {updated} updated, {len(bad)} rejected; {total} item(s) in the cluster"
    )
    if bad and not good:
        raise typer.Exit(2)


@content_app.command("list")
@handle_errors
def list_(
    key: str,
    carrying: Annotated[str | None, typer.Option(help="Only items carrying this key")] = None,
    limit: int = 50,
    as_json: Json = False,
) -> None:
    """The cluster with each item's restrictions in force."""
    c = ctx()
    with c.session() as session:
        rows, total = service.list_items(session, c.principal, key, carrying=carrying, limit=limit)
        out = [service.item_out(r) for r in rows]
    if as_json:
        print_json(out)
        return
    table = Table(
        "id",
        "subject",
        "platform id",
        "account",
        "regions",
        "views",
        "in force",
        title=f"{total} item(s)",
    )
    for item in out:
        state = [name for name, on in item.state.items() if on and name != "blocked_in"]
        if item.state["blocked_in"]:
            state.append("blocked in " + ",".join(item.state["blocked_in"]))
        table.add_row(
            str(item.id),
            item.subject.value,
            item.external_id,
            item.account_id or "-",
            ",".join(item.regions) or "everywhere",
            f"{item.views:,}",
            ", ".join(state) or "-",
        )
    console.print(table)


def _show(out: ActionOut) -> None:
    radius, progress = out.blast_radius, out.progress
    console.print(
        Panel(
            f"[bold]{out.action.value}[/] #{out.id} on {out.incident}: [bold]{out.status}[/]\n"
            f"selector: {json.dumps(out.selector)}"
            + (f"\nregions: {', '.join(out.regions)}" if out.regions else "")
            + f"\npolicy: {out.policy_section} (v{out.policy_version}), ground: {out.ground.value}"
            + (f" — {out.legal_ground}" if out.legal_ground else "")
            + f"\nblast radius: {radius['items']:,} item(s), {radius['accounts']:,} account(s), "
            f"{radius['views']:,} views, regions {', '.join(radius['regions'])}; "
            f"up to {radius['eu_items']:,} EU statement(s) of reasons"
            + f"\nprogress: {progress.applied:,} acted on, "
            f"{progress.unchanged:,} already in force, "
            f"{progress.pending:,} pending, {progress.skipped:,} skipped, "
            f"{progress.reverted:,} reverted, {progress.statements:,} statement(s)"
            + (
                "\n[yellow]needs a second incident manager's approval[/] "
                f"(over {out.approval_threshold:,} items)"
                if out.status == "awaiting_approval"
                else ""
            )
            + (f"\napproved by {out.approved_by}" if out.approved_by else "")
            + ("" if out.reversible else "\n[dim]final decision: cannot be rolled back in bulk[/]"),
            title=f"requested by {out.requested_by}",
            expand=False,
        )
    )


def _print(out: ActionOut, as_json: bool) -> None:
    print_json(out) if as_json else _show(out)


@action_app.command("plan")
@handle_errors
def plan(
    key: str,
    action: Annotated[ContainmentAction, typer.Option(help="What to do")],
    section: Annotated[str, typer.Option(help="Content policy section, e.g. VE-1")],
    explanation: Annotated[str, typer.Option(help="Why the content breaks it (sent to users)")],
    scope: Annotated[str, typer.Option(help="cluster, key, account or items")] = "cluster",
    key_: Annotated[
        str | None, typer.Option("--key", help="With --scope key: #hashtag, sound…")
    ] = None,
    account: Annotated[str | None, typer.Option(help="With --scope account")] = None,
    item: Annotated[
        list[str] | None, typer.Option("--item", help="With --scope items; repeatable")
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="geo_restrict: where; repeatable")
    ] = None,
    ground: Annotated[str, typer.Option(help="incompatible (terms) or illegal")] = "incompatible",
    legal_ground: Annotated[str | None, typer.Option(help="The law, when illegal")] = None,
    reason: Annotated[str, typer.Option(help="Why now (timeline)")] = "",
    as_json: Json = False,
) -> None:
    """Dry run: fix the items and show the blast radius. Nothing is acted on yet."""
    selector: dict[str, Any] = {"scope": scope}
    if key_:
        selector["key"] = key_
    if account:
        selector["account_id"] = account
    if item:
        selector["external_ids"] = item
    body = ActionIn.model_validate(
        {
            "action": action,
            "selector": selector,
            "regions": region or [],
            "policy_section": section,
            "ground": ground,
            "legal_ground": legal_ground,
            "explanation": explanation,
            "reason": reason,
        }
    )
    c = ctx()
    with c.session() as session:
        row = service.plan(
            session,
            c.principal,
            key,
            body,
            c.clock.now(),
            approval_threshold=c.settings.approval_threshold,
        )
        out = service.action_out(session, row)
    _print(out, as_json)


@action_app.command("list")
@handle_errors
def list_actions(key: str, as_json: Json = False) -> None:
    c = ctx()
    with c.session() as session:
        out = [
            service.action_out(session, r) for r in service.list_actions(session, c.principal, key)
        ]
    if as_json:
        print_json(out)
        return
    table = Table(
        "id", "action", "status", "items", "acted on", "pending", "statements", "requested by"
    )
    for a in out:
        table.add_row(
            str(a.id),
            a.action.value + (f" ({','.join(a.regions)})" if a.regions else ""),
            a.status,
            f"{a.progress.total:,}",
            f"{a.progress.applied:,}",
            f"{a.progress.pending:,}",
            f"{a.progress.statements:,}",
            a.requested_by,
        )
    console.print(table)


@action_app.command("show")
@handle_errors
def show(key: str, action_id: int, as_json: Json = False) -> None:
    c = ctx()
    with c.session() as session:
        out = service.action_out(session, service.get_action(session, c.principal, key, action_id))
    _print(out, as_json)


@action_app.command("approve")
@handle_errors
def approve(key: str, action_id: int, as_json: Json = False) -> None:
    """Approve as the second incident manager (RR_ACTOR must not be the requester)."""
    c = ctx()
    with c.session() as session:
        out = service.action_out(
            session, service.approve(session, c.principal, key, action_id, c.clock.now())
        )
    _print(out, as_json)


def _drive(action_id: int, label: str) -> None:
    """Run batches here, in this process, until the action is done (resumable at any point)."""
    c = ctx()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        while True:
            with c.session() as session:
                remaining = service.run_batch(
                    session, action_id, c.clock.now(), c.settings.enforcement_batch_size
                )
            bar.update(task, description=f"{label}: {remaining:,} item(s) left")
            if remaining == 0:
                return


@action_app.command("run")
@handle_errors
def run(key: str, action_id: int, as_json: Json = False) -> None:
    """Start (or resume) the action and run it to the end here, batch by batch."""
    c = ctx()
    with c.session() as session:
        service.start(session, c.principal, key, action_id, c.clock.now())
    _drive(action_id, f"action {action_id}")
    with c.session() as session:
        out = service.action_out(session, service.get_action(session, c.principal, key, action_id))
    _print(out, as_json)


@action_app.command("cancel")
@handle_errors
def cancel(
    key: str, action_id: int, reason: Annotated[str, typer.Option()], as_json: Json = False
) -> None:
    c = ctx()
    body = ReasonIn(reason=reason)
    with c.session() as session:
        out = service.action_out(
            session,
            service.cancel(session, c.principal, key, action_id, body.reason, c.clock.now()),
        )
    _print(out, as_json)


@action_app.command("rollback")
@handle_errors
def rollback(
    key: str, action_id: int, reason: Annotated[str, typer.Option()], as_json: Json = False
) -> None:
    """Lift what a reversible action imposed, and wait until every item is restored."""
    c = ctx()
    body = ReasonIn(reason=reason)
    with c.session() as session:
        service.rollback(session, c.principal, key, action_id, body.reason, c.clock.now())
    _drive(action_id, f"rolling back {action_id}")
    with c.session() as session:
        out = service.action_out(session, service.get_action(session, c.principal, key, action_id))
    _print(out, as_json)

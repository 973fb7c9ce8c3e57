"""`rapidresponse compliance …` and `rapidresponse policy`: the law and the policy at hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from rapidresponse.cli_support import console, ctx, handle_errors, print_json
from rapidresponse.compliance import service
from rapidresponse.compliance.obligations import ObligationState
from rapidresponse.compliance.policy import shipped_policy_catalogue
from rapidresponse.compliance.rulebook import TriggerKind, shipped_rulebook
from rapidresponse.compliance.schemas import (
    EvidenceIn,
    ObligationOut,
    SubmissionIn,
    TriggerIn,
    WaiveIn,
)
from rapidresponse.incidents.taxonomy import HarmType

app = typer.Typer(
    help="Jurisdiction rulebook, triggers and obligations, statements of reasons, report drafts.",
    no_args_is_help=True,
)
policy_app = typer.Typer(help="The content policy catalogue.", invoke_without_command=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
STATE_STYLE = {
    "open": "white",
    "due_soon": "bold yellow",
    "breached": "bold red",
    "met": "green",
    "met_late": "yellow",
    "waived": "dim",
}


def _left(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    text = f"{days}d{hours:02d}h" if days else f"{hours}h{minutes:02d}m"
    return sign + text


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@app.command("rules")
@handle_errors
def rules(
    jurisdiction: Annotated[str | None, typer.Option(help="EU, US, GB, AU, IN")] = None,
    as_json: Json = False,
) -> None:
    """Every rule with its trigger, deadline, citation and the date it was last checked."""
    found = [
        r
        for r in shipped_rulebook().rules
        if jurisdiction is None or r.jurisdiction == jurisdiction.upper()
    ]
    if as_json:
        print_json([r.model_dump(mode="json") for r in found])
        return
    table = Table("rule", "trigger", "obligation", "clock", "citation", "checked", "status")
    for r in found:
        clock = f"{r.deadline}" if r.deadline else f"{r.target} (internal target)"
        table.add_row(
            r.id,
            r.trigger.value,
            r.title,
            clock,
            f"{r.instrument} {r.citation}",
            r.last_checked.isoformat(),
            r.status.value if r.status.value == "in_force" else f"[yellow]{r.status.value}[/]",
        )
    console.print(table)


@app.command("trigger")
@handle_errors
def trigger(
    key: str,
    kind: TriggerKind,
    at: Annotated[
        datetime | None, typer.Option(help="When it happened, ISO 8601 with offset (default: now)")
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Where it applies; repeatable")
    ] = None,
    reference: Annotated[str, typer.Option(help="Order or case reference")] = "",
    details: str = "",
    as_json: Json = False,
) -> None:
    """Record a trigger (e.g. terrorist_content_removal_order); list the obligations it starts."""
    body = TriggerIn.model_validate(
        {
            "kind": kind,
            "occurred_at": at,
            "regions": region or [],
            "reference": reference,
            "details": details,
        }
    )
    c = ctx()
    with c.session() as session:
        _, created = service.record_trigger(session, c.principal, key, body, c.clock.now())
        out = [service.obligation_out(session, o, key.upper(), c.clock.now()) for o in created]
    if as_json:
        print_json(out)
        return
    if not out:
        console.print("Recorded; the rulebook has no obligation for it here.")
    _table(out, f"{len(out)} obligation(s) started")


def _table(rows: list[ObligationOut], title: str) -> None:
    table = Table(
        "id", "incident", "state", "obligation", "due", "left", "basis", "citation", title=title
    )
    for o in rows:
        style = STATE_STYLE.get(o.state, "white")
        table.add_row(
            str(o.id),
            o.incident,
            f"[{style}]{o.state}[/]",
            o.title + (" [yellow](to confirm)[/]" if o.rule_status == "to_confirm" else ""),
            _when(o.due_at),
            _left(o.seconds_left) if o.status == "open" else _when(o.done_at),
            "law" if o.basis == "statutory" else "target",
            f"{o.instrument} {o.citation}",
        )
    console.print(table)


@app.command("obligations")
@handle_errors
def obligations(key: str, as_json: Json = False) -> None:
    """The incident's obligations with countdowns and breaches."""
    c = ctx()
    with c.session() as session:
        out = service.list_obligations(session, c.principal, key, c.clock.now())
    if as_json:
        print_json(out)
        return
    _table(out, f"{key.upper()}: {len(out)} obligation(s)")


@app.command("due")
@handle_errors
def due(
    state: Annotated[list[ObligationState] | None, typer.Option("--state")] = None,
    as_json: Json = False,
) -> None:
    """Open obligations across incidents, soonest first (e.g. --state breached --state due_soon)."""
    c = ctx()
    with c.session() as session:
        out = service.obligations_across(
            session, c.principal, c.clock.now(), [s.value for s in state or []], 500
        )
    if as_json:
        print_json(out)
        return
    _table(out, "Open obligations")


@app.command("complete")
@handle_errors
def complete(
    key: str,
    obligation_id: int,
    evidence: Annotated[str, typer.Option(help="What was done, by whom")],
    ref: Annotated[
        list[str] | None, typer.Option("--ref", help="Report id, ticket; repeatable")
    ] = None,
    at: Annotated[datetime | None, typer.Option(help="When it was done (default: now)")] = None,
    as_json: Json = False,
) -> None:
    c = ctx()
    with c.session() as session:
        current = service._find_obligation(session, c.principal, key, obligation_id)[1].version
        body = EvidenceIn(text=evidence, references=ref or [], done_at=at, version=current)
        row = service.complete(session, c.principal, key, obligation_id, body, c.clock.now())
        out = service.obligation_out(session, row, key.upper(), c.clock.now())
    print_json(out) if as_json else _table([out], "Completed")


@app.command("waive")
@handle_errors
def waive(
    key: str,
    obligation_id: int,
    reason: Annotated[str, typer.Option(help="Why it does not apply (Legal's decision)")],
    as_json: Json = False,
) -> None:
    c = ctx()
    with c.session() as session:
        current = service._find_obligation(session, c.principal, key, obligation_id)[1].version
        row = service.waive(
            session,
            c.principal,
            key,
            obligation_id,
            WaiveIn(reason=reason, version=current),
            c.clock.now(),
        )
        out = service.obligation_out(session, row, key.upper(), c.clock.now())
    print_json(out) if as_json else _table([out], "Waived")


@app.command("statements")
@handle_errors
def statements(
    key: str,
    out: Annotated[Path, typer.Option(help="Write valid statements here as JSON lines")],
    rejects: Annotated[
        Path | None, typer.Option(help="Write invalid ones here, each with its errors")
    ] = None,
    action: Annotated[int | None, typer.Option(help="Only this action's statements")] = None,
) -> None:
    """Export DSA statements of reasons ready for the transparency database."""
    c = ctx()
    valid = invalid = 0
    with c.session() as session, out.open("w", encoding="utf-8") as good:
        bad = rejects.open("w", encoding="utf-8") if rejects else None
        try:
            for line in service.export_statements(session, c.principal, key, action_id=action):
                if line.errors:
                    invalid += 1
                    if bad:
                        bad.write(
                            json.dumps({"puid": line.puid, "errors": list(line.errors)}) + "\n"
                        )
                else:
                    valid += 1
                    good.write(line.line + "\n")
        finally:
            if bad:
                bad.close()
    console.print(
        f"{valid} statement(s) written to {out}; {invalid} invalid"
        + (f" (see {rejects})" if rejects and invalid else "")
    )
    if invalid:
        raise typer.Exit(1)


@app.command("reports")
@handle_errors
def reports(key: str, as_json: Json = False) -> None:
    """Report drafts (NCMEC, law enforcement) awaiting human review; none is ever sent by us."""
    c = ctx()
    with c.session() as session:
        out = service.list_reports(session, c.principal, key)
    if as_json:
        print_json(out)
        return
    table = Table("id", "kind", "status", "obligation", "reviewed by", "submitted", "reference")
    for r in out:
        table.add_row(
            str(r.id),
            r.kind,
            r.status,
            str(r.obligation_id),
            r.reviewed_by or "-",
            _when(r.submitted_at),
            r.submission_reference or "-",
        )
    console.print(table)


@app.command("report")
@handle_errors
def report(key: str, report_id: int, as_json: Json = False) -> None:
    """One draft, as the reviewer reads it."""
    c = ctx()
    with c.session() as session:
        out = service.get_report(session, c.principal, key, report_id)
    if as_json:
        print_json(out)
        return
    console.print(Markdown(out.markdown))


@app.command("review")
@handle_errors
def review(key: str, report_id: int) -> None:
    """Confirm a draft is complete and correct; a person must still submit it."""
    c = ctx()
    with c.session() as session:
        current = service.get_report(session, c.principal, key, report_id).version
        row = service.review_report(session, c.principal, key, report_id, current, c.clock.now())
    console.print(f"report draft {row.id} reviewed; submit it yourself, then record the receipt")


@app.command("submitted")
@handle_errors
def submitted(
    key: str,
    report_id: int,
    reference: Annotated[str, typer.Option(help="The receipt, e.g. the CyberTipline report id")],
    at: Annotated[
        datetime | None, typer.Option(help="When you submitted it (default: now)")
    ] = None,
) -> None:
    """Record that you submitted the reviewed report; its obligation is met with the receipt."""
    c = ctx()
    with c.session() as session:
        current = service.get_report(session, c.principal, key, report_id).version
        body = SubmissionIn(reference=reference, submitted_at=at, version=current)
        row = service.record_submission(session, c.principal, key, report_id, body, c.clock.now())
    console.print(f"report draft {row.id} recorded as submitted ({row.submission_reference})")


@policy_app.callback()
@handle_errors
def policy(
    context: typer.Context,
    harm_type: Annotated[HarmType | None, typer.Argument(help="One harm type in full")] = None,
    as_json: Json = False,
) -> None:
    """The content policy: sections, context exceptions and regional variants."""
    catalogue = shipped_policy_catalogue()
    if harm_type is None:
        if as_json:
            print_json(
                [
                    catalogue.documents[h].model_dump(mode="json")
                    for h in sorted(catalogue.documents)
                ]
            )
            return
        table = Table("harm type", "version", "effective", "sections", "regional variants")
        for h in sorted(catalogue.documents):
            d = catalogue.documents[h]
            table.add_row(
                h.value,
                str(d.version),
                d.effective.isoformat(),
                ", ".join(s.id for s in d.sections),
                str(len(d.regional_variants)),
            )
        console.print(table)
        return
    document = catalogue.document(harm_type)
    if as_json:
        print_json(document.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{document.title}[/] (version {document.version}, effective {document.effective})"
    )
    for section in document.sections:
        console.print(f"\n[bold]{section.id} {section.title}[/]")
        for line in section.violating:
            console.print(f"  - {line}", highlight=False)
        for context_, condition in section.allowed_in_context.items():
            console.print(f"  [green]allowed as {context_.value}:[/] {condition}", highlight=False)
        console.print(
            "  default: " + ", ".join(a.value for a in section.default_enforcement), highlight=False
        )
    for variant in document.regional_variants:
        console.print(
            f"\n[yellow]{', '.join(variant.regions)}[/] ({variant.kind}, {variant.section}): "
            f"{variant.summary} — {variant.legal_basis}, checked {variant.last_checked}",
            highlight=False,
        )

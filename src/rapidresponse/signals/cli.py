"""`rapidresponse signals|alerts|detect …`: ingest files, run detection, triage alerts,
and measure the detectors (thin commands over signals.service and signals.nab)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rapidresponse.cli_support import console, ctx, err_console, handle_errors, print_json
from rapidresponse.signals import service
from rapidresponse.signals.nab import corpus_files, run_nab
from rapidresponse.signals.schema import (
    Reject,
    Signal,
    decode_ndjson,
    decode_parquet,
    decode_records,
    signals_from_batch,
)

detect_app = typer.Typer(help="Detection: run detectors, measure them.", no_args_is_help=True)


@detect_app.callback()
def detect_group() -> None:
    """Detection: run detectors, measure them."""


@detect_app.command("nab")
def nab(
    data_dir: Annotated[Path, typer.Argument(help="NAB-layout corpus: <category>/<file>.csv")],
    results_dir: Annotated[Path, typer.Argument(help="where NAB-format results are written")],
) -> None:
    """Run the `rapidresponse` detector over a NAB corpus; write NAB-format results files."""
    if not data_dir.is_dir():
        console.print(f"[red]no such corpus directory: {data_dir}[/red]")
        raise typer.Exit(code=2)
    total = len(corpus_files(data_dir))
    if total == 0:
        console.print(f"[red]no <category>/<file>.csv files under {data_dir}[/red]")
        raise typer.Exit(code=2)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("scoring", total=total)
        summary = run_nab(data_dir, results_dir, progress=lambda key: progress.advance(task))
    console.print(
        f"{summary['files']} files, {summary['rows']} rows in {summary['seconds']} s; "
        f"results in {summary['results_dir']}"
    )


signals_app = typer.Typer(help="Signal ingestion and detection.", no_args_is_help=True)
alerts_app = typer.Typer(
    help="Alerts: evidence, acknowledge, promote, dismiss.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
CHUNK_LINES = 20_000


def _chunks(path: Path, now: float) -> Iterator[tuple[list[Signal], list[Reject], int]]:
    """(signals, rejects, bytes read) chunk by chunk, whatever the file's format."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        for batch, rejects in decode_parquet(path, not_after=now):
            yield signals_from_batch(batch), rejects, 0
        return
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows: list[dict[str, Any]] = []
            first = 2
            for row in reader:
                rows.append(row)
                if len(rows) == CHUNK_LINES:
                    signals, rejects = decode_records(rows, not_after=now, first_line=first)
                    yield signals, rejects, 0
                    first += len(rows)
                    rows = []
            if rows:
                signals, rejects = decode_records(rows, not_after=now, first_line=first)
                yield signals, rejects, 0
        return
    with path.open("rb") as handle:
        offset = 0
        while True:
            lines = handle.readlines(8 * 1024 * 1024)
            if not lines:
                return
            signals, rejects = decode_ndjson(b"".join(lines), not_after=now)
            yield (
                signals,
                [Reject(r.line + offset, r.reason, r.raw) for r in rejects],
                sum(len(line) for line in lines),
            )
            offset += len(lines)


@signals_app.command("ingest")
@handle_errors
def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines, CSV or Parquet")
    ],
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected lines here, each with its reason")
    ] = None,
) -> None:
    """Ingest a file of signal events; bad lines are reported and skipped, never fatal."""
    c = ctx()
    now = c.clock.now()
    totals = service.IngestResult()
    rejected: list[Reject] = []
    size = file.stat().st_size
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} events"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"ingesting {file.name}", total=None)
        for signals, bad, _ in _chunks(file, now.timestamp() + 300):
            rejected += bad
            if signals:
                with c.session() as session:
                    result = service.ingest(
                        session, c.principal, signals, now, origin=f"file:{file.name}"
                    )
                totals.accepted += result.accepted
                totals.duplicates += result.duplicates
                totals.late += result.late
            bar.update(task, advance=len(signals) + len(bad))
    if rejects is not None:
        rejects.write_text(
            "".join(
                json.dumps({"line": r.line, "reason": r.reason, "raw": r.raw}) + "\n"
                for r in rejected
            ),
            encoding="utf-8",
        )
    for r in rejected[:20]:
        err_console.print(f"[yellow]line {r.line}:[/] {r.reason}", highlight=False)
    console.print(
        f"{totals.accepted:,} accepted ({totals.late:,} late), {totals.duplicates:,} "
        f"duplicates, {len(rejected):,} rejected ({size:,} bytes)"
    )
    if rejected and not (totals.accepted or totals.duplicates):
        raise typer.Exit(2)


@signals_app.command("detect")
@handle_errors
def detect(as_json: Json = False) -> None:
    """Run detection now over the closed windows (the worker does this every minute)."""
    c = ctx()
    engine = service.DetectionEngine(service.detection_settings(c.settings))
    touched: dict[int, dict[str, Any]] = {}
    while True:
        with c.session() as session:
            before = service.cursor_position(session)
            for alert in service.detect(session, engine, c.clock.now()):
                touched[alert.id] = service.alert_dict(alert)
            if service.cursor_position(session) == before:
                break
    _alerts_table(list(touched.values()), as_json, "Alerts opened or grown")


def _alerts_table(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        print_json(rows)
        return
    table = Table("id", "status", "score", "title", "first seen", "series", title=title)
    for a in rows:
        table.add_row(
            str(a["id"]),
            a["status"],
            f"{a['score']:.2f}",
            a["title"],
            str(a["first_seen"])[:16],
            str(len(a["series"])),
        )
    console.print(table)


@alerts_app.command("list")
@handle_errors
def list_(
    status: Annotated[list[str] | None, typer.Option("--status")] = None, as_json: Json = False
) -> None:
    c = ctx()
    with c.session() as session:
        rows = [
            service.alert_dict(a) for a in service.list_alerts(session, c.principal, status or [])
        ]
    _alerts_table(rows, as_json, "Alerts")


@alerts_app.command("show")
@handle_errors
def show(alert_id: int, as_json: Json = False) -> None:
    """An alert with its evidence: anomalous windows, top series, content and accounts."""
    c = ctx()
    with c.session() as session:
        alert = service.get_alert(session, c.principal, alert_id)
        out = {**service.alert_dict(alert), "evidence": service.evidence(session, alert)}
    if as_json:
        print_json(out)
        return
    console.print(
        f"[bold]#{out['id']} {out['title']}[/] ({out['status']}, score {out['score']:.2f})"
    )
    table = Table("series", "window", "count", "expected", "score", title="Anomalous windows")
    for w in out["evidence"]["windows"][:30]:
        table.add_row(
            w["series"],
            str(w["window_start"])[:16],
            f"{w['count']:g}",
            f"{w['expected']:g}",
            f"{w['score']:.2f}",
        )
    console.print(table)
    for name in ("top_content", "top_accounts"):
        items = out["evidence"][name][:10]
        if items:
            console.print(
                f"{name.replace('_', ' ')}: "
                + ", ".join(f"{next(iter(i.values()))} ({i['events']})" for i in items)
            )


@alerts_app.command("ack")
@handle_errors
def ack(alert_id: int) -> None:
    c = ctx()
    with c.session() as session:
        alert = service.acknowledge(session, c.principal, alert_id, c.clock.now())
    console.print(f"alert {alert.id} acknowledged")


@alerts_app.command("dismiss")
@handle_errors
def dismiss(
    alert_id: int, reason: Annotated[str, typer.Option(help="Why (kept for tuning)")]
) -> None:
    c = ctx()
    with c.session() as session:
        alert = service.dismiss(session, c.principal, alert_id, reason, c.clock.now())
    console.print(f"alert {alert.id} dismissed")


@alerts_app.command("promote")
@handle_errors
def promote(
    alert_id: int,
    title: Annotated[str | None, typer.Option()] = None,
    harm_type: Annotated[str | None, typer.Option()] = None,
    region: Annotated[list[str] | None, typer.Option("--region")] = None,
) -> None:
    """Declare an incident from the alert (harm type, regions and evidence filled in)."""
    from rapidresponse.signals.api import PromoteIn

    body = PromoteIn.model_validate(
        {k: v for k, v in {"title": title, "harm_type": harm_type, "regions": region}.items() if v}
    )
    c = ctx()
    with c.session() as session:
        _, key = service.promote(
            session,
            c.principal,
            alert_id,
            body.model_dump(mode="json", exclude_none=True),
            c.clock.now(),
        )
    console.print(f"alert {alert_id} promoted to {key}")

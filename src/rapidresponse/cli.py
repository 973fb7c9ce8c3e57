"""`rapidresponse`: the Typer root. Mounts each domain's commands plus server and database."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

import typer

from rapidresponse.audit.cli import app as audit_app
from rapidresponse.auth.cli import app as token_app
from rapidresponse.cli_support import console, ctx, handle_errors
from rapidresponse.comms.cli import app as comms_app
from rapidresponse.compliance.cli import app as compliance_app
from rapidresponse.compliance.cli import policy_app
from rapidresponse.enforcement.cli import action_app, content_app
from rapidresponse.incidents.cli import app as incident_app
from rapidresponse.oncall.cli import app as oncall_app
from rapidresponse.playbooks.cli import app as playbook_app
from rapidresponse.playbooks.cli import next_ as next_actions
from rapidresponse.signals.cli import alerts_app, detect_app, signals_app

app = typer.Typer(
    help="Rapid Response: command platform for Trust & Safety incident response.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(comms_app, name="comms")
app.add_typer(oncall_app, name="oncall")
app.add_typer(playbook_app, name="playbook")
app.add_typer(content_app, name="content")
app.add_typer(action_app, name="action")
app.add_typer(compliance_app, name="compliance")
app.add_typer(policy_app, name="policy")
app.add_typer(detect_app, name="detect")
app.add_typer(signals_app, name="signals")
app.add_typer(alerts_app, name="alerts")
app.command("next")(next_actions)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations (creates the SQLite file if needed)."""
    from rapidresponse.migrate import current, upgrade

    c = ctx()
    upgrade(c.engine, revision)
    console.print(
        f"database at revision {current(c.engine)} "
        f"({c.engine.url.render_as_string(hide_password=True)})"
    )


@db_app.command("current")
@handle_errors
def db_current() -> None:
    """Show the applied migration revision."""
    from rapidresponse.migrate import current

    console.print(current(ctx().engine) or "no migrations applied")


@app.command()
@handle_errors
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API server (and, by default, the in-process worker)."""
    import uvicorn

    from rapidresponse.app import create_app
    from rapidresponse.migrate import require_current

    require_current(ctx().engine)
    settings = ctx().settings
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
    )


@app.command()
@handle_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit")] = False,
) -> None:
    """Run an outbox worker process (production shape: run any number of these)."""
    from rapidresponse.migrate import require_current

    require_current(ctx().engine)
    from rapidresponse.events import EventHub
    from rapidresponse.outbox.handlers import default_handlers, default_session_handlers
    from rapidresponse.outbox.worker import OutboxWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    c = ctx()
    runner = OutboxWorker(
        c.factory,
        default_handlers(EventHub(), factory=c.factory, settings=c.settings, clock=c.clock),
        c.clock,
        session_handlers=default_session_handlers(c.settings),
        max_attempts=c.settings.outbox_max_attempts,
    )
    if once:
        console.print(f"delivered or retried {runner.drain()} message(s)")
        return
    consumer = None
    if c.settings.nats_url:
        from rapidresponse.signals.bus import BusSettings, ConsumerThread

        consumer = ConsumerThread(BusSettings(url=c.settings.nats_url), c.factory, c.clock)
        consumer.start()
        console.print(f"consuming signals from {c.settings.nats_url} (JetStream RR_SIGNALS)")
    stop = threading.Event()
    try:
        runner.run(stop, c.settings.worker_poll_seconds)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if consumer is not None:
            consumer.stop()


@app.command()
@handle_errors
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    seed: Annotated[
        bool,
        typer.Option("--seed/--no-seed", help="Add sample incidents when the database has none"),
    ] = True,
) -> None:
    """Set up the embedded database, print a demo admin token, and serve on :8000."""
    from rapidresponse.auth import service as auth_service
    from rapidresponse.incidents import service as incident_service
    from rapidresponse.migrate import upgrade
    from rapidresponse.oncall import service as oncall_service
    from rapidresponse.sim.directory import seed_directory
    from rapidresponse.sim.seed import seed_demo_incidents

    c = ctx()
    upgrade(c.engine)
    if seed:
        with c.session() as session:
            _, existing = incident_service.list_incidents(
                session, c.principal, incident_service.IncidentFilter(), 1, 0
            )
            if not existing:
                if not oncall_service.list_people(session):
                    seed_directory(session, c.principal, c.clock.now())
                keys = seed_demo_incidents(session, c.principal, c.clock.now())
                console.print(f"Seeded sample incidents: {', '.join(keys)}")
    token_file: Path = c.settings.demo_token_file
    secret = token_file.read_text().strip() if token_file.exists() else ""
    if secret:
        try:
            with c.session() as session:
                auth_service.authenticate(session, secret, c.clock.now())
        except Exception:
            secret = ""
    if not secret:
        with c.session() as session:
            _, secret = auth_service.issue_token(
                session,
                name="demo admin",
                subject="demo-admin",
                role="admin",
                actor=c.principal.subject,
                now=c.clock.now(),
            )
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(secret + "\n")
        token_file.chmod(0o600)
    url = f"http://{c.settings.host}:{c.settings.port}"
    console.print(f"[bold]Rapid Response[/] on {url}  (API docs: {url}/docs)")
    console.print(f"Demo admin token (also in {token_file}):")
    console.print(secret, highlight=False, soft_wrap=True)
    console.print(
        f"Sign in at {url}/login, or: curl -H 'Authorization: Bearer {secret}' "
        f"{url}/api/v1/incidents",
        highlight=False,
        soft_wrap=True,
    )
    if serve_after:
        serve(None, None)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

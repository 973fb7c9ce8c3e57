"""Bulk containment benchmark: a geo-restriction in DE/FR over N items, with its statements.

Prints JSON, one object per database. Our figure: items per second through the whole bulk
action as the product runs it — the dry run (fix the items, blast radius), then batched
execution where each batch changes the items, records each outcome and builds and validates
one DSA statement of reasons per item in the same transaction — and the statements' export
as JSON lines. Baseline, measured in the same run on the same database: the straightforward
implementation, one transaction per item (load it, apply the action, record the outcome,
build, validate and store its statement), over a sample of the items.

Both paths use the same pure functions (enforcement.actions, compliance.statements), so the
ratio measures the batching, not different rules. Every statement of both is checked valid.

Usage: python bench/enforcement_bulk.py [--items N] [--baseline-items M]
           [--database sqlite|postgresql|both] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth.policy import Principal, Role
from rapidresponse.compliance import service as compliance
from rapidresponse.compliance import statements
from rapidresponse.compliance.model import StatementOfReasons
from rapidresponse.db import make_engine, make_session_factory, transaction
from rapidresponse.enforcement import actions, service
from rapidresponse.enforcement.model import ActionItem, ContentItem, EnforcementAction
from rapidresponse.enforcement.schemas import ActionIn, ItemIn
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate
from rapidresponse.migrate import upgrade
from rapidresponse.playbooks.schema import ContainmentAction

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MANAGER = Principal("bench-manager", Role.INCIDENT_MANAGER)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 500


@contextmanager
def database(kind: str, postgres_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    schema = f"rr_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cluster(factory: sessionmaker[Session], prefix: str, n: int) -> str:
    with transaction(factory) as session:
        key = incidents.declare(
            session,
            MANAGER,
            IncidentCreate.model_validate(
                {
                    "title": f"Attack video re-uploads ({prefix})",
                    "harm_type": "violent_extremism",
                    "regions": ["DE", "FR"],
                }
            ),
            NOW,
        ).key
    items = [
        ItemIn(
            external_id=f"{prefix}-{i:08d}",
            account_id=f"acct-{i % 997}",
            regions=["DE", "FR", "AT"],
            keys=["#attackclip"],
            language="de",
            views=1000 + i,
            source="hash_match",
            automated_detection=True,
        )
        for i in range(n)
    ]
    for start in range(0, n, 10_000):
        with transaction(factory) as session:
            service.add_items(session, MANAGER, key, items[start : start + 10_000], NOW)
    return key


BODY = ActionIn.model_validate(
    {
        "action": "geo_restrict",
        "selector": {"scope": "cluster"},
        "regions": ["DE", "FR"],
        "policy_section": "VE-1",
        "ground": "illegal",
        "legal_ground": "Regulation (EU) 2021/784, Art. 3 (removal order)",
        "explanation": "Attack footage shared to glorify the attack; illegal terrorist content.",
    }
)


def ours(factory: sessionmaker[Session], key: str, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    with transaction(factory) as session:
        action_id = service.plan(session, MANAGER, key, BODY, NOW, approval_threshold=n + 1).id
    planned = time.perf_counter()
    with transaction(factory) as session:
        service.start(session, MANAGER, key, action_id, NOW)
    while True:
        with transaction(factory) as session:
            if service.run_batch(session, action_id, NOW, BATCH) == 0:
                break
    ran = time.perf_counter()
    with transaction(factory) as session:
        lines = list(compliance.export_statements(session, MANAGER, key, action_id=action_id))
    exported = time.perf_counter()
    invalid = sum(1 for line in lines if line.errors)
    assert len(lines) == n, len(lines)
    assert invalid == 0, invalid
    return {
        "items": n,
        "statements": len(lines),
        "dry_run_seconds": round(planned - started, 3),
        "run_seconds": round(ran - planned, 3),
        "export_seconds": round(exported - ran, 3),
        "items_per_second": round(n / (exported - started), 1),
    }


def baseline(factory: sessionmaker[Session], key: str, n: int) -> dict[str, Any]:
    """One transaction per item, the way a first implementation would loop over a cluster."""
    started = time.perf_counter()
    with transaction(factory) as session:
        action_id = service.plan(session, MANAGER, key, BODY, NOW, approval_threshold=n + 1).id
        row = session.get_one(EnforcementAction, action_id)
        row.status = "running"
        basis = service._statement_basis(row, incidents.get_incident(session, MANAGER, key), NOW)
        target_ids = list(
            session.scalars(select(ActionItem.id).where(ActionItem.action_id == action_id))
        )
    for target_id in target_ids:
        with transaction(factory) as session:
            target = session.get_one(ActionItem, target_id)
            item = session.get_one(ContentItem, target.item_id)
            change = actions.apply(
                item.restrictions,
                action_id=action_id,
                action=ContainmentAction.GEO_RESTRICT,
                regions=["DE", "FR"],
                item_regions=item.regions,
            )
            item.restrictions = change.restrictions
            target.outcome, target.regions, target.acted_at = "applied", list(change.regions), NOW
            scope = statements.needs_statement(
                ContainmentAction.GEO_RESTRICT,
                actions.eu_scope(ContainmentAction.GEO_RESTRICT, change.regions),
            )
            record = service._statement(basis, item, ContainmentAction.GEO_RESTRICT, scope)
            errors = statements.validate_statement(record)
            session.add(
                StatementOfReasons(
                    incident_id=item.incident_id,
                    action_id=action_id,
                    puid=item.external_id,
                    record=record,
                    errors=errors,
                    valid=not errors,
                    created_at=NOW,
                )
            )
            assert not errors, errors
    with transaction(factory) as session:
        lines = [
            json.dumps(record, separators=(",", ":"))
            for record in session.scalars(
                select(StatementOfReasons.record).where(StatementOfReasons.action_id == action_id)
            )
        ]
    elapsed = time.perf_counter() - started
    assert len(lines) == n
    return {"items": n, "seconds": round(elapsed, 3), "items_per_second": round(n / elapsed, 1)}


def run(kind: str, postgres_url: str, n: int, sample: int) -> dict[str, Any]:
    with database(kind, postgres_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        ingest_started = time.perf_counter()
        key = cluster(factory, "ours", n)
        ingest = time.perf_counter() - ingest_started
        figure = ours(factory, key, n)
        figure["ingest_items_per_second"] = round(n / ingest, 1)
        base = baseline(factory, cluster(factory, "base", sample), sample)
        engine.dispose()
    return {
        "benchmark": "enforcement_bulk",
        "database": kind,
        "ours": figure,
        "baseline": {"name": "one transaction per item", **base},
        "speedup": round(figure["items_per_second"] / base["items_per_second"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--baseline-items", type=int, default=1_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        print(json.dumps(run(kind, args.postgres_url, args.items, args.baseline_items)), flush=True)


if __name__ == "__main__":
    main()

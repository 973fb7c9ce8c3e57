"""Audit-log benchmark: the cost of hash-chaining every write, and verification speed.

Prints JSON. Figures, each with a baseline measured in the same run:
- append: audited entries/s through audit.service.record (row lock on the head, SHA-256,
  ORM insert) against bulk inserts of the same rows with no chain (the chain's overhead);
- verify: entries/s through audit.service.verify_log against streaming the same rows without
  checking them (the database read alone); the hashing rate over rows already in memory is
  reported too.

Usage: python bench/audit_chain.py [--entries N] [--database-url URL]
(default: a temporary SQLite file; pass a postgresql+psycopg:// URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from rapidresponse.audit import service as audit
from rapidresponse.audit.chain import compute_hash
from rapidresponse.audit.model import AuditEntry
from rapidresponse.db import make_engine, make_session_factory, transaction
from rapidresponse.migrate import upgrade

BATCH = 500


def _payload(i: int) -> dict[str, object]:
    return {"status": "active", "title": f"incident {i}", "regions": ["DE", "FR"], "version": i}


def run(url: str, entries: int) -> dict[str, object]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    t0 = datetime(2026, 11, 25, tzinfo=UTC)

    start = time.perf_counter()
    for offset in range(0, entries, BATCH):
        with transaction(factory) as session:
            for i in range(offset, min(entries, offset + BATCH)):
                audit.record(
                    session,
                    actor="bench",
                    action="incident.updated",
                    entity_type="incident",
                    entity_id=i,
                    before=_payload(i),
                    after=_payload(i + 1),
                    at=t0 + timedelta(seconds=i),
                )
    append_s = time.perf_counter() - start

    # Baseline: the same rows bulk-inserted (executemany), without the head lock or the hash.
    rows = [
        {
            "seq": 10_000_000 + i,
            "at": t0 + timedelta(seconds=i),
            "actor": "bench",
            "action": "incident.updated",
            "entity_type": "incident",
            "entity_id": str(i),
            "before": _payload(i),
            "after": _payload(i + 1),
            "prev_hash": "0" * 64,
            "hash": "0" * 64,
        }
        for i in range(entries)
    ]
    start = time.perf_counter()
    for offset in range(0, entries, BATCH):
        with transaction(factory) as session:
            session.execute(insert(AuditEntry), rows[offset : offset + BATCH])
    plain_s = time.perf_counter() - start
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq >= 10000000"))

    start = time.perf_counter()
    with transaction(factory) as session:
        report = audit.verify_log(session)
    verify_s = time.perf_counter() - start
    if not report.ok or report.entries != entries:
        raise SystemExit(f"verification failed: {report.entries} entries, {report.problems[:3]}")

    # Baseline: streaming the same rows without checking them (the database read alone).
    start = time.perf_counter()
    with transaction(factory) as session:
        loaded = list(audit._records(session))
    read_only_s = time.perf_counter() - start
    start = time.perf_counter()
    for record in loaded:
        compute_hash(record)
    hash_only_s = time.perf_counter() - start
    engine.dispose()
    return {
        "backend": engine.dialect.name,
        "entries": entries,
        "append_entries_per_s": round(entries / append_s),
        "baseline_plain_insert_rows_per_s": round(entries / plain_s),
        "append_vs_plain_insert": round(plain_s / append_s, 3),
        "verify_entries_per_s": round(entries / verify_s),
        "baseline_read_only_entries_per_s": round(entries / read_only_s),
        "verify_vs_read_only": round(read_only_s / verify_s, 3),
        "hash_only_entries_per_s": round(entries / hash_only_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.database_url and args.database_url.startswith("postgresql"):
        schema = f"rr_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in args.database_url else "?"
        try:
            result = run(f"{args.database_url}{sep}options=-csearch_path%3D{schema}", args.entries)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            result = run(url, args.entries)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

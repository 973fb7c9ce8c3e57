"""Migrations build the schema the models describe, from an empty database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from rapidresponse.migrate import current, script_heads
from rapidresponse.models import metadata


def test_migrated_schema_matches_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_migration_creates_every_table_and_the_audit_genesis(engine, db):
    """(`db` empties the tables first, as a fresh migration leaves them.)"""
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert current(engine) == ",".join(script_heads())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT seq, hash FROM audit_head")).one() == (0, "0" * 64)

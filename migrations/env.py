"""Alembic environment: runs on the connection the caller passes, or opens one from the URL."""

from __future__ import annotations

from alembic import context

from rapidresponse.db import make_engine
from rapidresponse.models import metadata

config = context.config


def run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
    else:
        engine = make_engine(str(config.get_main_option("sqlalchemy.url")))
        with engine.begin() as conn:
            run(conn)
        engine.dispose()

"""Alembic, driven from code: `rapidresponse db upgrade`, tests and the demo use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated; None on an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def script_heads() -> list[str]:
    from alembic.script import ScriptDirectory

    return sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def require_current(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not the one this code expects."""
    from rapidresponse.errors import DomainError

    applied, expected = current(engine), ",".join(script_heads())
    if applied != expected:
        raise DomainError(
            f"the database is at migration {applied or 'none'}, this version needs {expected}; "
            "run `rapidresponse db upgrade`"
        )

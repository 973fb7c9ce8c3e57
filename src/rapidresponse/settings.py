"""The one settings object: every knob is an ``RR_*`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. The README's configuration table documents each field."""

    model_config = SettingsConfigDict(env_prefix="RR_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/rapidresponse.db",
        description="SQLAlchemy URL: SQLite file (embedded default) or postgresql+psycopg://…",
    )
    host: str = Field(default="127.0.0.1", description="Address the API server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the API server binds to.")
    worker_mode: Literal["inprocess", "external", "off"] = Field(
        default="inprocess",
        description=(
            "inprocess: the server runs the outbox worker itself; external: run "
            "`rapidresponse worker` processes; off: no delivery (tests)."
        ),
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker polls the outbox."
    )
    outbox_max_attempts: int = Field(
        default=12, ge=1, description="Deliveries tried before a message is parked as dead."
    )
    actor: str | None = Field(
        default=None,
        description="Who the CLI acts as in the audit log (default: cli:<OS user>).",
    )
    demo_token_file: Path = Field(
        default=Path("var/demo-admin-token"),
        description="Where `rapidresponse demo` keeps the demo admin token it printed.",
    )
    log_level: str = Field(default="info", description="Server log level.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

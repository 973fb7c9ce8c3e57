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
    playbook_dirs: str = Field(
        default="",
        description=(
            "Extra playbook directories, separated by ':'; their playbooks override the "
            "shipped library's by id."
        ),
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL people reach the web UI at (used in links in e-mails and pages).",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for e-mail delivery.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str = Field(
        default="rapid-response@localhost", description="Sender address of e-mails."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: str | None = Field(default=None, description="SMTP password, if required.")
    smtp_starttls: bool = Field(default=False, description="Upgrade SMTP with STARTTLS.")
    webhook_secret: str = Field(
        default="change-me",
        description="HMAC-SHA256 key that signs outgoing webhooks (X-RR-Signature header).",
    )
    delivery_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one e-mail or webhook delivery attempt."
    )
    approval_threshold: int = Field(
        default=1000,
        ge=1,
        description="Bulk actions over more items than this need a second incident manager's "
        "approval before they run.",
    )
    nats_url: str | None = Field(
        default=None,
        description="NATS server with JetStream (e.g. nats://127.0.0.1:4222): `rapidresponse "
        "worker` then also consumes signals from the RR_SIGNALS stream (subjects rr.signals.>).",
    )
    signal_lateness_seconds: int = Field(
        default=600,
        ge=0,
        le=86_400,
        description="How late a signal may arrive (event time) and still be counted; windows "
        "close this long after the newest event.",
    )
    alert_threshold: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Detector score (0-1) at which a series' minute is anomalous.",
    )
    alert_min_count: float = Field(
        default=2.0,
        ge=0,
        description="Fewest events in a minute that can raise an alert.",
    )
    enforcement_batch_size: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Items a bulk action acts on per transaction (its resume granularity).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

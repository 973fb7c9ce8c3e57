"""signals: accepted events, per-minute series counts, the detection cursor, alerts and
their evidence

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 11:47:09.200426
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signal_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("harm_type", sa.String(length=40), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("series", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by", sa.String(length=120), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("incident_key", sa.String(length=20), nullable=True),
        sa.Column("promoted_by", sa.String(length=120), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_alert")),
    )
    with op.batch_alter_table("signal_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signal_alert_status"), ["status"], unique=False)

    op.create_table(
        "signal_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("max_event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_events", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_cursor")),
    )
    op.create_table(
        "signal_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("harm_type", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("surface", sa.String(length=20), nullable=True),
        sa.Column("content_id", sa.String(length=256), nullable=False),
        sa.Column("account_id", sa.String(length=256), nullable=True),
        sa.Column("series", sa.JSON(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_event")),
    )
    with op.batch_alter_table("signal_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_event_event_time"), ["event_time"], unique=False
        )
        batch_op.create_index("uq_signal_event", ["source", "event_id"], unique=True)

    op.create_table(
        "signal_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=320), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_window")),
    )
    with op.batch_alter_table("signal_window", schema=None) as batch_op:
        batch_op.create_index("ix_signal_window_start", ["window_start"], unique=False)
        batch_op.create_index("uq_signal_window", ["series", "window_start"], unique=True)

    op.create_table(
        "signal_alert_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=320), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["signal_alert.id"],
            name=op.f("fk_signal_alert_evidence_alert_id_signal_alert"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_alert_evidence")),
    )
    with op.batch_alter_table("signal_alert_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_alert_evidence_alert_id"), ["alert_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signal_alert_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_alert_evidence_alert_id"))

    op.drop_table("signal_alert_evidence")
    with op.batch_alter_table("signal_window", schema=None) as batch_op:
        batch_op.drop_index("uq_signal_window")
        batch_op.drop_index("ix_signal_window_start")

    op.drop_table("signal_window")
    with op.batch_alter_table("signal_event", schema=None) as batch_op:
        batch_op.drop_index("uq_signal_event")
        batch_op.drop_index(batch_op.f("ix_signal_event_event_time"))

    op.drop_table("signal_event")
    op.drop_table("signal_cursor")
    with op.batch_alter_table("signal_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_alert_status"))

    op.drop_table("signal_alert")

"""comms: deliveries, status updates and approvals, update cadence

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comms_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("incident_key", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comms_delivery")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_comms_delivery_idempotency_key")),
    )
    with op.batch_alter_table("comms_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comms_delivery_incident_key"), ["incident_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_comms_delivery_status"), ["status"], unique=False)

    op.create_table(
        "comms_status_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=120), nullable=True),
        sa.Column("rejection", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_comms_status_update_incident_id_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comms_status_update")),
    )
    with op.batch_alter_table("comms_status_update", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comms_update_incident", ["incident_id", "kind", "status"], unique=False
        )

    op.create_table(
        "comms_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_version", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["comms_status_update.id"],
            name=op.f("fk_comms_approval_update_id_comms_status_update"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comms_approval")),
    )
    with op.batch_alter_table("comms_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comms_approval_update_id"), ["update_id"], unique=False
        )

    op.create_table(
        "comms_cadence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=120), nullable=False),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("timer_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_comms_cadence_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comms_cadence")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_comms_cadence_incident_id")),
    )


def downgrade() -> None:
    op.drop_table("comms_cadence")
    with op.batch_alter_table("comms_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comms_approval_update_id"))
    op.drop_table("comms_approval")
    with op.batch_alter_table("comms_status_update", schema=None) as batch_op:
        batch_op.drop_index("ix_comms_update_incident")
    op.drop_table("comms_status_update")
    with op.batch_alter_table("comms_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comms_delivery_status"))
        batch_op.drop_index(batch_op.f("ix_comms_delivery_incident_key"))
    op.drop_table("comms_delivery")

"""enforcement and compliance: content clusters, bulk actions, triggers, obligations,
statements of reasons and report drafts; merges the on-call, comms and playbooks branches

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-25 10:56:12.412327
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | tuple[str, ...] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_compliance_statement_incident_id_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_statement")),
    )
    with op.batch_alter_table("compliance_statement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_statement_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index("uq_compliance_statement", ["action_id", "puid"], unique=True)

    op.create_table(
        "compliance_trigger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_compliance_trigger_incident_id_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_trigger")),
    )
    with op.batch_alter_table("compliance_trigger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_trigger_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "enforcement_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("selector", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("policy_section", sa.String(length=20), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("ground", sa.String(length=20), nullable=False),
        sa.Column("legal_ground", sa.String(length=500), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("automated_decision", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("approval_threshold", sa.Integer(), nullable=False),
        sa.Column("blast_radius", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("reverted", sa.Integer(), nullable=False),
        sa.Column("statements", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollback_by", sa.String(length=120), nullable=True),
        sa.Column("rollback_reason", sa.Text(), nullable=True),
        sa.Column("rollback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=120), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_enforcement_action_incident_id_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_action")),
    )
    with op.batch_alter_table("enforcement_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enforcement_action_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enforcement_action_status"), ["status"], unique=False)

    op.create_table(
        "enforcement_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("automated_detection", sa.Boolean(), nullable=False),
        sa.Column("restrictions", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_enforcement_item_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_item")),
    )
    with op.batch_alter_table("enforcement_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enforcement_item_account", ["incident_id", "account_id"], unique=False
        )
        batch_op.create_index(
            "uq_enforcement_item_external", ["incident_id", "subject", "external_id"], unique=True
        )

    op.create_table(
        "compliance_obligation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("trigger_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("rule_checked", sa.String(length=10), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=120), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_compliance_obligation_incident_id_incident"),
        ),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["compliance_trigger.id"],
            name=op.f("fk_compliance_obligation_trigger_id_compliance_trigger"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_obligation")),
    )
    with op.batch_alter_table("compliance_obligation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_obligation_due_at"), ["due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_obligation_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_obligation_status"), ["status"], unique=False
        )
        batch_op.create_index("uq_compliance_obligation", ["trigger_id", "rule_id"], unique=True)

    op.create_table(
        "enforcement_action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["enforcement_action.id"],
            name=op.f("fk_enforcement_action_item_action_id_enforcement_action"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["enforcement_item.id"],
            name=op.f("fk_enforcement_action_item_item_id_enforcement_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_action_item")),
    )
    with op.batch_alter_table("enforcement_action_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enforcement_action_item_outcome", ["action_id", "outcome"], unique=False
        )
        batch_op.create_index("uq_enforcement_action_item", ["action_id", "item_id"], unique=True)

    op.create_table(
        "compliance_report_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=120), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_reference", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_compliance_report_draft_incident_id_incident"),
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["compliance_obligation.id"],
            name=op.f("fk_compliance_report_draft_obligation_id_compliance_obligation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_report_draft")),
        sa.UniqueConstraint("obligation_id", name=op.f("uq_compliance_report_draft_obligation_id")),
    )
    with op.batch_alter_table("compliance_report_draft", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_report_draft_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("compliance_report_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_report_draft_incident_id"))

    op.drop_table("compliance_report_draft")
    with op.batch_alter_table("enforcement_action_item", schema=None) as batch_op:
        batch_op.drop_index("uq_enforcement_action_item")
        batch_op.drop_index("ix_enforcement_action_item_outcome")

    op.drop_table("enforcement_action_item")
    with op.batch_alter_table("compliance_obligation", schema=None) as batch_op:
        batch_op.drop_index("uq_compliance_obligation")
        batch_op.drop_index(batch_op.f("ix_compliance_obligation_status"))
        batch_op.drop_index(batch_op.f("ix_compliance_obligation_incident_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_obligation_due_at"))

    op.drop_table("compliance_obligation")
    with op.batch_alter_table("enforcement_item", schema=None) as batch_op:
        batch_op.drop_index("uq_enforcement_item_external")
        batch_op.drop_index("ix_enforcement_item_account")

    op.drop_table("enforcement_item")
    with op.batch_alter_table("enforcement_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_action_status"))
        batch_op.drop_index(batch_op.f("ix_enforcement_action_incident_id"))

    op.drop_table("enforcement_action")
    with op.batch_alter_table("compliance_trigger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_trigger_incident_id"))

    op.drop_table("compliance_trigger")
    with op.batch_alter_table("compliance_statement", schema=None) as batch_op:
        batch_op.drop_index("uq_compliance_statement")
        batch_op.drop_index(batch_op.f("ix_compliance_statement_incident_id"))

    op.drop_table("compliance_statement")

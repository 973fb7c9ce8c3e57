"""oncall: people, teams, schedules, layers, overrides, escalation policies, routing, pages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_escalation_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_escalation_policy")),
        sa.UniqueConstraint("slug", name=op.f("uq_oncall_escalation_policy_slug")),
    )
    op.create_table(
        "oncall_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("slack_webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_person")),
        sa.UniqueConstraint("handle", name=op.f("uq_oncall_person_handle")),
    )
    op.create_table(
        "oncall_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_schedule")),
        sa.UniqueConstraint("slug", name=op.f("uq_oncall_schedule_slug")),
    )
    op.create_table(
        "oncall_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("rotation_unit", sa.String(length=8), nullable=False),
        sa.Column("rotation_length", sa.Integer(), nullable=False),
        sa.Column("handoff_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("restrictions", sa.JSON(), nullable=False),
        sa.Column("holiday_country", sa.String(length=2), nullable=True),
        sa.Column("holiday_subdivision", sa.String(length=10), nullable=True),
        sa.Column("covers_holidays", sa.Boolean(), nullable=False),
        sa.Column("covers_weekends", sa.Boolean(), nullable=False),
        sa.Column("backup_layer", sa.String(length=120), nullable=True),
        sa.Column("backup_only", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedule.id"],
            name=op.f("fk_oncall_layer_schedule_id_oncall_schedule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_layer")),
        sa.UniqueConstraint("schedule_id", "name", name=op.f("uq_oncall_layer_schedule_id_name")),
        sa.UniqueConstraint(
            "schedule_id", "position", name=op.f("uq_oncall_layer_schedule_id_position")
        ),
    )
    with op.batch_alter_table("oncall_layer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_layer_schedule_id"), ["schedule_id"], unique=False
        )

    op.create_table(
        "oncall_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_person.id"],
            name=op.f("fk_oncall_override_person_id_oncall_person"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedule.id"],
            name=op.f("fk_oncall_override_schedule_id_oncall_schedule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_override")),
    )
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.create_index("ix_oncall_override_window", ["schedule_id", "ends_at"], unique=False)

    op.create_table(
        "oncall_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_key", sa.String(length=20), nullable=True),
        sa.Column("escalation_policy_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("policy_snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_policy_id"],
            ["oncall_escalation_policy.id"],
            name=op.f("fk_oncall_page_escalation_policy_id_oncall_escalation_policy"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_page")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_oncall_page_dedup_key")),
    )
    with op.batch_alter_table("oncall_page", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_page_incident_key"), ["incident_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oncall_page_status"), ["status"], unique=False)

    op.create_table(
        "oncall_routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("harm_types", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=4), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("team_ids", sa.JSON(), nullable=False),
        sa.Column("escalation_policy_id", sa.Integer(), nullable=True),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_policy_id"],
            ["oncall_escalation_policy.id"],
            name=op.f("fk_oncall_routing_rule_escalation_policy_id_oncall_escalation_policy"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_routing_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_oncall_routing_rule_name")),
    )
    op.create_table(
        "oncall_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("function", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("escalation_policy_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_policy_id"],
            ["oncall_escalation_policy.id"],
            name=op.f("fk_oncall_team_escalation_policy_id_oncall_escalation_policy"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["oncall_schedule.id"],
            name=op.f("fk_oncall_team_schedule_id_oncall_schedule"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_team")),
        sa.UniqueConstraint("slug", name=op.f("uq_oncall_team_slug")),
    )
    op.create_table(
        "oncall_page_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["oncall_page.id"],
            name=op.f("fk_oncall_page_notification_page_id_oncall_page"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_page_notification")),
        sa.UniqueConstraint(
            "page_id",
            "level",
            "round",
            "person",
            "channel",
            name="uq_oncall_page_notification_step",
        ),
    )
    with op.batch_alter_table("oncall_page_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_page_notification_page_id"), ["page_id"], unique=False
        )

    op.create_table(
        "oncall_team_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_person.id"],
            name=op.f("fk_oncall_team_member_person_id_oncall_person"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["oncall_team.id"],
            name=op.f("fk_oncall_team_member_team_id_oncall_team"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_team_member")),
        sa.UniqueConstraint(
            "team_id", "person_id", name=op.f("uq_oncall_team_member_team_id_person_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("oncall_team_member")
    with op.batch_alter_table("oncall_page_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_page_notification_page_id"))

    op.drop_table("oncall_page_notification")
    op.drop_table("oncall_team")
    op.drop_table("oncall_routing_rule")
    with op.batch_alter_table("oncall_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_page_status"))
        batch_op.drop_index(batch_op.f("ix_oncall_page_incident_key"))

    op.drop_table("oncall_page")
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.drop_index("ix_oncall_override_window")

    op.drop_table("oncall_override")
    with op.batch_alter_table("oncall_layer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_layer_schedule_id"))

    op.drop_table("oncall_layer")
    op.drop_table("oncall_schedule")
    op.drop_table("oncall_person")
    op.drop_table("oncall_escalation_policy")

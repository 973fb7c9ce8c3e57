"""playbooks: the plan applied to each incident

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("playbook_id", sa.String(length=80), nullable=False),
        sa.Column("playbook_version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("harm_type", sa.String(length=40), nullable=False),
        sa.Column("cadence_seconds", sa.Integer(), nullable=False),
        sa.Column("dependencies", sa.JSON(), nullable=False),
        sa.Column("open_roles", sa.JSON(), nullable=False),
        sa.Column("engaged_functions", sa.JSON(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replans", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_plan_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_plan")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_incident_plan_incident_id")),
    )


def downgrade() -> None:
    op.drop_table("incident_plan")

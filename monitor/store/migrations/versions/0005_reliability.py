"""reliability: per-host claims, feed health, notices in the outbox, stored rule titles

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("host", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("health_alerted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_feed_host"), ["host"], unique=False)

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("match_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="match")
        )
        batch_op.add_column(sa.Column("notice", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rule_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE delivery SET pending_since = created_at")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column(
            "pending_since", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("pending_since")
        batch_op.drop_column("rule_title")
        batch_op.drop_column("notice")
        batch_op.drop_column("kind")
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("match_id", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_host"))
        batch_op.drop_column("health_alerted_at")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("host")

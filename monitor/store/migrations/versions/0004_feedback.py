"""feedback: an analyst's verdict on a match; indexes for the dashboard's queries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.String(length=16), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("match_id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        # the matches page's "relevant" / "not relevant" filters start from the marks
        batch_op.create_index("ix_feedback_relevant_match_id", ["relevant", "match_id"])

    # The matches page pages by id (keyset) within a rule or a level; the overview counts
    # matches per day and rule from the index alone; the alerts page pages within a status.
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.create_index("ix_match_rule_id_id", ["rule_id", "id"])
        batch_op.create_index("ix_match_level_id", ["level", "id"])
        batch_op.create_index("ix_match_matched_at_rule_id", ["matched_at", "rule_id"])
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_status_id", ["status", "id"])


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_status_id")
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.drop_index("ix_match_matched_at_rule_id")
        batch_op.drop_index("ix_match_level_id")
        batch_op.drop_index("ix_match_rule_id_id")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_relevant_match_id")
    op.drop_table("feedback")

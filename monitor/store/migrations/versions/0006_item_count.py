"""item_count: each feed keeps the number of its stored items

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("item_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE feed SET item_count = (SELECT count(*) FROM item WHERE item.feed_id = feed.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_column("item_count")

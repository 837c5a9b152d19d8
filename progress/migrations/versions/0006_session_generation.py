"""users: the dashboard session generation (logout and a new password end older sessions)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 11:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")

"""certificates: the learner's chosen name, and withdrawal

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import progress.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("certificate_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("withdrawn_at", progress.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("withdrawn_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("certificate_name")

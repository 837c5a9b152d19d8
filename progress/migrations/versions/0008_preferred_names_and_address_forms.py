"""users: the name a person asked to be called by, and the form (feminine or masculine) to address them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("preferred_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("address_form", sa.String(length=1), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("address_form")
        batch.drop_column("preferred_name")

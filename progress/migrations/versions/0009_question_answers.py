"""questions answered by the master: when, by whom, their words or voice; the question a master is answering

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import progress.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("answered_at", progress.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answer_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answer_audio_path", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_questions_answered_by_users", "users", ["answered_by"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("teach_sessions") as batch:
        batch.add_column(sa.Column("replying_question", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_teach_sessions_replying_question_questions",
            "questions",
            ["replying_question"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("teach_sessions") as batch:
        batch.drop_constraint("fk_teach_sessions_replying_question_questions", type_="foreignkey")
        batch.drop_column("replying_question")
    with op.batch_alter_table("questions") as batch:
        batch.drop_constraint("fk_questions_answered_by_users", type_="foreignkey")
        batch.drop_column("answered_by")
        batch.drop_column("answer_audio_path")
        batch.drop_column("answer_text")
        batch.drop_column("answered_at")

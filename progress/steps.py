"""A finished step, recorded once: as the learner moves on, or when a person passes their answer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from progress.db import insert_new
from progress.models import Base, StepProgress, utcnow

_STEP_DONE = insert_new(
    Base.metadata.tables[StepProgress.__tablename__],
    ("user_id", "course_id", "lesson_id", "step_id", "completed_at"),
    key=("user_id", "course_id", "lesson_id", "step_id"),
)


def step_done(session: Session, user_id: int, course_id: str, lesson_id: str, step_id: str) -> None:
    """Record that the learner finished this step, now; a step already finished keeps its first time."""
    row = {"user_id": user_id, "course_id": course_id, "lesson_id": lesson_id, "step_id": step_id}
    session.execute(_STEP_DONE, {**row, "completed_at": utcnow()})

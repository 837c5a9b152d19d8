"""One learner's timeline: courses begun and finished, steps, answers and questions, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from progress.models import Answer, Enrolment, Question, ReviewItem, StepProgress


@dataclass(frozen=True)
class Event:
    """One thing that happened to a learner, for their timeline."""

    at: datetime
    kind: str
    course_id: str | None = None
    lesson_id: str | None = None
    step_id: str | None = None
    answer: Answer | None = None
    review: ReviewItem | None = None
    text: str = ""


def timeline(session: Session, user_id: int, limit: int = 100) -> list[Event]:
    """The learner's latest events, newest first: courses begun and finished, steps, answers, questions."""
    events: list[Event] = []
    for enrolment in session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)):
        events.append(Event(enrolment.started_at, "enrolled", enrolment.course_id))
        if enrolment.completed_at:
            events.append(Event(enrolment.completed_at, "completed", enrolment.course_id))
    for step in session.scalars(
        select(StepProgress)
        .where(StepProgress.user_id == user_id)
        .order_by(StepProgress.completed_at.desc())
        .limit(limit)
    ):
        events.append(Event(step.completed_at, "step", step.course_id, step.lesson_id, step.step_id))
    for answer, review in session.execute(
        select(Answer, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.answer_id == Answer.id)
        .where(Answer.user_id == user_id)
        .order_by(Answer.created_at.desc())
        .limit(limit)
    ).tuples():
        events.append(
            Event(
                answer.created_at,
                "answer",
                answer.course_id,
                answer.lesson_id,
                answer.step_id,
                answer,
                review,
            )
        )
    for question in session.scalars(
        select(Question).where(Question.user_id == user_id).order_by(Question.created_at.desc()).limit(limit)
    ):
        events.append(
            Event(
                question.created_at,
                "question",
                question.course_id,
                question.lesson_id,
                question.step_id,
                text=question.text,
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]

"""Masters hearing their apprentices: the published steps credited to them and the answers they may hear."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.content import Library
from progress.models import Answer, Question, User
from progress.scope import Scope, find_learner


def steps_by(library: Library, author_id: str) -> set[tuple[str, str, str]]:
    """(course, lesson, step) of every published step credited to this author."""
    return {
        (course.id, lesson.id, step.id)
        for course in library.courses.values()
        for lesson in course.lessons
        for step in lesson.steps
        if course.author_of(step).id == author_id
    }


def latest_answers(session: Session, library: Library, user: User, limit: int = 5) -> list[Answer]:
    """The newest answers to this person's checkpoints from learners inside their scope."""
    mine = steps_by(library, user.author_id) if user.author_id else set()
    courses = {c for c, _, _ in mine}
    found: list[Answer] = []
    query = (
        select(Answer)
        .join(User, User.id == Answer.user_id)
        .where(Answer.course_id.in_(courses), Scope.of(user, library).where())
        .order_by(Answer.created_at.desc(), Answer.id.desc())
    )
    for answer in session.scalars(query.execution_options(yield_per=50)):
        if (answer.course_id, answer.lesson_id, answer.step_id) in mine:
            found.append(answer)
            if len(found) == limit:
                break
    return found


def may_hear(session: Session, user: User, answer: Answer | Question, library: Library) -> bool:
    """Whether `/answers` lists this answer (or question) to this person: their own step, a learner in their
    scope."""
    own = bool(user.author_id) and (answer.course_id, answer.lesson_id, answer.step_id) in steps_by(
        library, user.author_id or ""
    )
    return own and find_learner(session, Scope.of(user, library), answer.user_id) is not None

"""Learners' questions to the master: who is told, the open ones each person sees, and the master's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.languages import pick
from lessons.messages import Choice
from progress.hearing import may_hear, steps_by
from progress.models import Question, Role, User, utcnow
from progress.notify import Notifier, language_of
from progress.scope import Scope


def _masters_of(session: Session, library: Library, question: Question) -> list[User]:
    """The masters who taught the question's step and may see its learner."""
    course = library.courses.get(question.course_id)
    lesson = next((x for x in course.lessons if x.id == question.lesson_id), None) if course else None
    step = next((s for s in lesson.steps if s.id == question.step_id), None) if lesson else None
    if course is None or step is None:
        return []
    author = course.author_of(step).id
    masters = session.scalars(select(User).where(User.role == Role.MASTER, User.author_id == author))
    return [m for m in masters if may_hear(session, m, question, library)]


def tell(session: Session, library: Library, notifier: Notifier, question: Question, learner: User) -> None:
    """Queue the question to each of its masters, in their language, with a button to answer it; the
    trainers of the learner's cooperative are told too, with a link to the dashboard's questions."""
    lesson = library.courses[question.course_id].lesson(question.lesson_id)
    n = next(i for i, s in enumerate(lesson.steps, 1) if s.id == question.step_id)
    trainers = session.scalars(
        select(User).where(User.role == Role.TRAINER, User.cooperative_code == learner.cooperative_code)
    )
    for person in [*_masters_of(session, library, question), *(trainers if learner.cooperative_code else ())]:
        lang = language_of(person, notifier.default_language)
        params: dict[str, str | int] = {
            "learner": learner.display_name or f"#{learner.id}",
            "lesson": pick(dict(lesson.title), lang)[0],
            "n": n,
            "text": question.text or notifier.catalog.t(lang, "questions.voice"),
            "url": f"{notifier.base_url}/dashboard/questions",
        }
        master = person.role == Role.MASTER
        reply = Choice(notifier.catalog.t(lang, "button.answers_reply"), f"questions:reply:{question.id}")
        notifier.notify(
            session,
            person.id,
            "questions.new" if master else "questions.new_for_trainer",
            params,
            kind="question",
            choices=(reply,) if master else (),
            voice=question.audio_path,
        )


def open_for(session: Session, library: Library, master: User, limit: int) -> list[Question]:
    """The oldest unanswered questions at this master's steps from learners inside their scope."""
    mine = steps_by(library, master.author_id) if master.author_id else set()
    query = (
        select(Question)
        .join(User, User.id == Question.user_id)
        .where(
            Question.answered_at.is_(None),
            Question.course_id.in_({c for c, _, _ in mine}),
            Scope.of(master, library).where(),
        )
        .order_by(Question.created_at, Question.id)
    )
    found = [q for q in session.scalars(query) if (q.course_id, q.lesson_id, q.step_id) in mine]
    return found[:limit]


def inbox(session: Session, scope: Scope, limit: int = 100) -> list[tuple[Question, User]]:
    """The oldest unanswered questions of the learners a person may see, with their learner."""
    query = (
        select(Question, User)
        .join(User, User.id == Question.user_id)
        .where(Question.answered_at.is_(None), scope.where())
        .order_by(Question.created_at, Question.id)
        .limit(limit)
    )
    return list(session.execute(query).tuples())


def waiting(session: Session, scope: Scope, asked_before: datetime | None = None) -> int:
    """How many questions of the learners a person may see are unanswered (asked before then, if given)."""
    query = (
        select(func.count())
        .select_from(Question)
        .join(User, User.id == Question.user_id)
        .where(Question.answered_at.is_(None), scope.where())
    )
    if asked_before is not None:
        query = query.where(Question.created_at < asked_before)
    return session.scalar(query) or 0


def record_answer(question: Question, by: User, *, text: str | None, audio: str | None) -> None:
    """Record the master's answer: their words as typed, or their voice note."""
    question.answered_at, question.answered_by = utcnow(), by.id
    question.answer_text, question.answer_audio_path = text, audio

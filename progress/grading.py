"""A person's grade of an answer, the one rule for every door (the dashboard's review, a master's chat)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.languages import pick
from progress.certificates import deliver_if_earned, withdraw_if_failed
from progress.models import Answer, Certificate, ReviewItem, ReviewStatus, Role, User, utcnow
from progress.notify import Notifier, language_of
from progress.reminders import add_cards
from progress.steps import step_done


@dataclass(frozen=True)
class Graded:
    """What a person's grade changed: the certificate issued or withdrawn by it, if any."""

    issued: Certificate | None = None
    withdrawn: Certificate | None = None


def grade_answer(
    session: Session,
    library: Library,
    notifier: Notifier,
    answer: Answer,
    *,
    passed: bool,
    by: User,
    note: str,
) -> Graded | None:
    """Replace the machine's grade with a person's; None when someone already decided this answer.

    Claims the answer's open review (or records the decision when there was none), sets the grade, keeps
    the step's progress and its spaced-review card in line, tells the learner in their language, and
    issues or withdraws the course's certificate. The caller commits.
    """
    ai_passed = answer.machine_passed
    decision = {
        "status": ReviewStatus.ACCEPTED if passed == ai_passed else ReviewStatus.OVERRIDDEN,
        "decided_by": by.id,
        "decision_passed": passed,
        "decision_note": note.strip() or None,
        "decided_at": utcnow(),
    }
    claimed = session.execute(
        update(ReviewItem)
        .where(ReviewItem.answer_id == answer.id, ReviewItem.status == ReviewStatus.OPEN)
        .values(**decision)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if session.scalar(select(ReviewItem.id).where(ReviewItem.answer_id == answer.id)) is not None:
            return None
        session.add(ReviewItem(answer_id=answer.id, reason="person", **decision))
    answer.passed, answer.graded_by = passed, "human"
    session.flush()
    if passed:
        step_done(session, answer.user_id, answer.course_id, answer.lesson_id, answer.step_id)
        add_cards(session, [(answer.user_id, answer.course_id, answer.lesson_id, answer.step_id, utcnow())])
    _tell(session, library, notifier, answer, passed=passed, by=by)
    course, learner = library.courses.get(answer.course_id), session.get(User, answer.user_id)
    if course is None or learner is None:
        return Graded()
    session.flush()
    issued = deliver_if_earned(session, notifier, library, learner, course)
    return Graded(issued, withdraw_if_failed(session, learner.id, course))


def _tell(
    session: Session, library: Library, notifier: Notifier, answer: Answer, *, passed: bool, by: User
) -> None:
    """The learner hears the grade in their language: named when a master gave it, "a trainer" otherwise."""
    learner = session.get(User, answer.user_id)
    lang = language_of(learner, notifier.default_language)
    course = library.courses.get(answer.course_id)
    lesson = next((x for x in course.lessons if x.id == answer.lesson_id), None) if course else None
    step = next((s for s in lesson.steps if s.id == answer.step_id), None) if lesson else None
    lesson_title = pick(dict(lesson.title), lang)[0] if lesson else answer.lesson_id
    if by.role == Role.MASTER:
        question = pick(dict(step.checkpoint.question), lang)[0] if step and step.checkpoint else ""
        grade = notifier.catalog.t(lang, "answers.grade_passed" if passed else "answers.grade_not_yet")
        params: dict[str, str | int] = {"master": by.display_name, "question": question, "grade": grade}
        notifier.notify(session, answer.user_id, "answers.graded", params, kind="notice")
        return
    key = "review.decided_pass" if passed else "review.decided_fail"
    notifier.notify(session, answer.user_id, key, {"lesson": lesson_title}, kind="notice")

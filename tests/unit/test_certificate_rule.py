"""Certificates that mean something: earned on passing decisions, held by reviews, withdrawn on a fail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from lessons.assessment import Assessment
from lessons.course import Course
from progress.certificates import award_if_earned, earned, public_url_warning
from progress.grading import grade_answer
from progress.models import (
    Answer,
    ChannelIdentity,
    OutboundMessage,
    ReviewCard,
    ReviewItem,
    Role,
    StepProgress,
    User,
)

FAILED = Assessment((), passed=False, confidence=1.0, decided_by="rubric")


def _learner(session: Session, name: str = "Fatima Zahra", chosen: str | None = None) -> User:
    user = User(display_name=name, certificate_name=chosen, language="fr", stage="ready")
    session.add_all([user, ChannelIdentity(channel="memory", external_id=f"chat-{id(user)}", user=user)])
    session.flush()
    return user


def _walk(session: Session, user: User, course: Course, passed: bool | None, *, review: bool = False) -> None:
    """Every step seen and every checkpoint answered once (None: the answer waits for a person)."""
    for lesson in course.lessons:
        for step in lesson.steps:
            where = {"user_id": user.id, "course_id": course.id, "lesson_id": lesson.id, "step_id": step.id}
            session.add(StepProgress(**where))
            if step.checkpoint is not None:
                answer = Answer(**where, text="…", passed=passed, graded_by="rubric", assessment=FAILED)
                session.add(answer)
                if review:
                    session.flush()
                    session.add(ReviewItem(answer_id=answer.id, reason="uncertain"))
    session.flush()


def _answers(session: Session, user: User) -> list[Answer]:
    return list(session.scalars(select(Answer).where(Answer.user_id == user.id).order_by(Answer.id)))


def test_a_learner_who_fails_or_skips_never_gets_a_certificate(app: App) -> None:
    course = app.library.courses["zellige"]
    with app.sessions() as session:
        skipper = _learner(session)
        first = course.lessons[0]
        session.add(
            StepProgress(
                user_id=skipper.id, course_id=course.id, lesson_id=first.id, step_id=first.steps[0].id
            )
        )
        failer = _learner(session)
        _walk(session, failer, course, passed=False)
        for user in (skipper, failer):
            assert earned(session, user.id, course) is False
            assert award_if_earned(session, app.library, user, course) is None


def test_a_certificate_is_held_by_a_review_issued_when_it_passes_and_withdrawn_on_a_later_fail(
    app: App,
) -> None:
    course = app.library.courses["zellige"]
    with app.sessions() as session:
        trainer = User(display_name="Formatrice", role=Role.TRAINER)
        session.add(trainer)
        learner = _learner(session, chosen="فاطمة الزهراء «الفاسية»")
        _walk(session, learner, course, passed=None, review=True)
        assert earned(session, learner.id, course) is None
        assert award_if_earned(session, app.library, learner, course) is None  # held
        answers = _answers(session, learner)
        issued = None
        for answer in answers:
            graded = grade_answer(
                session, app.library, app.notifier, answer, passed=True, by=trainer, note=""
            )
            assert graded is not None
            issued = issued or graded.issued
        assert issued is not None and issued.withdrawn_at is None
        assert issued.learner_name == "فاطمة الزهراء «الفاسية»"  # the chosen name, not the platform's
        assert award_if_earned(session, app.library, learner, course) is None  # issued once
        sent = session.scalars(select(OutboundMessage).where(OutboundMessage.user_id == learner.id)).all()
        [pdf] = [m.payload for m in sent if m.payload.get("media_kind") == "document"]
        assert issued.code in pdf["text"] and pdf["media"].endswith(f"{issued.code}.pdf")
        again = grade_answer(
            session, app.library, app.notifier, answers[0], passed=False, by=trainer, note=""
        )
        assert again is None  # someone already decided: nothing changes
        later = Answer(
            user_id=learner.id,
            course_id=course.id,
            lesson_id=answers[-1].lesson_id,
            step_id=answers[-1].step_id,
            text="…",
            assessment=FAILED,
        )
        session.add(later)
        session.flush()
        session.add(ReviewItem(answer_id=later.id, reason="uncertain"))
        session.flush()
        failed = grade_answer(session, app.library, app.notifier, later, passed=False, by=trainer, note="non")
        assert failed is not None and failed.withdrawn is issued and issued.withdrawn_at is not None


@pytest.mark.parametrize("role", [Role.TRAINER, Role.MASTER])
def test_both_doors_of_a_persons_grade_have_the_same_effects(app: App, role: Role) -> None:
    course = app.library.courses["zellige"]
    with app.sessions() as session:
        person = User(display_name="Hassan Benali", role=role)
        session.add(person)
        learner = _learner(session)
        _walk(session, learner, course, passed=None, review=True)
        answer = _answers(session, learner)[0]
        session.execute(
            StepProgress.__table__.delete().where(
                StepProgress.user_id == learner.id, StepProgress.step_id == answer.step_id
            )
        )
        assert grade_answer(session, app.library, app.notifier, answer, passed=True, by=person, note="ok")
        review = session.scalars(select(ReviewItem).where(ReviewItem.answer_id == answer.id)).one()
        assert (review.status, review.decided_by, review.decision_passed) == ("overridden", person.id, True)
        assert (answer.passed, answer.graded_by) == (True, "human")
        assert session.scalar(select(StepProgress.id).where(StepProgress.step_id == answer.step_id))
        assert session.scalar(select(ReviewCard.id).where(ReviewCard.step_id == answer.step_id))
        told = session.scalars(select(OutboundMessage).where(OutboundMessage.user_id == learner.id)).all()
        assert len(told) == 1 and told[0].payload["lang"] == "fr"


def test_certificates_without_a_public_address_are_warned_about() -> None:
    warning = public_url_warning(None)
    assert warning is not None and "MAALEM_PUBLIC_URL" in warning
    assert public_url_warning("https://maalem.example.ma") is None

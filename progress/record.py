"""One learner's record, for the chat's /progress and the dashboard: streak, badges, courses, mastery."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.course import Course
from progress.models import Answer, Certificate, Enrolment, ReviewCard, StepProgress, User
from progress.rules import (
    Attempt,
    Completion,
    Mastery,
    Work,
    badges,
    best_streak,
    completion,
    local_days,
    mastery,
    streak,
    zone,
)


@dataclass(frozen=True)
class CourseProgress:
    """One course a learner began."""

    course: Course
    completion: Completion
    started_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class CheckpointMastery:
    """How well one checkpoint is known."""

    course: Course
    lesson_id: str
    step_id: str
    mastery: Mastery


@dataclass
class LearnerRecord:
    """Everything the progress rules say about one learner."""

    user: User
    streak: int
    best_streak: int
    badges: list[str]
    courses: list[CourseProgress]
    mastery: list[CheckpointMastery]
    certificates: list[Certificate] = field(default_factory=list)


def learner_record(session: Session, library: Library, user: User, now: datetime) -> LearnerRecord:
    """Streak, badges, courses, mastery per checkpoint and certificates of `user`."""
    tz = zone(user.timezone)
    uid = user.id
    finished: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
    moments: list[datetime] = []
    for course_id, lesson_id, step_id, at in session.execute(
        select(
            StepProgress.course_id, StepProgress.lesson_id, StepProgress.step_id, StepProgress.completed_at
        ).where(StepProgress.user_id == uid)
    ).tuples():
        finished[course_id].add((lesson_id, step_id))
        moments.append(at)
    answers = session.scalars(select(Answer).where(Answer.user_id == uid).order_by(Answer.id)).all()
    moments += [a.created_at for a in answers]
    attempts: defaultdict[tuple[str, str, str], list[Attempt]] = defaultdict(list)
    for answer in answers:
        verdicts = answer.assessment.verdicts if answer.assessment else ()
        met = sum(v.met for v in verdicts)
        attempts[(answer.course_id, answer.lesson_id, answer.step_id)].append(
            Attempt(answer.passed, met, len(verdicts))
        )
    recalled = {
        (c.course_id, c.lesson_id, c.step_id): c.successes
        for c in session.scalars(select(ReviewCard).where(ReviewCard.user_id == uid))
    }
    courses = []
    for enrolment in session.scalars(
        select(Enrolment).where(Enrolment.user_id == uid).order_by(Enrolment.id)
    ):
        course = library.courses.get(enrolment.course_id)
        if course is not None:
            done = completion(course, finished[course.id])
            courses.append(CourseProgress(course, done, enrolment.started_at, enrolment.completed_at))
    checkpoints = []
    for progress in courses:
        for lesson in progress.course.lessons:
            for step in lesson.steps:
                key = (progress.course.id, lesson.id, step.id)
                if step.checkpoint:
                    known = mastery(attempts.get(key, []), recalled.get(key, 0))
                    checkpoints.append(CheckpointMastery(progress.course, lesson.id, step.id, known))
    days = local_days(moments, tz)
    work = Work(
        steps=sum(len(steps) for steps in finished.values()),
        answers=len(answers),
        voice_answers=sum(1 for a in answers if a.audio_path),
        first_try_passes=sum(1 for tries in attempts.values() if tries[0].passed),
        lessons=sum(len(p.completion.lessons_done) for p in courses),
        courses=sum(1 for p in courses if p.completed_at),
        best_streak=best_streak(days),
    )
    certificates = list(
        session.scalars(select(Certificate).where(Certificate.user_id == uid).order_by(Certificate.id))
    )
    today = now.astimezone(tz).date()
    return LearnerRecord(
        user, streak(days, today), work.best_streak, badges(work), courses, checkpoints, certificates
    )

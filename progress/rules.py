"""Progress rules, pure and clock-free: completion, streaks, badges, mastery, status, review spacing."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from lessons.course import Course

DEFAULT_ZONE = "Africa/Casablanca"
AT_RISK_AFTER = timedelta(days=7)
"""A learner with an unfinished course and no message for this long is at risk of dropping out."""
DROPPED_AFTER = timedelta(days=30)
"""After this long without a message, a learner with an unfinished course has dropped out."""
REVIEW_INTERVALS_DAYS = (1, 3, 7, 16, 35, 90)
"""Days until a checkpoint is asked again, by how many times in a row it was remembered."""


def zone(name: str | None) -> ZoneInfo:
    """The time zone named `name`, Casablanca when unset or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@dataclass(frozen=True)
class Completion:
    """How far a learner is in one course, from the set of steps they finished."""

    steps_done: int
    steps_total: int
    lessons_done: tuple[str, ...]
    course_done: bool


def completion(course: Course, finished: Collection[tuple[str, str]]) -> Completion:
    """Steps, lessons and course finished, given finished (lesson id, step id) pairs."""
    lessons_done = tuple(
        lesson.id for lesson in course.lessons if all((lesson.id, s.id) in finished for s in lesson.steps)
    )
    steps = [(lesson.id, s.id) for lesson in course.lessons for s in lesson.steps]
    done = sum(1 for step in steps if step in finished)
    return Completion(done, len(steps), lessons_done, len(lessons_done) == len(course.lessons))


def local_days(instants: Iterable[datetime], tz: ZoneInfo) -> set[date]:
    """The calendar days, in `tz`, on which these moments fall."""
    return {moment.astimezone(tz).date() for moment in instants}


def streak(days: Collection[date], today: date) -> int:
    """Consecutive days of work ending today, or yesterday while today is not over."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def best_streak(days: Collection[date]) -> int:
    """The longest run of consecutive days of work."""
    best = 0
    for day in days:
        if day - timedelta(days=1) in days:
            continue  # not the start of a run
        length = 1
        while day + timedelta(days=length) in days:
            length += 1
        best = max(best, length)
    return best


@dataclass(frozen=True)
class Work:
    """What a learner has actually done, the facts badges are given for."""

    steps: int = 0
    answers: int = 0
    voice_answers: int = 0
    first_try_passes: int = 0
    lessons: int = 0
    courses: int = 0
    best_streak: int = 0


BADGE_RULES: tuple[tuple[str, int, str], ...] = (
    ("first_step", 1, "steps"),
    ("first_answer", 1, "answers"),
    ("voice", 1, "voice_answers"),
    ("lesson", 1, "lessons"),
    ("sharp", 5, "first_try_passes"),
    ("streak_3", 3, "best_streak"),
    ("streak_7", 7, "best_streak"),
    ("streak_30", 30, "best_streak"),
    ("course", 1, "courses"),
)
"""Badge code, threshold and the fact it counts; in the order they are usually earned."""
BADGES = tuple(code for code, _, _ in BADGE_RULES)


def badges(work: Work) -> list[str]:
    """The badges earned by this work (once earned, kept: every fact only grows)."""
    return [code for code, threshold, fact in BADGE_RULES if getattr(work, fact) >= threshold]


class Level(StrEnum):
    """How well a checkpoint is known."""

    NOT_STARTED = "not_started"
    LEARNING = "learning"
    PASSED = "passed"
    MASTERED = "mastered"


@dataclass(frozen=True)
class Attempt:
    """One answer to a checkpoint: its outcome (None while a person decides) and key points met."""

    passed: bool | None
    met: int
    total: int


@dataclass(frozen=True)
class Mastery:
    """A checkpoint's level and the best share of key points said in one answer."""

    level: Level
    score: float


def mastery(attempts: Sequence[Attempt], review_successes: int = 0) -> Mastery:
    """Mastery of one checkpoint from its answers (oldest first) and later spaced reviews remembered."""
    if not attempts:
        return Mastery(Level.NOT_STARTED, 0.0)
    score = max((a.met / a.total for a in attempts if a.total), default=0.0)
    if not any(a.passed for a in attempts):
        return Mastery(Level.LEARNING, score)
    first_try = attempts[0].passed is True
    if review_successes >= 2 or (first_try and review_successes >= 1):
        return Mastery(Level.MASTERED, score)
    return Mastery(Level.PASSED, score)


class Status(StrEnum):
    """Where a learner stands, for trainers: exactly one of these at a time."""

    ACTIVE = "active"
    AT_RISK = "at_risk"
    DROPPED = "dropped"
    COMPLETED = "completed"
    NOT_STARTED = "not_started"


def learner_status(last_active: datetime, *, unfinished: bool, completed: bool, now: datetime) -> Status:
    """Completed (every course they began is done), else active, at risk, dropped, or not started."""
    if completed and not unfinished:
        return Status.COMPLETED
    quiet = now - last_active
    if quiet < AT_RISK_AFTER:
        return Status.ACTIVE
    if not unfinished:
        return Status.NOT_STARTED
    return Status.AT_RISK if quiet < DROPPED_AFTER else Status.DROPPED


def review_interval(successes: int) -> timedelta:
    """The wait before a checkpoint remembered `successes` times in a row is asked again."""
    index = min(max(successes, 0), len(REVIEW_INTERVALS_DAYS) - 1)
    return timedelta(days=REVIEW_INTERVALS_DAYS[index])


def after_review(successes: int, *, remembered: bool, now: datetime) -> tuple[int, datetime]:
    """Success count and due time after a review: remembering grows the wait, forgetting restarts it."""
    count = successes + 1 if remembered else 0
    return count, now + review_interval(count)

"""Progress rules with a controlled clock: completion, Casablanca-day streaks, badges, mastery, spacing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lessons.content import load_library
from progress.rules import (
    BADGES,
    Attempt,
    Level,
    Status,
    Work,
    after_review,
    badges,
    best_streak,
    completion,
    learner_status,
    local_days,
    mastery,
    review_interval,
    streak,
    zone,
)
from tests.conftest import CONTENT

CASABLANCA = ZoneInfo("Africa/Casablanca")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_step_lesson_and_course_completion() -> None:
    course = load_library(CONTENT).courses["zellige"]
    first = course.lessons[0]
    assert completion(course, set()) == completion(course, set())
    some = {(first.id, first.steps[0].id)}
    assert completion(course, some).steps_done == 1
    assert completion(course, some).lessons_done == ()
    lesson_one = {(first.id, s.id) for s in first.steps}
    assert completion(course, lesson_one).lessons_done == (first.id,)
    assert not completion(course, lesson_one).course_done
    everything = {(lesson.id, s.id) for lesson in course.lessons for s in lesson.steps}
    done = completion(course, everything | {("gone", "step")})
    assert done.course_done and done.steps_done == done.steps_total == len(everything)


def test_a_streak_counts_casablanca_days_across_midnight() -> None:
    # 22:30 UTC is 23:30 in Casablanca (UTC+1 in November): the same local day as 23:50 local
    late = utc(2026, 11, 20, 22, 30)
    after_midnight = utc(2026, 11, 20, 23, 10)  # 00:10 on the 21st in Casablanca, still the 20th in UTC
    days = local_days([late, after_midnight], CASABLANCA)
    assert days == {date(2026, 11, 20), date(2026, 11, 21)}
    assert local_days([late, after_midnight], ZoneInfo("UTC")) == {date(2026, 11, 20)}
    assert streak(days, date(2026, 11, 21)) == 2
    assert streak(days, date(2026, 11, 22)) == 2  # today is not over: yesterday keeps the streak alive
    assert streak(days, date(2026, 11, 23)) == 0
    assert streak(set(), date(2026, 11, 23)) == 0


def test_casablanca_days_follow_the_ramadan_clock_change() -> None:
    # Morocco keeps GMT in Ramadan: 23:30 UTC is 00:30 the next day before it, 23:30 the same day during it
    before = utc(2026, 2, 10, 23, 30)
    during = utc(2026, 3, 1, 23, 30)
    assert local_days([before], CASABLANCA) == {date(2026, 2, 11)}
    assert local_days([during], CASABLANCA) == {date(2026, 3, 1)}


def test_best_streak_is_the_longest_run() -> None:
    start = date(2026, 1, 1)
    days = {start + timedelta(days=n) for n in (0, 1, 2, 5, 6, 7, 8, 20)}
    assert best_streak(days) == 4
    assert best_streak(set()) == 0


def test_badges_reward_real_work_only() -> None:
    assert badges(Work()) == []
    assert badges(Work(steps=1, answers=1)) == ["first_step", "first_answer"]
    everything = badges(
        Work(steps=50, answers=20, voice_answers=3, first_try_passes=5, lessons=3, courses=1, best_streak=30)
    )
    assert everything == list(BADGES)
    assert "streak_7" not in badges(Work(best_streak=6))


@pytest.mark.parametrize(
    ("attempts", "recalled", "level", "score"),
    [
        ([], 0, Level.NOT_STARTED, 0.0),
        ([Attempt(False, 1, 3)], 0, Level.LEARNING, 1 / 3),
        ([Attempt(None, 2, 3)], 0, Level.LEARNING, 2 / 3),
        ([Attempt(False, 1, 3), Attempt(True, 3, 3)], 0, Level.PASSED, 1.0),
        ([Attempt(False, 1, 3), Attempt(True, 3, 3)], 1, Level.PASSED, 1.0),
        ([Attempt(False, 1, 3), Attempt(True, 3, 3)], 2, Level.MASTERED, 1.0),
        ([Attempt(True, 2, 3)], 1, Level.MASTERED, 2 / 3),
    ],
)
def test_mastery_per_checkpoint(attempts: list[Attempt], recalled: int, level: Level, score: float) -> None:
    found = mastery(attempts, recalled)
    assert found.level == level and found.score == pytest.approx(score)


def test_status_is_one_of_active_at_risk_dropped_completed_not_started() -> None:
    now = utc(2026, 11, 22, 12)
    assert learner_status(now - timedelta(days=1), unfinished=True, completed=False, now=now) == Status.ACTIVE
    assert (
        learner_status(now - timedelta(days=8), unfinished=True, completed=False, now=now) == Status.AT_RISK
    )
    assert (
        learner_status(now - timedelta(days=31), unfinished=True, completed=True, now=now) == Status.DROPPED
    )
    assert (
        learner_status(now - timedelta(days=90), unfinished=False, completed=True, now=now)
        == Status.COMPLETED
    )
    assert (
        learner_status(now - timedelta(days=9), unfinished=False, completed=False, now=now)
        == Status.NOT_STARTED
    )
    assert learner_status(now, unfinished=False, completed=False, now=now) == Status.ACTIVE


def test_review_intervals_grow_with_each_success_and_restart_after_a_miss() -> None:
    now = utc(2026, 11, 22, 12)
    waits = []
    count = 0
    for _ in range(7):
        count, due = after_review(count, remembered=True, now=now)
        waits.append((due - now).days)
    assert waits == [3, 7, 16, 35, 90, 90, 90]
    assert waits == sorted(waits)
    assert after_review(4, remembered=False, now=now) == (0, now + timedelta(days=1))
    assert review_interval(0) == timedelta(days=1)


def test_unknown_time_zones_fall_back_to_casablanca() -> None:
    assert zone(None) == CASABLANCA
    assert zone("Mars/Olympus") == CASABLANCA
    assert zone("Europe/Paris") == ZoneInfo("Europe/Paris")

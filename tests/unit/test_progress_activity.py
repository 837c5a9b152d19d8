"""The activity chart's numbers: rolled up per Casablanca day by a sweep, plus the rest, never twice."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bot.app import App
from progress.models import ActivityDay, Answer, Enrolment, StepProgress, User
from progress.reports import activity, funnels, overview
from progress.rollups import roll_up_activity
from progress.scope import Scope

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def seed(app: App) -> tuple[int, int]:
    """Two learners in two cooperatives; answers and steps at known moments, one just after local midnight."""
    with app.sessions() as session:
        fes = User(stage="ready", region_code="fes-meknes", cooperative_code="FES-ZEL-01", last_active_at=NOW)
        far = User(stage="ready", region_code="marrakech-safi", last_active_at=NOW - timedelta(days=10))
        session.add_all([fes, far])
        session.flush()
        moments = [NOW - timedelta(days=d, hours=h) for d in range(3) for h in (1, 2)]
        moments.append(datetime(2026, 11, 20, 23, 30, tzinfo=UTC))  # 00:30 on the 21st in Casablanca
        rows = [
            {"user_id": uid, "course_id": "zellige", "lesson_id": "cutting", "step_id": "s", "created_at": at}
            for uid in (fes.id, far.id)
            for at in moments
        ]
        session.execute(insert(Answer), rows)
        session.add(
            StepProgress(
                user_id=fes.id, course_id="zellige", lesson_id="cutting", step_id="a", completed_at=NOW
            )
        )
        session.add(
            Enrolment(user_id=fes.id, course_id="zellige", lesson_id="cutting", step_index=2, updated_at=NOW)
        )
        session.add(
            Enrolment(
                user_id=far.id,
                course_id="zellige",
                lesson_id="cutting",
                completed_at=NOW,
                updated_at=NOW - timedelta(days=10),
            )
        )
        session.commit()
        return fes.id, far.id


def counts(app: App, scope: Scope) -> dict[date, tuple[int, int]]:
    with app.sessions() as session:
        return {
            d.day: (d.answers, d.steps)
            for d in activity(session, scope, NOW, CASABLANCA, days=5)
            if d.answers
        }


def test_rolled_up_and_live_counts_agree_per_scope_and_local_day(app: App) -> None:
    seed(app)
    everything, fes = Scope(everything=True), Scope(cooperative="FES-ZEL-01")
    live = counts(app, everything), counts(app, fes)
    # the answers at 23:30 UTC on the 20th were given at 00:30 on the 21st in Casablanca
    assert live[0] == {date(2026, 11, 21): (6, 0), date(2026, 11, 22): (4, 0), date(2026, 11, 23): (4, 1)}
    assert live[1] == {date(2026, 11, 21): (3, 0), date(2026, 11, 22): (2, 0), date(2026, 11, 23): (2, 1)}
    assert roll_up_activity(app.sessions, CASABLANCA) == 15
    assert roll_up_activity(app.sessions, CASABLANCA) == 0  # nothing new
    assert (counts(app, everything), counts(app, fes)) == live
    with app.sessions() as session:
        session.add(Answer(user_id=1, course_id="zellige", lesson_id="cutting", step_id="s", created_at=NOW))
        session.commit()
    assert counts(app, fes)[date(2026, 11, 23)][0] == live[1][date(2026, 11, 23)][0] + 1  # the tail is live
    assert counts(app, Scope(region="marrakech-safi"))[date(2026, 11, 21)] == (3, 0)
    assert counts(app, Scope()) == {}


def test_two_rollups_at_once_count_each_row_once(app: App) -> None:
    seed(app)
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        roll_up_activity(app.sessions, CASABLANCA, batch=3)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.sessions() as session:
        assert session.scalar(select(func.sum(ActivityDay.answers))) == 14
        assert session.scalar(select(func.sum(ActivityDay.steps))) == 1


def test_overview_and_funnels_count_each_learner_once(app: App) -> None:
    seed(app)
    with app.sessions() as session:
        numbers = overview(session, Scope(everything=True), NOW)
        assert (numbers.learners, numbers.active, numbers.at_risk, numbers.completions) == (2, 1, 0, 1)
        [zellige] = funnels(session, Scope(everything=True), app.library, NOW)
        assert (zellige.enrolled, zellige.completed) == (2, 1)
        assert zellige.steps[2].reached == 2 and zellige.steps[3].reached == 1
        assert zellige.steps[2].stopped == 0
        [mine] = funnels(session, Scope(cooperative="FES-ZEL-01"), app.library, NOW)
        assert (mine.enrolled, mine.completed) == (1, 0)
        assert funnels(session, Scope(cooperative="MRK-TAD-01"), app.library, NOW) == []

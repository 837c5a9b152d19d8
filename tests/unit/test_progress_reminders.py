"""Reminder, review and digest sweeps with frozen time: the right people, at decent hours, exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from bot.app import App, build_app
from bot.memory import CHANNEL, MemorySender
from bot.settings import Settings
from lessons.i18n import Catalog
from lessons.languages import Lang
from progress.accounts import add_trainer
from progress.db import make_engine, session_factory
from progress.models import (
    Answer,
    ChannelIdentity,
    Enrolment,
    OutboundMessage,
    Question,
    ReminderClaim,
    ReviewCard,
    Role,
    User,
)
from progress.reminders import Sweeper, recall
from progress.schedule import DEFAULT_FILE, load_calendar
from tests.conftest import CONTENT

CASABLANCA = ZoneInfo("Africa/Casablanca")
CALENDAR = load_calendar(CONTENT / DEFAULT_FILE)
MONDAY = datetime(2026, 11, 23, 10, 30, tzinfo=CASABLANCA).astimezone(UTC)
"""A Monday morning in Casablanca, in November (UTC+1)."""


def sweeper(app: App, **options: int | timedelta) -> Sweeper:
    return Sweeper(
        app.sessions,
        app.library,
        app.catalog,
        app.notifier,
        CALENDAR,
        dashboard_url="https://m.ma",
        **options,
    )


def add_learner(
    app: App,
    name: str,
    *,
    silent_days: float,
    now: datetime = MONDAY,
    stage: str = "ready",
    paused: bool = False,
    zone: str | None = None,
    completed: bool = False,
    language: str = "fr",
) -> int:
    """A learner who last wrote `silent_days` ago, with a chat and an enrolment in zellige."""
    lesson = app.library.courses["zellige"].lessons[0].id
    with app.sessions() as session:
        user = User(
            display_name=name,
            language=language,
            stage=stage,
            reminders_paused=paused,
            timezone=zone,
            current_course_id="zellige",
            last_active_at=now - timedelta(days=silent_days),
        )
        session.add(user)
        session.flush()
        session.add(ChannelIdentity(user_id=user.id, channel=CHANNEL, external_id=name))
        session.add(
            Enrolment(
                user_id=user.id,
                course_id="zellige",
                lesson_id=lesson,
                completed_at=now if completed else None,
            )
        )
        session.commit()
        return user.id


def queued(app: App, kind: str) -> list[str]:
    """Chat ids with a queued message of this kind, in order."""
    with app.sessions() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        return [row.chat_id for row in rows if row.payload["meta"].get("kind") == kind]


async def test_reminders_reach_the_quiet_learners_once_at_decent_hours(
    app: App, memory: MemorySender
) -> None:
    for name, days in (("fresh", 1), ("three", 3.2), ("eight", 8), ("gone", 20)):
        add_learner(app, name, silent_days=days)
    add_learner(app, "paused", silent_days=5, paused=True)
    add_learner(app, "onboarding", silent_days=5, stage="consent")
    add_learner(app, "finished", silent_days=5, completed=True)
    add_learner(app, "new-york", silent_days=5, zone="America/New_York")
    sweep = sweeper(app)
    assert sweep.reminders(MONDAY) == 3
    assert sorted(queued(app, "reminder")) == ["eight", "finished", "three"]
    assert sweep.reminders(MONDAY) == 0  # ran twice: nothing more
    assert sweep.reminders(MONDAY + timedelta(days=1)) == 0  # the same silences, past the same thresholds
    assert sweep.reminders(MONDAY + timedelta(days=4)) == 3  # fresh reaches 3 days; three and finished, 7
    await app.outbox.flush()
    [resume, *_] = memory.sent["three"]
    assert "Le zellige de Fès" in resume.text and resume.meta["kind"] == "reminder"
    assert [c.data for c in resume.choices] == ["course:zellige", "pause"]
    choose = memory.sent["finished"][0]
    assert [c.data for c in choose.choices] == ["courses", "pause"]
    # New York wakes up later: 15:00 there is 21:00 in Casablanca
    afternoon_in_new_york = datetime(2026, 11, 23, 15, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert sweep.reminders(afternoon_in_new_york) == 1
    assert queued(app, "reminder")[-1] == "new-york"


@pytest.mark.parametrize("hour", [6, 13, 22])
def test_no_reminder_at_night_or_prayer_time(app: App, hour: int) -> None:
    add_learner(app, "three", silent_days=3.5)
    moment = datetime(2026, 11, 23, hour, 30, tzinfo=CASABLANCA).astimezone(UTC)
    assert sweeper(app).reminders(moment) == 0
    assert sweeper(app).reminders(moment.replace(hour=13, minute=10)) == 1  # 14:10 in Casablanca


def test_ramadan_reminds_less_and_reviews_wait(app: App) -> None:
    ramadan = datetime(2026, 3, 2, 11, tzinfo=CASABLANCA).astimezone(UTC)
    add_learner(app, "three", silent_days=3.5, now=ramadan)
    eight = add_learner(app, "eight", silent_days=8, now=ramadan)
    with app.sessions() as session:
        session.add(
            ReviewCard(user_id=eight, course_id="zellige", lesson_id="cutting", step_id="x", due_at=ramadan)
        )
        session.commit()
    sweep = sweeper(app)
    assert sweep.reminders(ramadan) == 1
    assert queued(app, "reminder") == ["eight"]
    assert sweep.reviews(ramadan) == 0
    assert sweep.reminders(ramadan.replace(hour=17)) == 0  # before iftar


def test_two_sweeps_at_once_never_send_a_reminder_twice(settings: Settings, database_url: str) -> None:
    app = build_app(
        settings.model_copy(update={"database_url": database_url}), senders={CHANNEL: MemorySender()}
    )
    with app.sessions() as session:
        session.execute(
            insert(User),
            [
                {
                    "display_name": f"l{n}",
                    "language": "fr",
                    "stage": "ready",
                    "last_active_at": MONDAY - timedelta(days=4),
                }
                for n in range(300)
            ],
        )
        ids = session.scalars(select(User.id)).all()
        session.execute(
            insert(ChannelIdentity), [{"user_id": i, "channel": CHANNEL, "external_id": f"c{i}"} for i in ids]
        )
        session.commit()
    engines = [make_engine(database_url) for _ in range(2)]
    sweepers = [
        Sweeper(session_factory(e), app.library, Catalog(), app.notifier, CALENDAR, batch=40) for e in engines
    ]
    counts: list[int] = []
    start = threading.Barrier(2)

    def run(sweep: Sweeper) -> None:
        start.wait()
        counts.append(sweep.reminders(MONDAY))

    threads = [threading.Thread(target=run, args=(s,)) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 300
    assert len(queued(app, "reminder")) == len(set(queued(app, "reminder"))) == 300
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReminderClaim)) == 300
    for engine in engines:
        engine.dispose()
    app.close()


async def test_spaced_reviews_come_back_later_each_time_they_are_remembered(
    app: App, memory: MemorySender
) -> None:
    uid = add_learner(app, "reviewer", silent_days=0)
    course = app.library.courses["zellige"]
    lesson = course.lessons[0]
    step = next(s for s in lesson.steps if s.checkpoint)
    passed_at = MONDAY - timedelta(hours=1)
    with app.sessions() as session:
        session.add(
            Answer(
                user_id=uid,
                course_id="zellige",
                lesson_id=lesson.id,
                step_id=step.id,
                passed=True,
                created_at=passed_at,
            )
        )
        session.add(
            Answer(user_id=uid, course_id="zellige", lesson_id=lesson.id, step_id="other", passed=False)
        )
        session.commit()
    sweep = sweeper(app)
    assert sweep.reviews(MONDAY) == 0  # not due before a day has passed
    tomorrow = MONDAY + timedelta(days=1)
    assert sweep.reviews(tomorrow) == 1
    assert sweep.reviews(tomorrow + timedelta(hours=2)) == 0  # one review a day at most
    await app.outbox.flush()
    [prompt] = memory.sent["reviewer"]
    assert prompt.meta["kind"] == "review" and "Petite révision" in prompt.text
    with app.sessions() as session:
        card = session.scalars(select(ReviewCard)).one()
        assert [c.data for c in prompt.choices] == [f"review:{card.id}:1", f"review:{card.id}:0"]
        answered = tomorrow + timedelta(minutes=5)
        key, params = recall(session, app.library, uid, f"{card.id}:1", lang=Lang.FRENCH, now=answered) or (
            "",
            {},
        )
        assert key == "review.remembered" and params["days"] == 3
        assert (card.successes, card.due_at) == (1, answered + timedelta(days=3))
        recall(session, app.library, uid, f"{card.id}:1", lang=Lang.FRENCH, now=answered)  # a second press
        assert card.successes == 1
        assert recall(session, app.library, uid + 1, f"{card.id}:1", lang=Lang.FRENCH, now=answered) is None
        assert recall(session, app.library, uid, "nonsense", lang=Lang.FRENCH, now=answered) is None
        session.commit()
    assert sweep.reviews(tomorrow + timedelta(days=1)) == 0
    later = tomorrow + timedelta(days=3, hours=1)
    assert sweep.reviews(later) == 1
    with app.sessions() as session:
        card = session.scalars(select(ReviewCard)).one()
        key, _ = recall(session, app.library, uid, f"{card.id}:0", lang=Lang.FRENCH, now=later) or ("", {})
        assert key == "review.forgot" and (card.successes, card.due_at) == (0, later + timedelta(days=1))


async def test_the_weekly_digest_reaches_trainers_and_masters_once(app: App, memory: MemorySender) -> None:
    add_learner(app, "active", silent_days=1)
    quiet = add_learner(app, "quiet", silent_days=10)
    with app.sessions() as session:
        session.get_one(User, quiet).preferred_name = "Salma Idrissi"
        add_trainer(session, "samira", "a long password", cooperative="FES-ZEL-01", chat=(CHANNEL, "samira"))
        add_trainer(session, "admin", "a long password", admin=True, chat=(CHANNEL, "admin"))
        master = User(
            role=Role.MASTER,
            display_name="Abdelhaq",
            language="ary",
            author_id="maalem-abdelhaq",
            stage="ready",
        )
        session.add(master)
        session.flush()
        session.add(ChannelIdentity(user_id=master.id, channel=CHANNEL, external_id="master"))
        session.commit()
    sweep = sweeper(app)
    assert sweep.digests(MONDAY) == 3
    assert sweep.digests(MONDAY + timedelta(hours=1)) == 0
    assert sweep.digests(MONDAY + timedelta(days=1)) == 0
    assert sweep.digests(MONDAY + timedelta(days=7)) == 3
    await app.outbox.flush()
    admin = memory.sent["admin"][0].text
    assert (
        "1 apprentis actifs" in admin
        and "1 apprentis en risque" in admin
        and "https://m.ma/dashboard/" in admin
    )
    assert admin.endswith(
        "en risque d'abandon, 0 réponses à revoir.\n⚠️ À rappeler : Salma Idrissi\nhttps://m.ma/dashboard/"
    )
    assert "0 apprentis actifs" in memory.sent["samira"][0].text  # nobody in her cooperative yet
    assert "À rappeler" not in memory.sent["samira"][0].text
    assert memory.sent["master"][0].lang == "ary" and memory.sent["master"][0].meta["kind"] == "digest"


async def test_questions_unanswered_past_the_delay_are_flagged_in_trainers_digests(
    app: App, memory: MemorySender
) -> None:
    learner = add_learner(app, "asker", silent_days=1)
    with app.sessions() as session:
        add_trainer(session, "admin", "a long password", admin=True, chat=(CHANNEL, "admin"))
        add_trainer(session, "samira", "a long password", cooperative="FES-ZEL-01", chat=(CHANNEL, "samira"))
        at = {"user_id": learner, "course_id": "zellige", "lesson_id": "cutting", "step_id": "tools"}
        for days, answered in ((5, False), (4, False), (1, False), (9, True)):
            session.add(
                Question(
                    **at,
                    text="?",
                    created_at=MONDAY - timedelta(days=days),
                    answered_at=MONDAY if answered else None,
                )
            )
        session.commit()
    assert sweeper(app, question_overdue=timedelta(days=3)).digests(MONDAY) == 2
    await app.outbox.flush()
    admin = [m.text for m in memory.sent["admin"]]
    assert admin[1] == app.catalog.t(
        Lang.FRENCH,
        "digest.questions_overdue",
        {"count": 2, "days": 3, "url": "https://m.ma/dashboard/questions"},
    )
    assert len(memory.sent["samira"]) == 1  # none of her learners asked anything

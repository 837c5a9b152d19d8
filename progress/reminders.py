"""Sweeps that bring learners back: inactivity reminders, spaced reviews and the weekly digest (with the
learners' questions left unanswered too long).

A few periodic jobs each select who is due, in batches (memory stays flat), claim one row per (user,
kind, period) in the database and queue the message in the outbox in the same transaction: a sweep run
twice, or in two processes at once, never sends anything twice, and a crash mid-batch loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from lessons.content import Library
from lessons.i18n import Catalog
from lessons.languages import Lang, pick
from lessons.messages import Choice
from progress.db import dialect_insert
from progress.models import (
    Answer,
    Enrolment,
    ReminderClaim,
    ReviewCard,
    Role,
    SweepMark,
    User,
    utcnow,
)
from progress.notify import Notifier, language_of
from progress.questions import waiting
from progress.reports import at_risk_names, week_summary
from progress.rollups import roll_up_activity
from progress.rules import after_review, review_interval, zone
from progress.schedule import Calendar
from progress.scope import Scope

log = logging.getLogger(__name__)
GRACE = timedelta(days=2)
"""A learner silent this long past the last reminder threshold is not reminded any more."""
CARDS_MARK = "review_cards"


@dataclass(frozen=True)
class Due:
    """A learner due a reminder, and the silence it is for (their last message, the threshold passed)."""

    user_id: int
    period: str


def claim(session: Session, kind: str, wanted: Sequence[tuple[int, str]], now: datetime) -> set[int]:
    """Claim (user, period) pairs for `kind`; the users whose claim is new (only they get a message)."""
    if not wanted:
        return set()
    rows = [{"user_id": uid, "kind": kind, "period": period, "created_at": now} for uid, period in wanted]
    statement = (
        dialect_insert(session)(ReminderClaim)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "period"])
        .returning(ReminderClaim.user_id)
    )
    return set(session.scalars(statement))


def add_cards(session: Session, passed: Sequence[tuple[int, str, str, str, datetime]]) -> None:
    """Start spaced review of checkpoints passed: (user, course, lesson, step, when); known ones are kept."""
    if not passed:
        return
    first = review_interval(0)
    rows = [
        {"user_id": u, "course_id": c, "lesson_id": les, "step_id": s, "successes": 0, "due_at": at + first}
        for u, c, les, s, at in passed
    ]
    session.execute(
        dialect_insert(session)(ReviewCard)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "course_id", "lesson_id", "step_id"])
    )


class Sweeper:
    """The reminder, review and digest sweeps over one database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        library: Library,
        catalog: Catalog,
        notifier: Notifier,
        calendar: Calendar,
        *,
        default_zone: str = "Africa/Casablanca",
        dashboard_url: str = "",
        batch: int = 1000,
        question_overdue: timedelta = timedelta(days=3),
    ) -> None:
        self.sessions = sessions
        self.library = library
        self.catalog = catalog
        self.notifier = notifier
        self.calendar = calendar
        self.default_zone = default_zone
        self.dashboard_url = dashboard_url
        self.batch = batch
        self.question_overdue = question_overdue
        """Questions unanswered this long are flagged in the digest."""

    def _zones(self, session: Session) -> list[str | None]:
        return list(session.scalars(select(distinct(User.timezone)).where(User.role == Role.APPRENTICE)))

    def _in_zone(self, name: str | None) -> ColumnElement[bool]:
        if name is None or name == self.default_zone:
            return or_(User.timezone.is_(None), User.timezone == self.default_zone)
        return User.timezone == name

    def _learners(self, name: str | None) -> ColumnElement[bool]:
        return and_(
            User.role == Role.APPRENTICE,
            User.stage == "ready",
            User.reminders_paused.is_(False),
            self._in_zone(name),
        )

    def _open_zones(self, session: Session, now: datetime, *, reviews: bool = False) -> Iterator[str | None]:
        """Zones where it is now a decent time to write (and, for reviews, where reviews are on)."""
        seen: set[str] = set()
        for name in self._zones(session):
            key = name or self.default_zone
            if key in seen:
                continue
            seen.add(key)
            local = now.astimezone(zone(key))
            if self.calendar.allows(local) and (not reviews or self.calendar.timetable(local.date()).reviews):
                yield name

    def due_reminders(self, session: Session, now: datetime) -> Iterator[list[Due]]:
        """Learners due an inactivity reminder now, in batches, ordered by their last message.

        Only the `ix_users_active` index is read (it covers the query); the database works out which
        threshold each learner passed, and the last message's time stays as the driver gives it.
        """
        connection = session.connection()
        for name in self._open_zones(session, now):
            thresholds = sorted(self.calendar.timetable(now.astimezone(zone(name)).date()).inactive_days)
            passed = (
                case(
                    *((User.last_active_at <= now - timedelta(days=t), t) for t in reversed(thresholds[1:])),
                    else_=thresholds[0],
                )
                if len(thresholds) > 1
                else literal(thresholds[0])
            )
            stamp = type_coerce(User.last_active_at, String)
            query = (
                select(User.id, stamp, passed)
                .where(self._learners(name), User.last_active_at <= now - timedelta(days=thresholds[0]))
                .order_by(User.last_active_at, User.id)
                .limit(self.batch)
            )
            # the next page starts where the last one ended: the index range begins there, so every page
            # costs the same; its time is bound as the driver gave it (text on SQLite, a datetime elsewhere)
            kind: TypeEngine[Any] = String() if connection.dialect.name == "sqlite" else DateTime(True)
            seen: BindParameter[Any] = bindparam("seen", type_=kind)
            following = query.where(stamp >= seen, tuple_(stamp, User.id) > tuple_(seen, bindparam("uid")))
            rows = connection.execute(
                query.where(User.last_active_at >= now - timedelta(days=thresholds[-1]) - GRACE)
            ).all()
            while rows:
                yield [Due(uid, f"{last}/{threshold}") for uid, last, threshold in rows]
                rows = connection.execute(following, {"seen": rows[-1][1], "uid": rows[-1][0]}).all()

    def reminders(self, now: datetime | None = None) -> int:
        """Queue one reminder to each learner silent past a threshold, at a decent hour; returns how many."""
        now = now or utcnow()
        sent = 0
        with self.sessions() as reader:
            for batch in self.due_reminders(reader, now):
                with self.sessions() as session, session.no_autoflush:
                    claimed = claim(session, "reminder", [(d.user_id, d.period) for d in batch], now)
                    users = session.scalars(select(User).where(User.id.in_(claimed))).all()
                    unfinished = set(
                        session.execute(
                            select(Enrolment.user_id, Enrolment.course_id).where(
                                Enrolment.user_id.in_(claimed), Enrolment.completed_at.is_(None)
                            )
                        ).tuples()
                    )
                    for user in users:
                        resume = (user.id, user.current_course_id) in unfinished
                        self._remind(session, user, user.current_course_id if resume else None)
                    sent += len(users)
                    session.commit()
        if sent:
            log.info("queued %d inactivity reminders", sent)
        return sent

    def _lang(self, code: str | None) -> Lang:
        return Lang(code) if code in set(Lang) else Lang.DARIJA

    def _remind(self, session: Session, user: User, course_id: str | None) -> None:
        """A reminder to resume their unfinished course, or to choose one."""
        lang = self._lang(user.language)
        pause = Choice(self.catalog.t(lang, "button.pause"), "pause")
        course = self.library.courses.get(course_id or "")
        if course is None:
            choices = (Choice(self.catalog.t(lang, "button.courses"), "courses"), pause)
            self.notifier.notify(session, user.id, "reminder.choose", kind="reminder", choices=choices)
            return
        title = pick(dict(course.title), lang)[0]
        choices = (Choice(self.catalog.t(lang, "button.resume"), f"course:{course.id}"), pause)
        self.notifier.notify(
            session, user.id, "reminder.resume", {"course": title}, kind="reminder", choices=choices
        )

    def advance_cards(self) -> int:
        """Turn answers passed since the last sweep into review cards; returns how many answers were read."""
        read = 0
        while True:
            with self.sessions() as session:
                mark = session.get(SweepMark, CARDS_MARK)
                start = mark.value if mark else 0
                rows = session.execute(
                    select(
                        Answer.id,
                        Answer.user_id,
                        Answer.course_id,
                        Answer.lesson_id,
                        Answer.step_id,
                        Answer.created_at,
                    )
                    .where(Answer.id > start, Answer.passed.is_(True))
                    .order_by(Answer.id)
                    .limit(self.batch * 5)
                ).all()
                if not rows:
                    return read
                add_cards(
                    session, [(r.user_id, r.course_id, r.lesson_id, r.step_id, r.created_at) for r in rows]
                )
                if mark is None:
                    session.execute(
                        dialect_insert(session)(SweepMark)
                        .values(name=CARDS_MARK, value=0)
                        .on_conflict_do_nothing()
                    )
                session.execute(
                    update(SweepMark)
                    .where(SweepMark.name == CARDS_MARK, SweepMark.value < rows[-1].id)
                    .values(value=rows[-1].id)
                )
                session.commit()
                read += len(rows)

    def due_reviews(self, session: Session, now: datetime) -> Iterator[list[tuple[int, int]]]:
        """(learner, card) pairs due for a spaced review now, one card per learner, in batches."""
        for name in self._open_zones(session, now, reviews=True):
            after = 0
            while True:
                rows = (
                    session.execute(
                        select(ReviewCard.user_id, func.min(ReviewCard.id))
                        .join(User, User.id == ReviewCard.user_id)
                        .where(self._learners(name), ReviewCard.due_at <= now, ReviewCard.user_id > after)
                        .group_by(ReviewCard.user_id)
                        .order_by(ReviewCard.user_id)
                        .limit(self.batch)
                    )
                    .tuples()
                    .all()
                )
                if not rows:
                    break
                after = rows[-1][0]
                yield list(rows)

    def reviews(self, now: datetime | None = None) -> int:
        """Queue at most one spaced review a day to each learner with a card due; returns how many."""
        now = now or utcnow()
        self.advance_cards()
        sent = 0
        with self.sessions() as reader:
            for batch in self.due_reviews(reader, now):
                with self.sessions() as session:
                    users = {
                        u.id: u
                        for u in session.scalars(select(User).where(User.id.in_([u for u, _ in batch])))
                    }
                    wanted = [
                        (uid, f"{now.astimezone(zone(users[uid].timezone)).date()}") for uid, _ in batch
                    ]
                    claimed = claim(session, "review", wanted, now)
                    session.autoflush = False  # the outbox rows go in together at commit
                    for uid, card_id in batch:
                        if uid in claimed:
                            sent += self._review(session, users[uid], card_id, now)
                    session.commit()
        return sent

    def _review(self, session: Session, user: User, card_id: int, now: datetime) -> int:
        card = session.get_one(ReviewCard, card_id)
        course = self.library.courses.get(card.course_id)
        card.asked_at = now
        card.due_at = now + review_interval(card.successes)  # unanswered: asked again after the same wait
        try:
            lesson = course.lesson(card.lesson_id) if course else None
            step = next(s for s in lesson.steps if s.id == card.step_id) if lesson else None
        except (KeyError, StopIteration):
            step = None
        if course is None or lesson is None or step is None or step.checkpoint is None:
            card.due_at = now + timedelta(days=3650)  # the step left the pack: never asked again
            return 0
        lang = self._lang(user.language)
        params = {
            "lesson": pick(dict(lesson.title), lang)[0],
            "question": pick(dict(step.checkpoint.question), lang)[0],
        }
        choices = (
            Choice(self.catalog.t(lang, "button.recall_yes"), f"review:{card.id}:1"),
            Choice(self.catalog.t(lang, "button.recall_no"), f"review:{card.id}:0"),
        )
        self.notifier.notify(session, user.id, "review.prompt", params, kind="review", choices=choices)
        return 1

    def roll_up(self) -> int:
        """Count new answers and steps into the dashboard's activity per day; returns the rows read."""
        return roll_up_activity(self.sessions, zone(self.default_zone))

    def digests(self, now: datetime | None = None) -> int:
        """In the weekly slot, queue each trainer's and master's summary of their learners' week."""
        now = now or utcnow()
        local = now.astimezone(zone(self.default_zone))
        if not self.calendar.digest_due(local):
            return 0
        year, week, _ = local.isocalendar()
        sent = 0
        with self.sessions() as session:
            people = session.scalars(
                select(User).where(User.role.in_([Role.ADMIN, Role.TRAINER, Role.MASTER])).order_by(User.id)
            ).all()
            claimed = claim(session, "digest", [(p.id, f"{year}-W{week:02d}") for p in people], now)
            for person in people:
                if person.id not in claimed:
                    continue
                scope = Scope.of(person, self.library)
                summary = week_summary(session, scope, now)
                key = "digest.master" if person.role == Role.MASTER else "digest.trainer"
                names = ", ".join(at_risk_names(session, scope, now))
                lang = language_of(person, self.notifier.default_language)
                named = (
                    self.notifier.catalog.t(lang, "digest.at_risk_names", {"names": names}) if names else ""
                )
                url = f"{self.dashboard_url.rstrip('/')}/dashboard/"
                params: dict[str, str | int] = {**summary.params(), "at_risk_names": named, "url": url}
                if self.notifier.notify(session, person.id, key, params, kind="digest") is not None:
                    sent += 1
                if late := waiting(session, scope, now - self.question_overdue):
                    params = {"count": late, "days": self.question_overdue.days, "url": f"{url}questions"}
                    self.notifier.notify(
                        session, person.id, "digest.questions_overdue", params, kind="digest"
                    )
            session.commit()
        return sent


def recall(
    session: Session, library: Library, user_id: int, data: str, *, lang: Lang, now: datetime
) -> tuple[str, dict[str, str | int]] | None:
    """Apply a review button (`<card>:<1|0>`): the reply's key and parameters, or None for a stale button."""
    card_text, _, answer = data.partition(":")
    card = session.get(ReviewCard, int(card_text)) if card_text.isdigit() else None
    if card is None or card.user_id != user_id or answer not in {"0", "1"}:
        return None
    course = library.courses.get(card.course_id)
    step = None
    if course is not None:
        lesson = next((les for les in course.lessons if les.id == card.lesson_id), None)
        step = next((s for s in lesson.steps if s.id == card.step_id), None) if lesson else None
    if course is None or step is None or step.checkpoint is None:
        return None
    remembered = answer == "1"
    if card.asked_at is not None and (card.answered_at is None or card.answered_at < card.asked_at):
        card.successes, card.due_at = after_review(card.successes, remembered=remembered, now=now)
        card.answered_at = now
    points = "\n".join(
        f"• {pick({k: v[0] for k, v in kp.phrasings.items()}, lang)[0]}" for kp in step.checkpoint.key_points
    )
    days = (card.due_at - now).days if card.due_at > now else 0
    return ("review.remembered" if remembered else "review.forgot"), {"answer": points, "days": max(days, 1)}


def add_jobs(
    scheduler: AsyncIOScheduler,
    sweeper: Sweeper,
    flush: Callable[[], Awaitable[object]],
    *,
    minutes: int = 15,
) -> None:
    """A few periodic sweeps (never one job per learner); those that queued messages then flush the outbox."""

    async def send(sweep: Callable[[], int]) -> None:
        if await asyncio.to_thread(sweep):
            await flush()

    async def count() -> None:
        await asyncio.to_thread(sweeper.roll_up)

    jobs: tuple[tuple[str, Callable[..., Awaitable[None]], list[object], int], ...] = (
        ("reminders", send, [sweeper.reminders], minutes),
        ("reviews", send, [sweeper.reviews], minutes),
        ("digests", send, [sweeper.digests], 60),
        ("activity", count, [], minutes),
    )
    for name, job, args, every in jobs:
        scheduler.add_job(
            job,
            "interval",
            minutes=every,
            args=args,
            id=f"maalem-{name}",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
            next_run_time=utcnow() + timedelta(seconds=30),
        )

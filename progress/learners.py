"""Learners as trainers see them: scopes, filters, keyset pages, counts, funnels, activity, records."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    not_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from lessons.content import Library
from lessons.course import Course
from progress.models import (
    ActivityDay,
    Answer,
    Certificate,
    Consent,
    Enrolment,
    Question,
    ReviewCard,
    ReviewItem,
    ReviewStatus,
    Role,
    StepProgress,
    SweepMark,
    User,
    shown_name,
)
from progress.rules import (
    AT_RISK_AFTER,
    DROPPED_AFTER,
    Attempt,
    Completion,
    Mastery,
    Status,
    Work,
    badges,
    best_streak,
    completion,
    learner_status,
    local_days,
    mastery,
    streak,
    zone,
)

PAGE_SIZE = 50
Enrolled = aliased(Enrolment, name="enrolled")
"""Enrolments in a learner's EXISTS conditions, apart from any `Enrolment` the outer query reads."""


@dataclass(frozen=True)
class Scope:
    """Which learners a person may see: everything (admin), a region, a cooperative, or a master's courses."""

    everything: bool = False
    region: str | None = None
    cooperative: str | None = None
    courses: frozenset[str] | None = None

    @classmethod
    def of(cls, user: User, library: Library) -> Scope:
        """The scope a user's role and codes give; nothing for anyone else."""
        if user.role == Role.ADMIN:
            return cls(everything=True)
        if user.role == Role.TRAINER and user.cooperative_code:
            return cls(cooperative=user.cooperative_code)
        if user.role == Role.TRAINER and user.region_code:
            return cls(region=user.region_code)
        if user.role == Role.MASTER and user.author_id:
            return cls(
                courses=frozenset(c.id for c in library.courses.values() if user.author_id in _authors(c))
            )
        return cls()

    def where(self) -> ColumnElement[bool]:
        """SQL condition on `User`: an apprentice inside this scope."""
        apprentice = User.role == Role.APPRENTICE
        if self.everything:
            return apprentice
        if self.cooperative:
            return and_(apprentice, User.cooperative_code == self.cooperative)
        if self.region:
            return and_(apprentice, User.region_code == self.region)
        if self.courses:
            enrolled = exists().where(Enrolled.user_id == User.id, Enrolled.course_id.in_(self.courses))
            return and_(apprentice, enrolled)
        return false()

    def allows(self, *, region: str | None, cooperative: str | None, library: Library) -> bool:
        """Whether filtering on this region or cooperative stays inside the scope (else: not found)."""
        if self.everything:
            return True
        coop = library.cooperatives.get(cooperative) if cooperative else None
        if cooperative and coop is None:
            return False
        if self.cooperative:
            own = library.cooperatives.get(self.cooperative)
            return cooperative in (None, self.cooperative) and region in (None, own.region if own else None)
        if self.region:
            return region in (None, self.region) and (coop is None or coop.region == self.region)
        return region is None and cooperative is None


def _authors(course: Course) -> set[str]:
    return {a.id for a in course.authors}


def _unfinished() -> ColumnElement[bool]:
    return exists().where(Enrolled.user_id == User.id, Enrolled.completed_at.is_(None))


def _completed() -> ColumnElement[bool]:
    return exists().where(Enrolled.user_id == User.id, Enrolled.completed_at.is_not(None))


def status_where(status: Status, now: datetime, *, likely: bool = False) -> ColumnElement[bool]:
    """SQL condition matching `rules.learner_status` exactly.

    `likely` tells SQLite's planner the time conditions are mostly true, so that a page ordered by id walks
    the table in id order instead of sorting every learner in the time range (PostgreSQL needs no hint).
    """

    def when(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return func.likely(condition) if likely else condition

    recent = when(User.last_active_at >= now - AT_RISK_AFTER)
    quiet = when(User.last_active_at < now - AT_RISK_AFTER)
    gone = when(User.last_active_at < now - DROPPED_AFTER)
    done = and_(_completed(), not_(_unfinished()))
    conditions: dict[Status, ColumnElement[bool]] = {
        Status.COMPLETED: done,
        Status.ACTIVE: and_(recent, not_(done)),
        Status.AT_RISK: and_(quiet, not_(gone), _unfinished()),
        Status.DROPPED: and_(gone, _unfinished()),
        Status.NOT_STARTED: and_(quiet, not_(_unfinished()), not_(_completed())),
    }
    return conditions[status]


@dataclass(frozen=True)
class Filters:
    """What a trainer narrowed the learners list to."""

    region: str | None = None
    cooperative: str | None = None
    course: str | None = None
    status: Status | None = None
    name: str | None = None
    """Part of the name the learner is shown by, in any case."""

    def where(self, now: datetime, *, likely: bool = False) -> list[ColumnElement[bool]]:
        """SQL conditions on `User` for these filters (`likely`: see `status_where`)."""
        conditions: list[ColumnElement[bool]] = []
        if self.name:
            shown = func.coalesce(func.nullif(func.trim(User.preferred_name), ""), User.display_name)
            conditions.append(shown.icontains(self.name, autoescape=True))
        if self.region:
            conditions.append(User.region_code == self.region)
        if self.cooperative:
            conditions.append(User.cooperative_code == self.cooperative)
        if self.course:
            conditions.append(exists().where(Enrolled.user_id == User.id, Enrolled.course_id == self.course))
        if self.status:
            conditions.append(status_where(self.status, now, likely=likely))
        return conditions


@dataclass(frozen=True)
class LearnerRow:
    """One line of the learners list."""

    id: int
    name: str
    region: str | None
    cooperative: str | None
    course: str | None
    steps_done: int
    last_active_at: datetime
    status: Status
    language: str | None
    minor: bool | None
    consent: str
    """The latest consent: "self", "guardian" (given by a guardian) or "none"."""
    certificates: tuple[str, ...]
    """The codes of the certificates they hold (none withdrawn)."""


def learners_page(
    session: Session,
    scope: Scope,
    filters: Filters,
    now: datetime,
    *,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[LearnerRow], int | None]:
    """Newest learners first, `limit` at a time; returns the rows and the `before` of the next page."""
    query = (
        select(
            User.id,
            User.display_name,
            User.preferred_name,
            User.region_code,
            User.cooperative_code,
            User.current_course_id,
            User.last_active_at,
            User.language,
            User.is_minor,
        )
        .where(scope.where(), *filters.where(now, likely=_sqlite(session)))
        .order_by(User.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(User.id < before)
    found = session.execute(query).all()
    more = len(found) > limit
    found = found[:limit]
    ids = [row.id for row in found]
    enrolments: defaultdict[int, list[tuple[str, bool]]] = defaultdict(list)
    for user_id, course_id, completed_at in session.execute(
        select(Enrolment.user_id, Enrolment.course_id, Enrolment.completed_at).where(
            Enrolment.user_id.in_(ids)
        )
    ):
        enrolments[user_id].append((course_id, completed_at is not None))
    steps: dict[int, int] = dict(
        session.execute(
            select(StepProgress.user_id, func.count())
            .join(User, User.id == StepProgress.user_id)
            .where(StepProgress.user_id.in_(ids), StepProgress.course_id == User.current_course_id)
            .group_by(StepProgress.user_id)
        )
        .tuples()
        .all()
    )
    consents = {
        user_id: "none" if not granted else "guardian" if by_guardian else "self"
        for user_id, granted, by_guardian in session.execute(
            select(Consent.user_id, Consent.granted, Consent.by_guardian)
            .where(Consent.user_id.in_(ids))
            .order_by(Consent.id)
        ).tuples()
    }
    certificates: defaultdict[int, list[str]] = defaultdict(list)
    for user_id, code in session.execute(
        select(Certificate.user_id, Certificate.code)
        .where(Certificate.user_id.in_(ids), Certificate.withdrawn_at.is_(None))
        .order_by(Certificate.id)
    ).tuples():
        certificates[user_id].append(code)
    rows = [
        LearnerRow(
            id=row.id,
            name=shown_name(row.preferred_name, row.display_name),
            region=row.region_code,
            cooperative=row.cooperative_code,
            course=row.current_course_id,
            steps_done=steps.get(row.id, 0),
            last_active_at=row.last_active_at,
            status=learner_status(
                row.last_active_at,
                unfinished=any(not done for _, done in enrolments[row.id]),
                completed=any(done for _, done in enrolments[row.id]),
                now=now,
            ),
            language=row.language,
            minor=row.is_minor,
            consent=consents.get(row.id, "none"),
            certificates=tuple(certificates[row.id]),
        )
        for row in found
    ]
    return rows, (ids[-1] if more else None)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def iter_learners(
    session: Session, scope: Scope, filters: Filters, now: datetime, batch: int = 1000
) -> Iterator[LearnerRow]:
    """Every learner matching, streamed page by page (memory stays flat however many there are)."""
    before: int | None = None
    while True:
        rows, before = learners_page(session, scope, filters, now, before=before, limit=batch)
        yield from rows
        if before is None:
            return


def _count(session: Session, query: Select[tuple[int]]) -> int:
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class Overview:
    """The headline numbers of a scope."""

    learners: int
    active: int
    at_risk: int
    completions: int
    open_reviews: int


def overview(session: Session, scope: Scope, now: datetime) -> Overview:
    """Learners, active ones, those at risk, courses completed and answers waiting for a person.

    One pass over the scope's learners joined to their enrolments counted per learner, then the reviews.
    """
    counted = select(
        Enrolment.user_id,
        func.sum(case((Enrolment.completed_at.is_(None), 1), else_=0)).label("open"),
        func.sum(case((Enrolment.completed_at.is_not(None), 1), else_=0)).label("done"),
    ).group_by(Enrolment.user_id)
    if not scope.everything:
        counted = counted.where(Enrolment.user_id.in_(select(User.id).where(scope.where())))
    per_learner = counted.subquery()
    open_, done = func.coalesce(per_learner.c.open, 0), func.coalesce(per_learner.c.done, 0)
    finished = and_(done > 0, open_ == 0)
    last = User.last_active_at

    def how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    total, active, at_risk, completions = session.execute(
        select(
            func.count(),
            how_many(and_(last >= now - AT_RISK_AFTER, not_(finished))),
            how_many(and_(last < now - AT_RISK_AFTER, last >= now - DROPPED_AFTER, open_ > 0)),
            func.coalesce(func.sum(done), 0),
        )
        .select_from(User)
        .outerjoin(per_learner, per_learner.c.user_id == User.id)
        .where(scope.where())
    ).one()
    reviews = _count(
        session,
        select(func.count())
        .select_from(ReviewItem)
        .join(Answer, Answer.id == ReviewItem.answer_id)
        .join(User, User.id == Answer.user_id)
        .where(scope.where(), ReviewItem.status == ReviewStatus.OPEN),
    )
    return Overview(int(total), int(active), int(at_risk), int(completions), reviews)


AT_RISK_NAMED = 5
"""How many learners at risk a weekly digest names."""


@dataclass(frozen=True)
class WeekSummary:
    """A scope's last seven days, for the weekly digest."""

    active: int
    steps: int
    answers: int
    completions: int
    at_risk: int
    reviews: int

    def params(self) -> dict[str, str | int]:
        """The numbers as catalogue parameters."""
        return dict(asdict(self))


def at_risk_names(session: Session, scope: Scope, now: datetime, limit: int = AT_RISK_NAMED) -> list[str]:
    """The names of the scope's learners at risk of dropping out, quiet longest first (unnamed ones left
    out)."""
    rows = session.execute(
        select(User.preferred_name, User.display_name)
        .where(scope.where(), status_where(Status.AT_RISK, now))
        .order_by(User.last_active_at, User.id)
        .limit(limit)
    ).tuples()
    return [name for preferred, platform in rows if (name := shown_name(preferred, platform))]


def week_summary(session: Session, scope: Scope, now: datetime) -> WeekSummary:
    """Active learners, steps, answers and completions of the last week; at risk and to review now."""
    since = now - timedelta(days=7)
    headline = overview(session, scope, now)

    def since_count(model: type[StepProgress | Answer | Enrolment], column: Any) -> int:
        query = select(func.count()).select_from(model).join(User, User.id == model.user_id)
        return _count(session, query.where(scope.where(), column >= since))

    return WeekSummary(
        active=headline.active,
        steps=since_count(StepProgress, StepProgress.completed_at),
        answers=since_count(Answer, Answer.created_at),
        completions=since_count(Enrolment, Enrolment.completed_at),
        at_risk=headline.at_risk,
        reviews=headline.open_reviews,
    )


@dataclass(frozen=True)
class FunnelStep:
    """How many learners of a course got to a step, and how many stopped there (quiet for a week or more)."""

    lesson_id: str
    step_id: str
    reached: int
    stopped: int


@dataclass(frozen=True)
class Funnel:
    """A course's funnel: learners enrolled, step by step, and those who finished."""

    course: Course
    enrolled: int
    steps: list[FunnelStep]
    completed: int


def funnels(session: Session, scope: Scope, library: Library, now: datetime) -> list[Funnel]:
    """Where each course's learners are, in one query over enrolments (a position implies every earlier step).

    A learner "stopped" at a step when their place in that course has not moved for a week or more.
    """
    quiet = case((Enrolment.updated_at < now - AT_RISK_AFTER, 1), else_=0)
    done = Enrolment.completed_at.is_not(None)
    query = select(
        Enrolment.course_id,
        Enrolment.lesson_id,
        Enrolment.step_index,
        Enrolment.lesson_done,
        done,
        func.count(),
        func.sum(quiet),
    ).group_by(Enrolment.course_id, Enrolment.lesson_id, Enrolment.step_index, Enrolment.lesson_done, done)
    if scope != Scope(everything=True):
        query = query.join(User, User.id == Enrolment.user_id).where(scope.where())
    groups: defaultdict[str, list[tuple[str, int, bool, bool, int, int]]] = defaultdict(list)
    for course_id, lesson_id, step_index, lesson_done, finished, count, stopped in session.execute(query):
        groups[course_id].append((lesson_id, step_index, lesson_done, finished, count, int(stopped or 0)))
    return [_funnel(course, groups[course.id]) for course in library.courses.values() if groups[course.id]]


def _funnel(course: Course, groups: list[tuple[str, int, bool, bool, int, int]]) -> Funnel:
    order = [(lesson.id, step.id) for lesson in course.lessons for step in lesson.steps]
    first_of = {lesson.id: order.index((lesson.id, lesson.steps[0].id)) for lesson in course.lessons}
    last_of = {lesson.id: first_of[lesson.id] + len(lesson.steps) - 1 for lesson in course.lessons}
    seen_at = [0] * len(order)
    stopped_at = [0] * len(order)
    completed = enrolled = 0
    for lesson_id, step_index, lesson_done, finished, count, stopped in groups:
        if lesson_id not in first_of:
            continue  # a lesson since removed from the pack
        enrolled += count
        if finished:
            completed += count
            seen_at[-1] += count
            continue
        seen = (
            last_of[lesson_id] if lesson_done else min(first_of[lesson_id] + step_index, last_of[lesson_id])
        )
        seen_at[seen] += count
        stopped_at[seen] += stopped
    steps, reached = [], enrolled
    for index, (lesson_id, step_id) in enumerate(order):
        steps.append(FunnelStep(lesson_id, step_id, reached, stopped_at[index]))
        reached -= seen_at[index]
    return Funnel(course, enrolled, steps, completed)


def _hour_bucket(session: Session, column: InstrumentedAttribute[datetime]) -> ColumnElement[str]:
    """The UTC hour of `column` as text `YYYY-MM-DD HH`, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 13)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


@dataclass(frozen=True)
class Day:
    """Work done on one local day."""

    day: date
    answers: int
    steps: int


@dataclass(frozen=True)
class Rollup:
    """A table counted into `ActivityDay`: the sweep mark of how far it was read, its time and its counter."""

    mark: str
    model: type[Answer] | type[StepProgress]
    moment: InstrumentedAttribute[datetime]
    counter: str


ROLLUPS = (
    Rollup("activity_answers", Answer, Answer.created_at, "answers"),
    Rollup("activity_steps", StepProgress, StepProgress.completed_at, "steps"),
)


def dialect_insert(session: Session) -> Any:
    """INSERT with ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _mark(session: Session, name: str) -> int:
    session.execute(dialect_insert(session)(SweepMark).values(name=name, value=0).on_conflict_do_nothing())
    return int(session.scalar(select(SweepMark.value).where(SweepMark.name == name)) or 0)


def roll_up_activity(sessions: sessionmaker[Session], tz: ZoneInfo, batch: int = 50_000) -> int:
    """Add answers and finished steps not yet counted to `ActivityDay`; returns how many rows were read.

    Each batch moves its sweep mark with a compare-and-set in the same transaction as the counts, so two
    processes rolling up at once never count a row twice.
    """
    read = 0
    for rollup in ROLLUPS:
        name, model, moment, counter = rollup.mark, rollup.model, rollup.moment, rollup.counter
        while True:
            with sessions() as session:
                start = _mark(session, name)
                rows = session.execute(
                    select(model.id, moment, model.course_id, User.region_code, User.cooperative_code)
                    .join(User, User.id == model.user_id)
                    .where(model.id > start)
                    .order_by(model.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                moved = session.execute(
                    update(SweepMark)
                    .where(SweepMark.name == name, SweepMark.value == start)
                    .values(value=rows[-1][0])
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process took this batch
                counts = Counter(
                    (at.astimezone(tz).date(), region or "", coop or "", course)
                    for _, at, course, region, coop in rows
                )
                insert = dialect_insert(session)(ActivityDay).values(
                    [
                        {
                            "day": d,
                            "region_code": r,
                            "cooperative_code": c,
                            "course_id": k,
                            "answers": 0,
                            "steps": 0,
                            counter: n,
                        }
                        for (d, r, c, k), n in counts.items()
                    ]
                )
                session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["day", "region_code", "cooperative_code", "course_id"],
                        set_={counter: getattr(ActivityDay, counter) + getattr(insert.excluded, counter)},
                    )
                )
                session.commit()
                read += len(rows)
    return read


def activity(session: Session, scope: Scope, now: datetime, tz: ZoneInfo, days: int = 30) -> list[Day]:
    """Answers and finished steps per local day over the last `days` days: rolled up, plus the rest."""
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    per_day: defaultdict[date, list[int]] = defaultdict(lambda: [0, 0])
    rolled = select(ActivityDay.day, func.sum(ActivityDay.answers), func.sum(ActivityDay.steps)).where(
        ActivityDay.day >= first
    )
    if not scope.everything:
        rolled = rolled.where(
            ActivityDay.cooperative_code == scope.cooperative
            if scope.cooperative
            else ActivityDay.region_code == scope.region
            if scope.region
            else ActivityDay.course_id.in_(scope.courses or ())
        )
    for day, answers, steps in session.execute(rolled.group_by(ActivityDay.day)).tuples():
        per_day[day] = [int(answers), int(steps)]
    for index, rollup in enumerate(ROLLUPS):
        model, moment = rollup.model, rollup.moment
        mark = session.scalar(select(SweepMark.value).where(SweepMark.name == rollup.mark)) or 0
        hour = _hour_bucket(session, moment)
        recent = moment >= now - timedelta(days=days + 1)  # `likely`: SQLite reads by id from the mark
        tail = select(hour, func.count()).where(
            model.id > mark, func.likely(recent) if _sqlite(session) else recent
        )
        if not scope.everything:  # `+ 0`: a membership test, so the scan stays on the rows past the mark
            tail = tail.where((model.user_id + 0).in_(select(User.id).where(scope.where())))
        for bucket, count in session.execute(tail.group_by(hour)).tuples():
            day = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(tz).date()
            per_day[day][index] += count
    span = [first + timedelta(days=n) for n in range(days)]
    return [Day(d, *per_day.get(d, [0, 0])) for d in span]


def find_learner(session: Session, scope: Scope, user_id: int) -> User | None:
    """The learner with this id if the scope may see them (None is the same for absent and forbidden)."""
    return session.scalar(select(User).where(User.id == user_id, scope.where()))


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


@dataclass(frozen=True)
class Event:
    """One thing that happened to a learner, for their timeline."""

    at: datetime
    kind: str
    course_id: str | None = None
    lesson_id: str | None = None
    step_id: str | None = None
    answer: Answer | None = None
    review: ReviewItem | None = None
    text: str = ""


def timeline(session: Session, user_id: int, limit: int = 100) -> list[Event]:
    """The learner's latest events, newest first: courses begun and finished, steps, answers, questions."""
    events: list[Event] = []
    for enrolment in session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)):
        events.append(Event(enrolment.started_at, "enrolled", enrolment.course_id))
        if enrolment.completed_at:
            events.append(Event(enrolment.completed_at, "completed", enrolment.course_id))
    for step in session.scalars(
        select(StepProgress)
        .where(StepProgress.user_id == user_id)
        .order_by(StepProgress.completed_at.desc())
        .limit(limit)
    ):
        events.append(Event(step.completed_at, "step", step.course_id, step.lesson_id, step.step_id))
    for answer, review in session.execute(
        select(Answer, ReviewItem)
        .outerjoin(ReviewItem, ReviewItem.answer_id == Answer.id)
        .where(Answer.user_id == user_id)
        .order_by(Answer.created_at.desc())
        .limit(limit)
    ).tuples():
        events.append(
            Event(
                answer.created_at,
                "answer",
                answer.course_id,
                answer.lesson_id,
                answer.step_id,
                answer,
                review,
            )
        )
    for question in session.scalars(
        select(Question).where(Question.user_id == user_id).order_by(Question.created_at.desc()).limit(limit)
    ):
        events.append(
            Event(
                question.created_at,
                "question",
                question.course_id,
                question.lesson_id,
                question.step_id,
                text=question.text,
            )
        )
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]

"""Which learners a person may see, and the filters a trainer narrows them by: SQL conditions on `User`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, select
from sqlalchemy.orm import Session, aliased

from lessons.content import Library
from lessons.course import Course
from progress.models import Enrolment, Role, User
from progress.rules import AT_RISK_AFTER, DROPPED_AFTER, Status

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


def find_learner(session: Session, scope: Scope, user_id: int) -> User | None:
    """The learner with this id if the scope may see them (None is the same for absent and forbidden)."""
    return session.scalar(select(User).where(User.id == user_id, scope.where()))

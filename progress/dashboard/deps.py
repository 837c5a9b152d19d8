"""What the dashboard needs from the running app, and nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from starlette.convertors import Convertor, register_url_convertor

from lessons.calibration import Trust
from lessons.content import Library
from lessons.i18n import Catalog
from lessons.languages import Lang
from progress.dashboard.throttle import LoginThrottle
from progress.decisions import LessonDecisions
from progress.notify import Notifier

MAX_ID = 10**18 - 1
"""Ids in paths and queries stay below SQL's 64-bit integers: a larger one is not found, not an overflow."""


class IdConvertor(Convertor[int]):
    """`{name:id}` in a route: a database id of 1 to 18 digits; anything longer matches no route (404)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        """The id as a number."""
        return int(value)

    def to_string(self, value: int) -> str:
        """The id in a path."""
        return str(value)


register_url_convertor("id", IdConvertor())


@dataclass(frozen=True)
class DashboardDeps:
    """The dashboard's narrow view of the app: data, copy, a notifier and a way to ask for sending."""

    sessions: sessionmaker[Session]
    library: Library
    catalog: Catalog
    notifier: Notifier
    decisions: LessonDecisions
    nudge: Callable[[], Awaitable[object]]
    """Asks the outbox's owner to send what was just queued (it keeps each chat's order)."""
    data_dir: Path
    base_url: str
    public_url_missing: bool
    """No public address is configured: certificates' QR codes and links point to this machine."""
    secret_key: str | None
    timezone: str
    calendar: Path
    """The reminder calendar (`calendar.yaml` in the content folder)."""
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    grading: Mapping[Lang, Trust] | None = None
    """Per language, whether the grading model's vote counts and why (its calibration); None: rubric only."""
    question_overdue_days: int = 3
    """A learner's question unanswered this long is flagged (the inbox, the weekly digest)."""

"""What the dashboard needs from the running app, and nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from lessons.content import Library
from lessons.i18n import Catalog
from progress.decisions import LessonDecisions
from progress.notify import Notifier


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
    secret_key: str | None
    timezone: str
    calendar: Path
    """The reminder calendar (`calendar.yaml` in the content folder)."""

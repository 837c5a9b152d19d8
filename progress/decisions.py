"""A trainer's decision on a lesson a master recorded (command line, dashboard): published or sent back."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from lessons.content import Library
from lessons.course import Course
from lessons.languages import pick
from lessons.packs import Shelf
from progress.authoring import get_lesson, localized
from progress.models import User
from progress.notify import Notifier, language_of
from progress.publishing import master_user, publish, reject


class LessonDecisions:
    """Publishes or sends back recorded lessons, and tells the master either way."""

    def __init__(
        self, sessions: sessionmaker[Session], shelf: Shelf, library: Library, notifier: Notifier
    ) -> None:
        self.sessions = sessions
        self.shelf = shelf
        self.library = library
        self.notifier = notifier

    def decide(
        self, lesson_id: int, *, approve: bool, by: int | None = None, note: str = ""
    ) -> Course | None:
        """Approve (the course pack is published, this process's library updated in place) or send back.

        Another process (the bot, when a trainer approves from the command line) sees it at its next message.
        """
        with self.sessions() as session:
            lesson = get_lesson(session, lesson_id)
            course = None
            if approve:
                course = publish(session, lesson, self.shelf, self.library, by=by)
            else:
                reject(session, lesson, by=by, note=note)
            master = master_user(session, lesson)
            if master is not None:
                user = session.get_one(User, master)
                lang = language_of(user, self.notifier.default_language)
                params = {"lesson": pick(localized(lesson.title), lang)[0], "note": note or "—"}
                key = "teach.approved" if approve else "teach.rejected"
                self.notifier.notify(session, master, key, params, kind="review")
            session.commit()
        return course

"""A master's recording: their teaching session, their courses, a finished lesson stored for review."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.languages import Lang
from lessons.packs import media_suffix
from lessons.teach import TaughtStep, TeachState
from progress.authoring import by_master, slugify, unique
from progress.models import AuthoredCourse, AuthoredLesson, AuthoredStep, MasterProfile, TeachSession, utcnow
from progress.publishing import course_model


def teach_session(session: Session, user_id: int) -> TeachSession:
    """The user's teaching session row (created empty)."""
    row = session.get(TeachSession, user_id)
    if row is None:
        row = TeachSession(user_id=user_id, state=None)
        session.add(row)
    return row


def own_courses(session: Session, profile: MasterProfile) -> list[AuthoredCourse]:
    """The courses this master started, oldest first."""
    query = (
        select(AuthoredCourse)
        .where(AuthoredCourse.master_id == profile.id)
        .order_by(AuthoredCourse.created_at)
    )
    return list(session.scalars(query))


def _stored(source: str, folder: Path, name: str, kind: str) -> str:
    """Keep a file the master sent with the lesson (the chat's copies may be erased), named by its content."""
    path = Path(source)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}{media_suffix(path, kind)}"
    shutil.copyfile(path, target)
    return str(target)


def _checkpoint(step: TaughtStep, lang: Lang, hint: Callable[[str], str]) -> dict[str, Any] | None:
    if not step.points:
        return None
    return {
        "question": by_master(step.question or "", lang),
        "drafted_by": step.drafted_by,
        "key_points": [
            {"id": f"k{i}", "phrasing": by_master(point, lang), "hint": by_master(hint(point), lang)}
            for i, point in enumerate(step.points, 1)
        ],
    }


def submit_lesson(
    session: Session,
    *,
    profile: MasterProfile,
    state: TeachState,
    lang: Lang,
    files: Path,
    library: Library,
    hint: Callable[[str], str],
) -> AuthoredLesson:
    """Store a finished recording as a lesson waiting for a trainer, checked by the rules of any pack."""
    course = session.get(AuthoredCourse, state.course) if state.course else None
    if course is None:
        taken = set(library.courses) | set(session.scalars(select(AuthoredCourse.id)))
        craft = state.craft or profile.craft_code or ""
        course = AuthoredCourse(
            id=unique(slugify(state.course_title or "", f"{craft}-{profile.author_id}")[:44], taken),
            craft_code=craft,
            region_code=profile.region_code,
            master_id=profile.id,
            title=by_master(state.course_title or "", lang),
            language=lang.value,
        )
        session.add(course)
        session.flush()
    existing = session.scalars(select(AuthoredLesson.slug).where(AuthoredLesson.course_id == course.id))
    position = session.scalar(select(func.count()).where(AuthoredLesson.course_id == course.id)) or 0
    lesson = AuthoredLesson(
        course_id=course.id,
        slug=unique(slugify(state.lesson_title or "", f"lesson-{position + 1}")[:44], set(existing)),
        position=position + 1,
        title=by_master(state.lesson_title or "", lang),
        master_id=profile.id,
        licence=state.licence or profile.licence or "",
    )
    session.add(lesson)
    session.flush()
    consent = datetime.fromisoformat(state.consent) if state.consent else utcnow()
    folder = files / str(lesson.id)
    for n, taught in enumerate(state.steps, 1):
        slug = f"step-{n}"
        session.add(
            AuthoredStep(
                lesson_id=lesson.id,
                position=n,
                slug=slug,
                author_id=profile.author_id,
                media_kind=taught.media_kind,
                media_path=_stored(taught.media, folder, slug, taught.media_kind),
                voice_path=_stored(taught.voice, folder, f"{slug}-voice", "audio") if taught.voice else None,
                caption=by_master(taught.caption, lang),
                checkpoint=_checkpoint(taught, lang, hint),
                licence=lesson.licence,
                consented_at=consent,
                recorded_at=datetime.fromisoformat(taught.recorded).replace(tzinfo=consent.tzinfo),
            )
        )
    session.flush()
    inside = files.resolve()

    def stored(step: AuthoredStep) -> str:
        return Path(step.media_path).resolve().relative_to(inside).as_posix()

    course_model([lesson], session, library, stored, folder=inside)  # raises ContentInvalid
    return lesson

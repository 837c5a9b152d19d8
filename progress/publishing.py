"""Recorded lessons published: the course pack they make, checked like a shipped one; a trainer's decision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.content import ContentError, ContentInvalid, Library, check_course
from lessons.course import Course
from lessons.languages import Lang
from lessons.packs import Shelf
from progress.authoring import AuthoringError, plain, steps_of
from progress.models import AuthoredCourse, AuthoredLesson, AuthoredStep, MasterProfile, utcnow


def course_document(
    lessons: list[AuthoredLesson], session: Session, media: Callable[[AuthoredStep], str]
) -> dict[str, Any]:
    """The course pack (as YAML would hold it) of these lessons of one course, each step credited."""
    course = session.get_one(AuthoredCourse, lessons[0].course_id)
    owner = session.get(MasterProfile, course.master_id) if course.master_id else None
    every: list[dict[str, Any]] = [course.title]
    documents = []
    author_ids: list[str] = []
    for lesson in lessons:
        every.append(lesson.title)
        steps = []
        for step in steps_of(session, lesson):
            author_ids += [step.author_id] if step.author_id not in author_ids else []
            every.append(step.caption)
            document: dict[str, Any] = {
                "id": step.slug,
                "author": step.author_id,
                "licence": step.licence,
                "recorded": step.recorded_at.date().isoformat(),
                "consent": step.consented_at.isoformat(),
                "media": {"kind": step.media_kind, "file": media(step)},
                "caption": plain(step.caption),
            }
            if step.checkpoint:
                points = step.checkpoint["key_points"]
                every += [
                    step.checkpoint["question"],
                    *(p[part] for p in points for part in ("phrasing", "hint")),
                ]
                document["checkpoint"] = {
                    "question": plain(step.checkpoint["question"]),
                    "key_points": [
                        {
                            "id": p["id"],
                            "phrasings": {k: [v] for k, v in plain(p["phrasing"]).items()},
                            "hint": plain(p["hint"]),
                        }
                        for p in points
                    ],
                }
            steps.append(document)
        documents.append({"id": lesson.slug, "title": plain(lesson.title), "steps": steps})
    profiles = {
        p.author_id: p
        for p in session.scalars(select(MasterProfile).where(MasterProfile.author_id.in_(author_ids)))
    }
    master = owner.author_id if owner else author_ids[0]
    authors = [
        {
            "id": a,
            "name": profiles[a].name,
            "role": "master",
            **({"city": profiles[a].city} if profiles[a].city else {}),
        }
        for a in ([master] + [a for a in author_ids if a != master])
        if a in profiles
    ]
    languages = [lang.value for lang in Lang if all(lang.value in texts for texts in every)]
    return {
        "id": course.id,
        "craft": course.craft_code,
        "title": plain(course.title),
        "summary": plain(course.title),
        "authors": authors,
        "master": master,
        "licence": lessons[0].licence,
        "languages": languages,
        "regions": [course.region_code] if course.region_code else [],
        "lessons": documents,
    }


def course_model(
    lessons: list[AuthoredLesson],
    session: Session,
    library: Library,
    media: Callable[[AuthoredStep], str],
    *,
    folder: Path,
) -> Course:
    """The lessons as a `Course` with media under `folder`, checked by the rules of shipped packs.

    Raises `ContentInvalid`.
    """
    document = course_document(lessons, session, media)
    where = Path(f"authored/{document['id']}")
    try:
        course = TypeAdapter(Course).validate_python({**document, "folder": folder})
    except ValidationError as exc:
        raise ContentInvalid(
            [ContentError(where, ".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        ) from exc
    others = Library(regions=library.regions, crafts=library.crafts, cooperatives=library.cooperatives)
    errors = check_course(where, course, others)
    if errors:
        raise ContentInvalid(errors)
    return course


def publish(
    session: Session, lesson: AuthoredLesson, shelf: Shelf, library: Library, *, by: int | None
) -> Course:
    """A trainer approves a lesson: its course is published again with it and apprentices see it at once.

    Raises `ContentInvalid` (the published pack unchanged) when the pack would not pass the checks; the caller
    then rolls back.
    """
    if lesson.status != "submitted":
        raise AuthoringError(f"lesson {lesson.id} is {lesson.status}, not waiting for approval")
    lesson.status, lesson.decided_by, lesson.decided_at = "approved", by, utcnow()
    approved = list(
        session.scalars(
            select(AuthoredLesson)
            .where(AuthoredLesson.course_id == lesson.course_id, AuthoredLesson.status == "approved")
            .order_by(AuthoredLesson.position)
        )
    )
    names: dict[str, Path] = {}

    def media(step: AuthoredStep) -> str:
        owner = next(x for x in approved if x.id == step.lesson_id)
        path = Path(step.media_path)
        relative = f"media/{owner.slug}-{step.slug}{path.suffix}"
        names[relative] = path
        return relative

    return shelf.publish(course_document(approved, session, media), names, library)


def reject(session: Session, lesson: AuthoredLesson, *, by: int | None, note: str) -> None:
    """A trainer sends a lesson back to its master with a note."""
    if lesson.status != "submitted":
        raise AuthoringError(f"lesson {lesson.id} is {lesson.status}, not waiting for approval")
    lesson.status, lesson.decided_by, lesson.decided_at, lesson.decision_note = "rejected", by, utcnow(), note


def master_user(session: Session, lesson: AuthoredLesson) -> int | None:
    """The account of the lesson's master, to tell them the decision."""
    profile = session.get(MasterProfile, lesson.master_id) if lesson.master_id else None
    return profile.user_id if profile else None

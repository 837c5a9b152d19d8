"""Masters' lessons in the database: texts per language and their translation, the review queue (invitations
and profiles are in `masters`, recording a lesson in `recording`, publishing it in `publishing`).

Every text of a recorded lesson is kept per language with who wrote it: the master, a trainer, a model's draft
(`llm`) or a plain copy of the master's words where no translation exists yet (`copy`). Drafts wait for a
trainer: apprentices only see a lesson once a trainer approved it, and then it is published as a course pack.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.drafting import Drafter
from lessons.languages import REQUIRED, Lang
from progress.models import AuthoredCourse, AuthoredLesson, AuthoredStep

Texts = dict[str, dict[str, str]]
"""Per language: {"text": …, "by": "master" | "trainer" | "llm" | "copy"}."""
DRAFTS = frozenset({"llm", "copy"})
_PATH = re.compile(
    r"^(?:(course)\.title|title|steps\[(\d+)\]\.(caption|question|points\[(\d+)\]\.(phrasing|hint)))$"
)


class AuthoringError(Exception):
    """A request about authored content that cannot be done; the message says why."""


def slugify(text: str, fallback: str) -> str:
    """A content id from a title: ASCII letters, digits, dashes; `fallback` for titles with none (Arabic)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-")
    return slug if slug and slug[0].isalnum() else fallback


def unique(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`… whichever is not taken."""
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)


# -- texts -----------------------------------------------------------------------------------------


def by_master(text: str, lang: Lang) -> Texts:
    """A text the master said, with copies of it standing in for the languages every course needs."""
    texts = {lang.value: {"text": text, "by": "master"}}
    for needed in REQUIRED:
        texts.setdefault(needed.value, {"text": text, "by": "copy"})
    return texts


def plain(texts: Texts) -> dict[str, str]:
    """Texts as a course pack carries them."""
    return {lang.value: texts[lang.value]["text"] for lang in Lang if lang.value in texts}


def localized(texts: Texts) -> dict[Lang, str]:
    """Texts as the course model holds them (to pick one in a language)."""
    return {Lang(lang): text for lang, text in plain(texts).items()}


def texts_of(session: Session, lesson: AuthoredLesson) -> dict[str, Texts]:
    """Every text of a lesson and its course by place (`steps[2].points[1].hint`, from 1), in order."""
    course = session.get_one(AuthoredCourse, lesson.course_id)
    found = {"course.title": course.title, "title": lesson.title}
    for step in steps_of(session, lesson):
        where = f"steps[{step.position}]"
        found[f"{where}.caption"] = step.caption
        if step.checkpoint:
            found[f"{where}.question"] = step.checkpoint["question"]
            for i, point in enumerate(step.checkpoint["key_points"], 1):
                found[f"{where}.points[{i}].phrasing"] = point["phrasing"]
                found[f"{where}.points[{i}].hint"] = point["hint"]
    return found


def store_texts(session: Session, lesson: AuthoredLesson, where: str, texts: Texts) -> None:
    """Replace one text of a lesson (JSON columns are replaced whole, never changed in place)."""
    match = _PATH.match(where)
    if match is None:
        raise AuthoringError(f"{where!r} is not a text of a lesson (see `maalem content review show`)")
    if match[1]:
        session.get_one(AuthoredCourse, lesson.course_id).title = texts
        return
    if match[2] is None:
        lesson.title = texts
        return
    step = next((s for s in steps_of(session, lesson) if s.position == int(match[2])), None)
    if step is None or (match[3] != "caption" and not step.checkpoint):
        raise AuthoringError(f"lesson {lesson.id} has no {where}")
    if match[3] == "caption":
        step.caption = texts
        return
    checkpoint = {
        **(step.checkpoint or {}),
        "key_points": [dict(k) for k in (step.checkpoint or {})["key_points"]],
    }
    if match[3] == "question":
        checkpoint["question"] = texts
    elif 1 <= int(match[4]) <= len(checkpoint["key_points"]):
        checkpoint["key_points"][int(match[4]) - 1][match[5]] = texts
    else:
        raise AuthoringError(f"lesson {lesson.id} has no {where}")
    step.checkpoint = checkpoint


def steps_of(session: Session, lesson: AuthoredLesson) -> list[AuthoredStep]:
    """A lesson's steps in order."""
    query = select(AuthoredStep).where(AuthoredStep.lesson_id == lesson.id).order_by(AuthoredStep.position)
    return list(session.scalars(query))


def translate_lesson(session: Session, lesson: AuthoredLesson, drafter: Drafter) -> int:
    """Draft missing translations (and replace plain copies) with `drafter`; returns how many it drafted."""
    source = Lang(session.get_one(AuthoredCourse, lesson.course_id).language)
    drafted = 0
    for where, texts in texts_of(session, lesson).items():
        original = texts.get(source.value, {}).get("text")
        changed = dict(texts)
        for target in Lang:
            if (
                original is None
                or target == source
                or texts.get(target.value, {}).get("by", "copy") != "copy"
            ):
                continue
            draft = drafter.translate(original, source, target)
            if draft:
                changed[target.value] = {"text": draft, "by": "llm"}
                drafted += 1
        if changed != texts:
            store_texts(session, lesson, where, changed)
    return drafted


def set_text(session: Session, lesson: AuthoredLesson, where: str, lang: Lang, text: str) -> None:
    """A trainer writes one text of a lesson themselves (`steps[2].points[1].hint`, `course.title`…)."""
    texts = texts_of(session, lesson).get(where)
    if texts is None or not text.strip():
        raise AuthoringError(f"lesson {lesson.id} has no {where!r} (see `maalem content review show`)")
    store_texts(session, lesson, where, {**texts, lang.value: {"text": text.strip(), "by": "trainer"}})


# -- the review queue ------------------------------------------------------------------------------


def submitted(session: Session) -> list[AuthoredLesson]:
    """Lessons waiting for a trainer, oldest first."""
    query = (
        select(AuthoredLesson)
        .where(AuthoredLesson.status == "submitted")
        .order_by(AuthoredLesson.submitted_at)
    )
    return list(session.scalars(query))


def get_lesson(session: Session, lesson_id: int) -> AuthoredLesson:
    """A recorded lesson by id, or a plain error."""
    found = session.get(AuthoredLesson, lesson_id)
    if found is None:
        raise AuthoringError(f"no recorded lesson {lesson_id}")
    return found


def drafts_left(session: Session, lesson: AuthoredLesson) -> int:
    """How many texts of a lesson are still machine drafts or plain copies."""
    return sum(1 for texts in texts_of(session, lesson).values() for t in texts.values() if t["by"] in DRAFTS)

"""Masters' lessons in the database: invitations, sessions, submission, review, translation, publishing.

Every text of a recorded lesson is kept per language with who wrote it: the master, a trainer, a model's draft
(`llm`) or a plain copy of the master's words where no translation exists yet (`copy`). Drafts wait for a
trainer: apprentices only see a lesson once a trainer approved it, and then it is published as a course pack.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessons.content import ContentError, ContentInvalid, Library, check_course
from lessons.course import Course
from lessons.drafting import Drafter
from lessons.languages import REQUIRED, Lang
from lessons.packs import Shelf, media_suffix
from lessons.teach import TaughtStep, TeachState
from progress.models import (
    Answer,
    AuthoredCourse,
    AuthoredLesson,
    AuthoredStep,
    MasterProfile,
    Question,
    Role,
    TeachSession,
    User,
    utcnow,
)
from progress.scope import Scope, find_learner

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code is read aloud and typed on a phone."""
INVITE_LENGTH = 10
INVITE_CODE = re.compile(rf"^[{INVITE_ALPHABET}]{{{INVITE_LENGTH}}}$")
INVITE_DAYS = 14
AUTHORS = frozenset({Role.MASTER, Role.TRAINER, Role.ADMIN})
"""Who may record lessons."""
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


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


# -- invitations -----------------------------------------------------------------------------------


def invite_master(
    session: Session,
    *,
    name: str,
    craft: str | None,
    region: str | None,
    language: Lang,
    city: str | None = None,
    author_id: str | None = None,
    invited_by: int | None = None,
    days: int = INVITE_DAYS,
) -> tuple[MasterProfile, str]:
    """A master profile (new, or the one credited as `author_id`) and a one-time code linking a chat to it."""
    profile = (
        session.scalar(select(MasterProfile).where(MasterProfile.author_id == author_id))
        if author_id
        else None
    )
    if profile is None:
        taken = set(session.scalars(select(MasterProfile.author_id)))
        profile = MasterProfile(
            author_id=author_id or _unique(slugify(name, "master"), taken),
            name=name,
            city=city,
            craft_code=craft,
            region_code=region,
            language=language.value,
        )
        session.add(profile)
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    profile.invite_hash = _hash(code)
    profile.invite_expires_at = utcnow() + timedelta(days=days)
    profile.invited_by = invited_by
    session.flush()
    return profile, code


def find_invite(session: Session, code: str) -> MasterProfile | None:
    """The profile a valid, unexpired one-time code links to."""
    if not INVITE_CODE.match(code.strip().upper()):
        return None
    profile = session.scalar(select(MasterProfile).where(MasterProfile.invite_hash == _hash(code)))
    if profile is None or profile.invite_expires_at is None or profile.invite_expires_at < utcnow():
        return None
    return profile


def redeem_invite(session: Session, profile: MasterProfile, user: User) -> None:
    """Link `user`'s chat account to the master profile: they can teach from now on; the code is spent."""
    if profile.user_id is not None and profile.user_id != user.id:
        previous = session.get(User, profile.user_id)
        if previous is not None and previous.role == Role.MASTER:
            previous.role, previous.author_id = Role.APPRENTICE, None
    profile.user_id, profile.invite_hash, profile.linked_at = user.id, None, utcnow()
    if user.role not in AUTHORS:
        user.role = Role.MASTER
    user.author_id = profile.author_id
    user.display_name = profile.name
    user.language = user.language or profile.language
    user.craft_code = user.craft_code or profile.craft_code
    user.region_code = user.region_code or profile.region_code
    user.stage = "consent"  # a master agrees to their voice and video being kept, as apprentices do


def profile_of(session: Session, user: User) -> MasterProfile | None:
    """The master profile linked to this account."""
    return session.scalar(select(MasterProfile).where(MasterProfile.user_id == user.id))


def ensure_profile(session: Session, user: User) -> MasterProfile:
    """The author's profile; a trainer who teaches gets one on first use, credited under their name."""
    profile = profile_of(session, user)
    if profile is None:
        taken = set(session.scalars(select(MasterProfile.author_id)))
        base = slugify(user.display_name, f"trainer-{user.id}")
        profile = MasterProfile(
            author_id=_unique(base, taken),
            name=user.display_name or f"Trainer {user.id}",
            craft_code=user.craft_code,
            region_code=user.region_code,
            language=user.language or Lang.DARIJA.value,
            user_id=user.id,
            linked_at=utcnow(),
        )
        session.add(profile)
        session.flush()
        user.author_id = profile.author_id
    return profile


# -- sessions --------------------------------------------------------------------------------------


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


# -- submission ------------------------------------------------------------------------------------


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
            id=_unique(slugify(state.course_title or "", f"{craft}-{profile.author_id}")[:44], taken),
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
        slug=_unique(slugify(state.lesson_title or "", f"lesson-{position + 1}")[:44], set(existing)),
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


# -- publication -----------------------------------------------------------------------------------


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


# -- hearing apprentices ---------------------------------------------------------------------------


def steps_by(library: Library, author_id: str) -> set[tuple[str, str, str]]:
    """(course, lesson, step) of every published step credited to this author."""
    return {
        (course.id, lesson.id, step.id)
        for course in library.courses.values()
        for lesson in course.lessons
        for step in lesson.steps
        if course.author_of(step).id == author_id
    }


def latest_answers(session: Session, library: Library, user: User, limit: int = 5) -> list[Answer]:
    """The newest answers to this person's checkpoints from learners inside their scope."""
    mine = steps_by(library, user.author_id) if user.author_id else set()
    courses = {c for c, _, _ in mine}
    found: list[Answer] = []
    query = (
        select(Answer)
        .join(User, User.id == Answer.user_id)
        .where(Answer.course_id.in_(courses), Scope.of(user, library).where())
        .order_by(Answer.created_at.desc(), Answer.id.desc())
    )
    for answer in session.scalars(query.execution_options(yield_per=50)):
        if (answer.course_id, answer.lesson_id, answer.step_id) in mine:
            found.append(answer)
            if len(found) == limit:
                break
    return found


def may_hear(session: Session, user: User, answer: Answer | Question, library: Library) -> bool:
    """Whether `/answers` lists this answer (or question) to this person: their own step, a learner in their
    scope."""
    own = bool(user.author_id) and (answer.course_id, answer.lesson_id, answer.step_id) in steps_by(
        library, user.author_id or ""
    )
    return own and find_learner(session, Scope.of(user, library), answer.user_id) is not None

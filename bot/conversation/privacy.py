"""The learner's rights: everything we keep, as a file (`/mydata`); and erasure that leaves nothing behind
(`/forget`, once confirmed)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, inspect, select, update
from sqlalchemy.orm import DeclarativeBase, Session

from bot.conversation.turn import Turn
from lessons.languages import RTL
from lessons.messages import FAREWELL, Choice, Outgoing
from progress.consent import remember_refusal
from progress.masters import AUTHORS, profile_of
from progress.models import (
    Answer,
    AuthoredLesson,
    AuthoredStep,
    Base,
    InboundMessage,
    MasterProfile,
    OutboundMessage,
    Question,
    ReviewItem,
    User,
)
from speech.tts import CACHE_FOLDER

_PRIVATE_COLUMNS = {"password_hash"}
_KEPT_ANONYMOUS = {InboundMessage.__tablename__, MasterProfile.__tablename__}
"""Delivery ids stay (so a late duplicate is still recognised) and a master's credit stays, unlinked."""


def _row(obj: DeclarativeBase) -> dict[str, Any]:
    return {
        attr.key: value.isoformat() if isinstance(value, datetime) else value
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in _PRIVATE_COLUMNS and (value := getattr(obj, attr.key)) is not None
    }


def _personal_tables() -> list[type[Base]]:
    """Every mapped table with a `user_id` column, children before parents (the order deletes need)."""
    order = {table.name: i for i, table in enumerate(reversed(Base.metadata.sorted_tables))}
    models = [
        m.class_ for m in Base.registry.mappers if isinstance(m.local_table, Table) and "user_id" in m.columns
    ]
    return sorted(models, key=lambda model: order[model.__tablename__])


def _authored(session: Session, user: User) -> list[AuthoredLesson]:
    """The lessons a master recorded, published or not."""
    profile = profile_of(session, user)
    if profile is None:
        return []
    return list(session.scalars(select(AuthoredLesson).where(AuthoredLesson.master_id == profile.id)))


def export_data(session: Session, user: User) -> dict[str, Any]:
    """Everything stored about `user`: the profile, every table that refers to them, what they authored."""
    document: dict[str, Any] = {"profile": _row(user)}
    lessons = _authored(session, user)
    steps = select(AuthoredStep).where(AuthoredStep.lesson_id.in_([lesson.id for lesson in lessons]))
    document[AuthoredLesson.__tablename__] = [_row(lesson) for lesson in lessons]
    document[AuthoredStep.__tablename__] = [_row(step) for step in session.scalars(steps)]
    for model in _personal_tables():
        rows = session.scalars(select(model).where(model.user_id == user.id))  # type: ignore[attr-defined]
        document[model.__tablename__] = [_row(r) for r in rows]
    answers = select(Answer.id).where(Answer.user_id == user.id)
    reviews = session.scalars(select(ReviewItem).where(ReviewItem.answer_id.in_(answers)))
    document[ReviewItem.__tablename__] = [_row(r) for r in reviews]
    answered = session.scalars(select(Question).where(Question.answered_by == user.id))
    document["questions_answered"] = [_row(q) for q in answered]  # a master's words to their apprentices
    return document


def export_user(session: Session, user: User, folder: Path) -> Path:
    """Write the user's data as a JSON file they are sent; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"maalem-data-{user.id}-{datetime.now(UTC):%Y%m%d%H%M%S}.json"
    document = {"exported_at": datetime.now(UTC).isoformat(), **export_data(session, user)}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def erase_user(session: Session, user: User, data_dir: Path | None = None) -> None:
    """Delete the user, every row tied to them and a master's unpublished lessons (rows and files; published
    ones stay under their licence, unlinked); the message log keeps only anonymous delivery ids."""
    uid = user.id
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.user_id == uid)
        .values(user_id=None, chat_id="erased", payload={}, error=None)
    )
    drafts = [lesson.id for lesson in _authored(session, user) if lesson.status != "approved"]
    sent = select(OutboundMessage.payload).where(OutboundMessage.user_id == uid)
    spoken = [Path(voice) for payload in session.scalars(sent) if (voice := payload.get("voice"))]
    session.execute(delete(AuthoredLesson).where(AuthoredLesson.id.in_(drafts)))  # their steps go with them
    session.execute(update(MasterProfile).where(MasterProfile.user_id == uid).values(user_id=None))
    answers = select(Answer.id).where(Answer.user_id == uid)
    session.execute(delete(ReviewItem).where(ReviewItem.answer_id.in_(answers)))
    replies = select(Question.answer_audio_path).where(Question.user_id == uid)
    answered = [Path(audio) for audio in session.scalars(replies) if audio]  # a master's voice, to them
    session.execute(  # a master's words go with them; the answered questions stay the apprentices'
        update(Question).where(Question.answered_by == uid).values(answer_text=None, answer_audio_path=None)
    )
    for model in _personal_tables():
        if model.__tablename__ not in _KEPT_ANONYMOUS:
            session.execute(delete(model).where(model.user_id == uid))  # type: ignore[attr-defined]
    session.execute(delete(User).where(User.id == uid))
    session.expunge(user)
    if data_dir is not None:
        for path in (data_dir / "exports").glob(f"maalem-data-{uid}-*.json"):
            path.unlink(missing_ok=True)
        for lesson_id in drafts:
            shutil.rmtree(data_dir / "authoring" / str(lesson_id), ignore_errors=True)
        for path in spoken:  # speech made of their words (a cache: a shared phrase is simply made again)
            if path.parent == data_dir / CACHE_FOLDER:
                path.unlink(missing_ok=True)
        for path in answered:  # what a master said to their questions is about them
            if path.is_relative_to(data_dir / "audio"):
                path.unlink(missing_ok=True)


def send_export(turn: Turn, arg: str = "") -> None:
    """`/mydata`: the user's data as a file; a master is told what becomes of the lessons they recorded."""
    path = export_user(turn.session, turn.user, turn.tools.data_dir / "exports")
    turn.say("privacy.export", media=str(path), media_kind="document")
    if _authored(turn.session, turn.user):
        turn.say("privacy.export_authored")


def ask_forget(turn: Turn, arg: str = "") -> None:
    """`/forget`: ask first; the next button answers."""
    turn.user.pending = "forget"
    catalog, lang = turn.tools.catalog, turn.lang
    yes, no = catalog.t(lang, "button.forget_yes"), catalog.t(lang, "button.forget_no")
    turn.say("privacy.forget_confirm", choices=(Choice(yes, "forget:yes"), Choice(no, "forget:no")))


def forget(turn: Turn, data: str) -> None:
    """The answer to `/forget`: erase everything on `forget:yes` and say it is done; else (the other button,
    or a typed "non") keep all and say that nothing was erased."""
    turn.user.pending = None
    if data != "forget:yes":
        turn.say("privacy.forget_cancelled")
        return
    erase(turn, "privacy.forgotten")


def refuse(turn: Turn) -> None:
    """Consent refused (by the person or their guardian): erase them, keep only a hash to ask again later."""
    remember_refusal(turn.session, turn.identity_hash)
    erase(turn, "consent.master_declined" if turn.user.role in AUTHORS else "consent.declined")


def erase(turn: Turn, farewell: str) -> None:
    """Erase the user's rows and files, then say `farewell` to them as they were: they are gone."""
    lang, data_dir, uid = turn.lang, turn.tools.data_dir, turn.user.id
    erase_user(turn.session, turn.user, data_dir)
    shutil.rmtree(data_dir / "audio" / str(uid), ignore_errors=True)
    shutil.rmtree(data_dir / "certificates" / str(uid), ignore_errors=True)
    text = turn.tools.catalog.t(lang, farewell)
    meta = {FAREWELL: "1"}
    turn.replies.append(Outgoing(turn.message.chat_id, text, lang.value, rtl=lang in RTL, meta=meta))

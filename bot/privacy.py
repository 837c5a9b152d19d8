"""The learner's rights: everything we keep, as a file; and erasure that leaves nothing behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import DeclarativeBase, Session

from progress.models import (
    Answer,
    ChannelIdentity,
    Consent,
    Enrolment,
    InboundMessage,
    Job,
    OutboundMessage,
    Question,
    ReviewItem,
    StepProgress,
    User,
)

_PRIVATE_COLUMNS = {"password_hash"}


def _row(obj: DeclarativeBase) -> dict[str, Any]:
    return {
        attr.key: value.isoformat() if isinstance(value, datetime) else value
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in _PRIVATE_COLUMNS and (value := getattr(obj, attr.key)) is not None
    }


def export_data(session: Session, user: User) -> dict[str, Any]:
    """Everything stored about `user`, table by table."""
    uid = user.id
    answers = session.scalars(select(Answer).where(Answer.user_id == uid)).all()
    answer_ids = [a.id for a in answers]
    tables: dict[str, Any] = {
        "profile": _row(user),
        "channel_identities": session.scalars(select(ChannelIdentity).where(ChannelIdentity.user_id == uid)),
        "consents": session.scalars(select(Consent).where(Consent.user_id == uid)),
        "enrolments": session.scalars(select(Enrolment).where(Enrolment.user_id == uid)),
        "step_progress": session.scalars(select(StepProgress).where(StepProgress.user_id == uid)),
        "answers": answers,
        "reviews": session.scalars(select(ReviewItem).where(ReviewItem.answer_id.in_(answer_ids))),
        "questions": session.scalars(select(Question).where(Question.user_id == uid)),
        "messages_received": session.scalars(select(InboundMessage).where(InboundMessage.user_id == uid)),
    }
    return {name: rows if name == "profile" else [_row(r) for r in rows] for name, rows in tables.items()}


def export_user(session: Session, user: User, folder: Path) -> Path:
    """Write the user's data as a JSON file they are sent; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"maalem-data-{user.id}-{datetime.now(UTC):%Y%m%d%H%M%S}.json"
    document = {"exported_at": datetime.now(UTC).isoformat(), **export_data(session, user)}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def erase_user(session: Session, user: User, exports: Path | None = None) -> None:
    """Delete the user and everything tied to them; the message log keeps only anonymous delivery ids."""
    uid = user.id
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.user_id == uid)
        .values(user_id=None, chat_id="erased", payload={}, error=None)
    )
    session.execute(delete(OutboundMessage).where(OutboundMessage.user_id == uid))
    session.execute(delete(Job).where(Job.user_id == uid))
    answer_ids = select(Answer.id).where(Answer.user_id == uid)
    session.execute(delete(ReviewItem).where(ReviewItem.answer_id.in_(answer_ids)))
    for table in (Answer, Question, StepProgress, Enrolment, Consent, ChannelIdentity):
        session.execute(delete(table).where(table.user_id == uid))
    session.execute(delete(User).where(User.id == uid))
    session.expunge(user)
    if exports is not None:
        for path in exports.glob(f"maalem-data-{uid}-*.json"):
            path.unlink(missing_ok=True)

"""Refused consent: nothing is kept of the person but a keyed hash of their chat identity, to ask again."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from progress.models import ConsentRefusal


def identity_hash(key: str, channel: str, chat_id: str) -> str:
    """An HMAC of the identity with the app's secret: it cannot be reversed or recomputed without the key."""
    return hmac.new(key.encode(), f"{channel}:{chat_id}".encode(), hashlib.sha256).hexdigest()


def remember_refusal(session: Session, digest: str) -> None:
    """Keep that this identity refused (once)."""
    if not refused_before(session, digest):
        session.add(ConsentRefusal(identity_hash=digest))


def refused_before(session: Session, digest: str) -> bool:
    """Whether this identity refused consent earlier."""
    return bool(session.scalar(select(exists().where(ConsentRefusal.identity_hash == digest))))


def forget_refusal(session: Session, digest: str) -> None:
    """They changed their mind: the refusal goes."""
    session.execute(delete(ConsentRefusal).where(ConsentRefusal.identity_hash == digest))

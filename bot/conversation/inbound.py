"""The inbound log: each message saved once by its platform id, then claimed by the one turn handling it."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from lessons.messages import Incoming
from progress.db import begin, insert_new
from progress.models import Base, InboundMessage, InboundStatus, utcnow

log = logging.getLogger(__name__)

MAX_TRIES = 3
"""A message whose slow work (download, transcription) fails this often gets an apology and a person."""

_INBOUND = Base.metadata.tables[InboundMessage.__tablename__]
CLAIM = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound_id"), _INBOUND.c.status == InboundStatus.RECEIVED)
    .values(status=InboundStatus.DONE, processed_at=bindparam("at"), user_id=bindparam("uid"))
)
"""Takes a received message for this unit of work: one row changed, or none when it was handled already."""
FAILED = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound_id"))
    .values(status=InboundStatus.FAILED, error=bindparam("reason"))
)
"""Leaves a message for a person, with why."""
_POISONED = FAILED.where(_INBOUND.c.status == InboundStatus.RECEIVED)
_RECORD = insert_new(
    _INBOUND,
    ("channel", "platform_id", "chat_id", "payload", "status", "attempts", "received_at"),
    key=("channel", "platform_id"),
    returning="id",
)
"""Saves a delivery unless its key is known: its id, or no row."""


class InboundLog:
    """Saves deliveries once, lists what is left to handle, counts slow work's tries and gives messages up."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def record_all(self, messages: Sequence[Incoming]) -> list[int | None]:
        """Save received messages in one transaction: each one's id, or None for a delivery seen before."""
        now = utcnow()
        with begin(self.sessions) as connection:
            return [
                connection.execute(
                    _RECORD,
                    {
                        "channel": message.channel,
                        "platform_id": message.message_id,
                        "chat_id": message.chat_id,
                        "payload": message.to_json(),
                        "status": InboundStatus.RECEIVED,
                        "attempts": 0,
                        "received_at": now,
                    },
                ).scalar()
                for message in messages
            ]

    def received(self) -> list[tuple[int, dict[str, Any]]]:
        """The messages saved but not yet handled, oldest first: their ids and payloads."""
        with self.sessions() as session:
            rows = session.execute(
                select(InboundMessage.id, InboundMessage.payload)
                .where(InboundMessage.status == InboundStatus.RECEIVED)
                .order_by(InboundMessage.id)
            ).all()
        return [(inbound_id, payload) for inbound_id, payload in rows]

    def count_try(self, inbound_id: int) -> bool:
        """Count one more try of a message's slow work, before it runs; False when its tries are spent."""
        with self.sessions() as session:
            inbound = session.get_one(InboundMessage, inbound_id)
            if inbound.attempts >= 2 * MAX_TRIES:
                return False
            inbound.attempts += 1
            session.commit()
        return True

    def give_up(self, inbound_id: int, exc: Exception) -> None:
        """Mark a message that cannot be handled failed, with its error's type (never its text)."""
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
        log.error(  # no traceback: the error's message may quote what the user sent
            "message %d failed (%s%s); kept for a person", inbound_id, type(exc).__name__, where
        )
        with begin(self.sessions) as connection:
            connection.execute(_POISONED, {"inbound_id": inbound_id, "reason": type(exc).__name__})

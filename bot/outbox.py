"""The outbox: replies saved with the state change that caused them, then sent by the channel's sender."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import without_bidi_marks
from bot.logs import redact
from bot.messages import Outgoing, Sender, Undeliverable
from progress.models import OutboundMessage, utcnow
from speech.types import Speaker

log = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 5


class Outbox:
    """Sends pending replies in order, per channel, marking each sent once delivered."""

    def __init__(
        self, sessions: sessionmaker[Session], senders: Mapping[str, Sender], speaker: Speaker | None = None
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.speaker = speaker

    async def flush(self, channel: str | None = None) -> int:
        """Send what is pending (on one channel, or all); returns how many were sent."""
        rows = self._claim(channel)
        sent = 0
        blocked: set[tuple[str, str]] = set()
        for row_id, row_channel, chat_id, payload in rows:
            sender = self.senders.get(row_channel)
            if sender is None or (row_channel, chat_id) in blocked:
                self._set(row_id, "sending", "pending")
                continue
            try:
                await sender.send(await self._spoken(Outgoing.from_json(payload)))
            except Exception as exc:
                blocked.add((row_channel, chat_id))  # later replies to this chat wait, so order is kept
                self._failed(row_id, exc)
                continue
            self._set(row_id, "sending", "sent")
            sent += 1
        return sent

    async def _spoken(self, message: Outgoing) -> Outgoing:
        """Add a voice note to a message the learner wants read aloud; text alone when it cannot be spoken."""
        if not message.meta.get("speak") or self.speaker is None or message.voice:
            return message
        text = without_bidi_marks(message.text)
        try:
            voice = await asyncio.to_thread(self.speaker.speak, text, message.lang)
        except Exception as exc:
            log.info("no spoken version (%s): %s", message.lang, type(exc).__name__)
            return message
        return replace(message, voice=str(voice))

    def _claim(self, channel: str | None) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Mark pending rows as being sent, in one statement, so no other sender takes them too."""
        query = (
            update(OutboundMessage)
            .where(OutboundMessage.status == "pending")
            .values(status="sending")
            .returning(
                OutboundMessage.id, OutboundMessage.channel, OutboundMessage.chat_id, OutboundMessage.payload
            )
        )
        if channel:
            query = query.where(OutboundMessage.channel == channel)
        with self.sessions() as session:
            rows = [tuple(row) for row in session.execute(query)]
            session.commit()
        return sorted(rows)

    def recover(self) -> None:
        """After a crash, replies caught mid-send are sent again (at least once beats never)."""
        with self.sessions() as session:
            session.execute(
                update(OutboundMessage).where(OutboundMessage.status == "sending").values(status="pending")
            )
            session.commit()

    def _set(self, row_id: int, old: str, new: str) -> bool:
        """Move a row from `old` to `new` status; False when another sender got there first."""
        with self.sessions() as session:
            values: dict[str, object] = {"status": new}
            if new == "sent":
                values["sent_at"] = utcnow()
            result = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row_id, OutboundMessage.status == old)
                .values(**values)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _failed(self, row_id: int, exc: Exception) -> None:
        with self.sessions() as session:
            row = session.get_one(OutboundMessage, row_id)
            row.attempts += 1
            row.error = redact(f"{type(exc).__name__}: {exc}")[:500]
            row.status = "pending"
            if row.attempts >= MAX_SEND_ATTEMPTS or isinstance(exc, Undeliverable):
                row.status = "failed"
                log.error(
                    "giving up sending outbox message %d on %s: %s", row.id, row.channel, type(exc).__name__
                )
            else:
                log.warning(
                    "sending outbox message %d failed (try %d): %s", row.id, row.attempts, type(exc).__name__
                )
            session.commit()

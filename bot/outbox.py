"""The outbox: replies saved with the state change that caused them, then sent by the channel's sender."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Row, bindparam, delete, update
from sqlalchemy.orm import Session, sessionmaker

from bot.logs import redact
from lessons.i18n import without_bidi_marks
from lessons.messages import FAREWELL, Outgoing, Sender, Undeliverable
from progress.db import begin, scrub
from progress.models import Base, OutboundMessage, OutboxStatus, utcnow
from speech.types import Speaker

log = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 5
CONCURRENT_CHATS = 8
"""Chats sent to at once in a flush (the channel's rate limiter still paces the requests)."""

_OUTBOX = Base.metadata.tables[OutboundMessage.__tablename__]
_CLAIM = (
    update(_OUTBOX)
    .where(_OUTBOX.c.status == OutboxStatus.PENDING, _OUTBOX.c.channel == bindparam("on_channel"))
    .values(status=OutboxStatus.SENDING)
    .returning(_OUTBOX.c.id, _OUTBOX.c.chat_id, _OUTBOX.c.payload)
)
_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row"), _OUTBOX.c.status == OutboxStatus.SENDING)
    .values(status=OutboxStatus.SENT, sent_at=bindparam("at"))
)
_SENT_SPOKEN = _SENT.values(payload=bindparam("spoken"))
"""Marked sent with the voice note it was sent with, so erasing the person erases that cached speech too."""
_ERASE = delete(_OUTBOX).where(_OUTBOX.c.id == bindparam("row"))
_RELEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row"), _OUTBOX.c.status == OutboxStatus.SENDING)
    .values(status=OutboxStatus.PENDING)
)


class Outbox:
    """Sends pending replies, each chat's in order, chats side by side; each is marked sent once delivered.

    The outbox is each channel's one owner: whoever asks for a flush (the channel after a message, the
    dashboard, the reminders, a test) goes through it. A channel's flushes take turns, claim and send both
    under its lock, on its own event loop (`loops`: the WhatsApp worker's), so a later flush never overtakes a
    chat's earlier reply; flushes asked for while one waits are folded into it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: Mapping[str, Sender],
        speaker: Speaker | None = None,
        loops: Mapping[str, asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.speaker = speaker
        self.loops = dict(loops or {})
        """Channels that send on another event loop than their callers'."""
        self._locks: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
        self._waiting: dict[str, asyncio.Task[int]] = {}

    async def flush(self, channel: str | None = None) -> int:
        """Send what is pending (on one channel, or all), after the flush in progress; how many were sent."""
        if channel is None:
            return sum(await asyncio.gather(*(self.flush(name) for name in list(self.senders))))
        loop = self.loops.get(channel)
        if loop is not None and loop is not asyncio.get_running_loop():
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.flush(channel), loop))
        waiting = self._waiting.get(channel)
        if waiting is None or waiting.done():  # else it claims after our rows were committed: it takes them
            waiting = self._waiting[channel] = asyncio.create_task(self._turn(channel))
        return await asyncio.shield(waiting)

    async def _turn(self, channel: str) -> int:
        """One flush of a channel, once the one before it is done."""
        async with self._lock(channel):
            del self._waiting[channel]  # a flush asked for from now on waits for the next turn
            sender = self.senders.get(channel)
            if sender is None:  # no sender in this process (yet): left for one that has it
                return 0
            return await self._send(sender, self._claim(channel))

    def _lock(self, channel: str) -> asyncio.Lock:
        """The channel's lock on the running loop (a new one for a new loop, as after `asyncio.run` again)."""
        loop = asyncio.get_running_loop()
        held = self._locks.get(channel)
        if held is None or held[0] is not loop:
            held = self._locks[channel] = (loop, asyncio.Lock())
        return held[1]

    async def _send(self, sender: Sender, claimed: list[Row[tuple[int, str, dict[str, Any]]]]) -> int:
        """Send the claimed rows, each chat's in order, up to `CONCURRENT_CHATS` chats at once."""
        chats: defaultdict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for row_id, chat_id, payload in claimed:
            chats[chat_id].append((row_id, payload))
        if len(chats) == 1:
            [rows] = chats.values()
            return await self._send_chat(sender, rows)
        slots = asyncio.Semaphore(CONCURRENT_CHATS)

        async def chat(rows: list[tuple[int, dict[str, Any]]]) -> int:
            async with slots:
                return await self._send_chat(sender, rows)

        return sum(await asyncio.gather(*(chat(rows) for rows in chats.values())))

    async def _send_chat(self, sender: Sender, rows: list[tuple[int, dict[str, Any]]]) -> int:
        """One chat's replies in order; after a failure the rest wait for the next flush (order is kept)."""
        for done, (row_id, payload) in enumerate(rows):
            message = Outgoing.from_json(payload)
            try:
                spoken = await self._spoken(message)
                await sender.send(spoken)
            except Exception as exc:
                self._failed(row_id, exc, farewell=FAREWELL in message.meta)
                self._release([row_id for row_id, _ in rows[done + 1 :]])
                return done
            self._sent(
                row_id,
                farewell=FAREWELL in message.meta,
                spoken=spoken if spoken.voice != message.voice else None,
            )
        return len(rows)

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

    def _claim(self, channel: str) -> list[Row[tuple[int, str, dict[str, Any]]]]:
        """Mark a channel's pending rows as being sent, in one statement, so no other sender takes them."""
        with begin(self.sessions) as connection:
            rows = connection.execute(_CLAIM, {"on_channel": channel}).all()
        return sorted(rows)

    def recover(self) -> None:
        """After a crash, replies caught mid-send are sent again (at least once beats never)."""
        with begin(self.sessions) as connection:
            connection.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.status == OutboxStatus.SENDING)
                .values(status=OutboxStatus.PENDING)
            )

    def _sent(self, row_id: int, *, farewell: bool, spoken: Outgoing | None = None) -> None:
        """Mark a row sent (with the voice note made for it); a farewell to someone erased is erased with its
        last trace of them."""
        with begin(self.sessions) as connection:
            if farewell:
                connection.execute(_ERASE, {"row": row_id})
            elif spoken is not None:
                connection.execute(_SENT_SPOKEN, {"row": row_id, "at": utcnow(), "spoken": spoken.to_json()})
            else:
                connection.execute(_SENT, {"row": row_id, "at": utcnow()})
        if farewell:
            scrub(self.sessions.kw["bind"])

    def _release(self, row_ids: list[int]) -> None:
        """Rows this flush took but did not send go back to pending."""
        if row_ids:
            with begin(self.sessions) as connection:
                connection.execute(_RELEASE, [{"row": row_id} for row_id in row_ids])

    def _failed(self, row_id: int, exc: Exception, *, farewell: bool) -> None:
        with self.sessions() as session:
            row = session.get_one(OutboundMessage, row_id)
            row.attempts += 1
            row.error = redact(f"{type(exc).__name__}: {exc}")[:500]
            row.status = OutboxStatus.PENDING
            if row.attempts >= MAX_SEND_ATTEMPTS or isinstance(exc, Undeliverable):
                row.status = OutboxStatus.FAILED
                log.error(
                    "giving up sending outbox message %d on %s: %s", row.id, row.channel, type(exc).__name__
                )
                if farewell:  # kept for no one: it names an erased person's chat
                    session.delete(row)
            else:
                log.warning(
                    "sending outbox message %d failed (try %d): %s", row.id, row.attempts, type(exc).__name__
                )
            session.commit()
        if farewell and row.status == OutboxStatus.FAILED:
            scrub(self.sessions.kw["bind"])

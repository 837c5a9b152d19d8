"""The unit of work: each message handled in one transaction, its replies queued in the outbox with the state
change, one message of a chat at a time; slow work runs between tries of the transaction, never inside."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.conversation.inbound import CLAIM, FAILED, MAX_TRIES, InboundLog
from bot.conversation.turn import EXPECTED_ERRORS, Pending, Tools, Turn
from lessons.messages import Incoming, Outgoing
from progress.models import Base, ChannelIdentity, OutboundMessage, User, utcnow

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)
""""Last seen" times are written at most this often: minutes are precise enough for reminders and windows."""

# The statements of every turn, built once: Core statements skip the ORM's per-call work.
_QUEUE = insert(Base.metadata.tables[OutboundMessage.__tablename__])
_IDENTITY = (
    select(ChannelIdentity)
    .options(joinedload(ChannelIdentity.user))
    .where(ChannelIdentity.channel == bindparam("channel"), ChannelIdentity.external_id == bindparam("chat"))
)


class GaveUp(Exception):
    """Slow work for a message failed too often, across restarts."""


class UnitOfWork:
    """Runs `dispatch` on each message inside its own transaction, exactly once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        inbound: InboundLog,
        tools: Tools,
        dispatch: Callable[[Turn], None],
    ) -> None:
        self.sessions = sessions
        self.inbound = inbound
        self.tools = tools
        self.dispatch = dispatch
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def process(self, inbound_id: int, message: Incoming) -> list[Outgoing]:
        """Handle a recorded message in one transaction; slow work happens between attempts, never inside.

        Messages from one chat are handled in the order they arrive, one at a time. A message whose handling
        raises is marked failed for a person and answers nothing; the messages after it go on.
        """
        async with self._locks[f"{message.channel}:{message.chat_id}"]:
            work: dict[str, object] = {}
            try:
                while True:
                    try:
                        return self._transaction(inbound_id, message, work)
                    except Pending as pending:
                        work[pending.key] = await self._slow(inbound_id, pending)
            except Exception as exc:
                self.inbound.give_up(inbound_id, exc)
                return []

    async def _slow(self, inbound_id: int, pending: Pending) -> object:
        """Run slow work with retries; each try is counted first, so a message that crashes us is given up."""
        error: Exception = GaveUp()
        for attempt in range(MAX_TRIES):
            if pending.durable and not self.inbound.count_try(inbound_id):
                return error
            try:
                return await pending.run()
            except EXPECTED_ERRORS as exc:
                return exc
            except Exception as exc:
                log.warning("slow work %s failed (try %d): %r", pending.key.split(":")[0], attempt + 1, exc)
                error = exc
                await asyncio.sleep(0.2 * 2**attempt)
        return error

    def _transaction(self, inbound_id: int, message: Incoming, work: dict[str, object]) -> list[Outgoing]:
        with self.sessions() as session:
            now = utcnow()
            user = self._user(session, message, now)
            claim = {"inbound_id": inbound_id, "at": now, "uid": user.id}
            if session.execute(CLAIM, claim).rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()  # processed already (a second worker, or a resumed message)
                return []
            turn = Turn(session, inbound_id, message, user, work, self.tools)
            self.dispatch(turn)
            if turn.failed:
                session.execute(FAILED, {"inbound_id": inbound_id, "reason": turn.failed})
            if user in session:  # not erased by this message
                _touch(user, "last_active_at", now)
            if turn.replies:
                user_id = user.id if user in session else None
                rows = [
                    {
                        "inbound_id": inbound_id,
                        "user_id": user_id,
                        "channel": message.channel,
                        "chat_id": out.chat_id,
                        "payload": out.to_json(),
                    }
                    for out in turn.replies
                ]
                session.flush()  # the rows the replies refer to exist first
                session.execute(_QUEUE, rows)
            session.commit()
            return turn.replies

    def _user(self, session: Session, message: Incoming, now: datetime) -> User:
        identity = session.scalar(_IDENTITY, {"channel": message.channel, "chat": message.chat_id})
        if identity is None:
            user = User(display_name=message.name[:200])
            identity = ChannelIdentity(
                channel=message.channel, external_id=message.chat_id, user=user, last_inbound_at=now
            )
            session.add_all([user, identity])
            session.flush()
        _touch(identity, "last_inbound_at", now)
        return identity.user


def _touch(row: User | ChannelIdentity, attribute: str, now: datetime) -> None:
    """Set a "last seen" time unless it is recent (every turn would otherwise write it)."""
    seen: datetime | None = getattr(row, attribute)
    if seen is None or now - seen >= TOUCH_EVERY:
        setattr(row, attribute, now)

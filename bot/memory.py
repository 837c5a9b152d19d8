"""The in-memory channel: the real core with no network, for tests, benchmarks and scripts."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from bot.app import App
from lessons.messages import Incoming, IncomingMedia, Outgoing

CHANNEL = "memory"


@dataclass
class MemorySender:
    """Keeps every message sent, per chat."""

    sent: defaultdict[str, list[Outgoing]] = field(default_factory=lambda: defaultdict(list))

    async def send(self, message: Outgoing) -> None:
        """Keep the message."""
        self.sent[message.chat_id].append(message)


class MemoryUser:
    """One person talking to the app through the in-memory channel."""

    _ids = itertools.count(1)

    def __init__(self, app: App, sender: MemorySender, chat_id: str) -> None:
        self.app = app
        self.sender = sender
        self.chat_id = chat_id

    @property
    def inbox(self) -> list[Outgoing]:
        """Everything this user has received, in order."""
        return self.sender.sent[self.chat_id]

    async def send(self, incoming: Incoming) -> list[Outgoing]:
        """Deliver a message; returns the replies it caused (as sent through the outbox)."""
        before = len(self.inbox)
        await self.app.service.handle(incoming)
        await self.app.outbox.flush(CHANNEL)
        return self.inbox[before:]

    def message(self, kind: str, text: str = "", **extra: object) -> Incoming:
        """A new message from this user with a fresh platform id."""
        return Incoming(CHANNEL, self.chat_id, f"m{next(self._ids)}", kind, text, **extra)  # type: ignore[arg-type]

    async def say(self, text: str) -> list[Outgoing]:
        """Type a text."""
        return await self.send(self.message("text", text))

    async def press(self, data: str) -> list[Outgoing]:
        """Press a button by its data; it must be among the choices last offered."""
        offered = [c.data for out in reversed(self.inbox) if out.choices for c in out.choices][:50]
        if data not in offered:
            raise AssertionError(f"button {data!r} not offered; offered: {offered}")
        return await self.send(self.message("button", data))

    async def voice(self, path: str, kind: str = "voice") -> list[Outgoing]:
        """Send an audio file as a voice note."""
        return await self.send(self.message("media", media=IncomingMedia(kind, path)))  # type: ignore[arg-type]

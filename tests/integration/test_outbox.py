"""The outbox: each chat's replies in order, chats side by side, a failure held to its own chat."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import App
from bot.memory import CHANNEL
from lessons.messages import Outgoing
from progress.models import OutboundMessage


class Gate:
    """A sender where a chosen chat's first message waits for a gate, or a chat fails once; it keeps what went
    out, in order."""

    def __init__(self, *, held: str = "", failing: str = "") -> None:
        self.gate = asyncio.Event()
        self.held = held
        self.failing = failing
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: Outgoing) -> None:
        """Wait at the gate with the held chat's first message; fail the failing chat's first try."""
        if message.chat_id == self.held:
            self.held = ""
            await self.gate.wait()
        if message.chat_id == self.failing:
            self.failing = ""
            raise OSError("network down")
        self.sent.append((message.chat_id, message.text))


def queue(app: App, *replies: tuple[str, str]) -> None:
    """Leave replies in the outbox, as a unit of work does."""
    with app.sessions() as session:
        for chat, text in replies:
            payload = Outgoing(chat, text, "fr").to_json()
            session.add(OutboundMessage(channel=CHANNEL, chat_id=chat, payload=payload))
        session.commit()


def statuses(app: App) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(OutboundMessage.status).order_by(OutboundMessage.id)))


async def test_a_slow_chat_does_not_hold_up_the_others(app: App) -> None:
    sender = Gate(held="slow")
    app.outbox.senders[CHANNEL] = sender
    queue(app, ("slow", "s1"), ("quick", "q1"), ("slow", "s2"), ("quick", "q2"))
    flush = asyncio.create_task(app.outbox.flush(CHANNEL))
    for _ in range(50):  # the quick chat is served while the slow one waits (a big upload, say)
        await asyncio.sleep(0.01)
        if len(sender.sent) == 2:
            break
    assert sender.sent == [("quick", "q1"), ("quick", "q2")]
    sender.gate.set()
    assert await flush == 4
    assert sender.sent[2:] == [("slow", "s1"), ("slow", "s2")]
    assert statuses(app) == ["sent"] * 4


async def test_a_failed_send_keeps_its_chats_order_and_spares_the_others(app: App) -> None:
    sender = Gate(failing="a")
    app.outbox.senders[CHANNEL] = sender
    queue(app, ("a", "a1"), ("b", "b1"), ("a", "a2"))
    assert await app.outbox.flush(CHANNEL) == 1
    assert sender.sent == [("b", "b1")]  # a2 waits: it must not arrive before a1
    assert statuses(app) == ["pending", "sent", "pending"]
    assert await app.outbox.flush(CHANNEL) == 2
    assert sender.sent == [("b", "b1"), ("a", "a1"), ("a", "a2")]
    assert statuses(app) == ["sent"] * 3


async def test_a_second_flush_waits_for_the_chat_it_would_overtake(app: App) -> None:
    sender = Gate(held="a")
    app.outbox.senders[CHANNEL] = sender
    queue(app, ("a", "a1 reply"), ("a", "a2 reply"))
    first = asyncio.create_task(app.outbox.flush(CHANNEL))  # a big upload: a1 is on its way
    await asyncio.sleep(0.05)
    queue(app, ("a", "a3 notice"))  # a trainer's decision, say, queued meanwhile
    second = asyncio.create_task(app.outbox.flush())  # and flushed by the dashboard, not the channel
    await asyncio.sleep(0.05)
    sender.gate.set()
    await asyncio.gather(first, second)
    assert sender.sent == [("a", "a1 reply"), ("a", "a2 reply"), ("a", "a3 notice")]
    assert statuses(app) == ["sent"] * 3

"""The whole app on the real python-telegram-bot client against the fake Bot API, and learners who use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.settings import Settings
from bot.telegram.channel import Telegram, TelegramChannel
from bot.telegram.run import web_parts
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.web import create_web_app
from lessons.languages import Lang
from speech.types import Transcriber
from tests.fakes.telegram_api import FakeChat, FakeTelegram, Sent
from tests.integration.journeys import onboard, right_answer

SECRET = "webhook-secret_0123456789"
Mode = Literal["polling", "webhook"]


def telegram_settings(settings: Settings, fake: FakeTelegram, **extra: Any) -> Settings:
    """`settings` pointed at the fake, with no per-chat pace unless asked."""
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(fake.token),
            "telegram_api_url": fake.api_url,
            "telegram_file_url": fake.file_url,
            "telegram_webhook_secret": SecretStr(SECRET),
            "telegram_chat_rate": 0.0,
            **extra,
        }
    )


@dataclass
class World:
    """The fake Bot API, our app and its Telegram channel, receiving by polling or by webhook."""

    fake: FakeTelegram
    app: App
    channel: TelegramChannel
    mode: Mode
    web: httpx.AsyncClient

    def learner(self, chat_id: int = 1001, name: str = "Amina", language: str = "fr") -> Learner:
        """A Telegram user talking to the bot."""
        return Learner(self, FakeChat(self.fake, chat_id, name, language))

    async def deliver(self, *updates: dict[str, Any]) -> None:
        """Hand updates to the bot the way the mode does, and wait until they are processed and answered."""
        if self.mode == "polling":
            await self.fake.push(*updates)
            await self.fake.confirmed()
        else:
            for update in updates:
                assert (await self.post(update)).status_code == 200
        await self.channel.settle()

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        """POST an update to our webhook, as Telegram would."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.web.post(WEBHOOK_PATH, json=self.fake.number(update), headers=headers)

    def count(self, model: type, **where: object) -> int:
        """Rows of `model` matching `where`."""
        with self.app.sessions() as session:
            query = select(func.count()).select_from(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return int(session.scalar(query) or 0)


class Learner:
    """A person on Telegram: what they type, tap and record, and what they see back."""

    def __init__(self, world: World, chat: FakeChat) -> None:
        self.world = world
        self.chat = chat

    @property
    def seen(self) -> list[Sent]:
        """Everything the bot sent them."""
        return self.chat.seen

    async def send(self, *updates: dict[str, Any]) -> list[Sent]:
        """Deliver updates; the messages they caused."""
        before = len(self.seen)
        await self.world.deliver(*updates)
        return self.seen[before:]

    async def say(self, text: str) -> list[Sent]:
        """Type a text."""
        return await self.send(self.chat.message(text=text))

    async def press(self, data: str) -> list[Sent]:
        """Tap the newest button with this data."""
        return await self.send(self.chat.tap(data))


async def at_checkpoint(world: World, chat_id: int = 1001, name: str = "Amina") -> Learner:
    """A French learner at the first question of the zellige course."""
    learner = world.learner(chat_id, name)
    await onboard(learner)
    await learner.press("course:zellige")
    for _ in range(right_answer(world.app.library.courses["zellige"], 0, Lang.FRENCH)[0]):
        await learner.press("next")
    return learner


@asynccontextmanager
async def telegram_world(
    settings: Settings,
    mode: Mode = "polling",
    fake: FakeTelegram | None = None,
    *,
    transcriber: Transcriber | None = None,
    **extra: Any,
) -> AsyncIterator[World]:
    """Start the fake (unless given), the app (hearing voice notes with `transcriber`) and the channel,
    polling or on the webhook; stop them after."""
    given = fake is not None
    fake = fake or FakeTelegram()
    if not given:
        await fake.start()
    configured = telegram_settings(settings, fake, telegram_mode=mode, **extra)
    telegram = Telegram(configured)
    app = build_app(configured, channels=[telegram], transcriber=transcriber)
    channel = TelegramChannel(app, telegram)
    parts = web_parts(channel)  # as `maalem run` runs it beside other channels
    web = create_web_app(app, parts.routers)
    for start in parts.on_startup:
        await start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test") as client:
        try:
            yield World(fake, app, channel, mode, client)
        finally:
            for stop in parts.on_shutdown:
                await stop()
            app.close()
            if not given:
                await fake.close()

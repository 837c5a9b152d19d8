"""The Telegram channel: one python-telegram-bot `Application`, wired to our app at one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import BotCommand, CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.app import App
from bot.conversation.router import COMMANDS
from bot.outbox import CONCURRENT_CHATS, Outbox
from bot.settings import Settings
from bot.telegram.adapter import CHANNEL, to_incoming
from bot.telegram.fetcher import TelegramFetcher
from bot.telegram.rate import ChatRateLimiter
from bot.telegram.sender import TelegramSender
from bot.telegram.store import Store
from bot.web import Background
from lessons.i18n import Catalog
from lessons.languages import Lang
from lessons.messages import Incoming

log = logging.getLogger(__name__)
Recorded = list[tuple[Update, int | None, Incoming | None]]
"""Saved updates, each with its inbound id (None: a second delivery) and our message (None: not for us)."""
MENU_LANGUAGES = (("ar", Lang.ARABIC), ("fr", Lang.FRENCH), ("en", Lang.ENGLISH))
"""Language codes with a command menu of their own; everyone else (Tamazight too) gets the default."""
RETRY_FIRST, RETRY_MAX = 1.0, 60.0
"""Seconds before sending failed messages again, doubling up to the maximum."""
STOP_GRACE = 10.0
"""Seconds work in progress gets at shutdown; what is cut short is resumed by the next start."""
CONNECTIONS = 2 * CONCURRENT_CHATS
"""Connections to the Bot API: the outbox's sends at most take half, button acknowledgements and downloads the
rest (more would cost time: httpcore scans the whole pool on every request)."""
SWEEP_EVERY = 10.0
"""Seconds between flushes sending what was queued with no message from the learner (reminders, grades)."""


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application on our settings: token, API and file URLs, rate limiter; no updater (we poll)."""
    if settings.telegram_token is None:
        raise ValueError("MAALEM_TELEGRAM_TOKEN is not set")
    return (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        .rate_limiter(ChatRateLimiter(settings.telegram_chat_rate, overall=settings.telegram_send_rate))
        .connection_pool_size(CONNECTIONS)
        .updater(None)
        .build()
    )


class Delivery:
    """Flushes the channel's outbox (which keeps each chat's order); failed sends are tried again after a
    pause that doubles."""

    def __init__(self, outbox: Outbox, sender: TelegramSender, background: Background) -> None:
        self.outbox = outbox
        self.sender = sender
        self.background = background
        self._retrying = False
        self._pause = RETRY_FIRST

    async def flush(self) -> None:
        """Send everything pending on Telegram, now or right after the flush in progress."""
        failures = self.sender.failures
        await self.outbox.flush(CHANNEL)
        if self.sender.failures == failures:
            self._pause = RETRY_FIRST
        elif not self._retrying:
            self._retrying = True
            self.background.spawn(self._retry(self._pause))
            self._pause = min(self._pause * 2, RETRY_MAX)

    async def _retry(self, pause: float) -> None:
        await asyncio.sleep(pause)
        self._retrying = False
        await self.flush()

    async def sweep(self) -> None:
        """Flush every `SWEEP_EVERY` seconds, until cancelled."""
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.flush()
            except Exception:
                log.exception("sending queued Telegram messages failed; the next sweep tries again")


class Telegram:
    """The channel's edges for `build_app`: Bot API client and fetcher now, store and sender on `connect`."""

    name = CHANNEL
    loop = None
    """Its sender runs on its callers' loop."""

    def __init__(self, settings: Settings) -> None:
        self.application = build_application(settings)
        self.fetcher = TelegramFetcher(self.application.bot, settings.telegram_max_download_bytes)
        self.content_dir = settings.content_dir
        self.store: Store | None = None
        self.sender: TelegramSender | None = None

    def connect(self, sessions: sessionmaker[Session], catalog: Catalog) -> TelegramSender:
        """The sender on the app's database (called by `build_app`)."""
        self.store = Store(sessions)
        self.sender = TelegramSender(self.application.bot, self.store, self.content_dir)
        return self.sender


class TelegramChannel:
    """Updates in (each committed before anything else happens), replies out through the outbox."""

    def __init__(self, app: App, telegram: Telegram) -> None:
        if telegram.store is None or telegram.sender is None:
            raise ValueError("build the app with the Telegram channel first (build_app(channels=[telegram]))")
        self.app = app
        self.application = telegram.application
        self.bot = telegram.application.bot
        self.key = self.bot.token.encode()
        """Keys the digests in delivery ids, so the message log holds no Telegram user id."""
        self.background = Background()
        self.store = telegram.store
        self.sender = telegram.sender
        self.delivery = Delivery(app.outbox, self.sender, self.background)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (getMe), publish the command menus, then finish what a previous run left unprocessed."""
        await self.application.initialize()
        await self.publish_commands()
        await self.app.service.resume()
        await self.delivery.flush()
        self._sweeper = asyncio.create_task(self.delivery.sweep())

    async def stop(self) -> None:
        """Stop sweeping, give work in progress `STOP_GRACE` seconds, disconnect."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
        if self.background.tasks:
            _, late = await asyncio.wait(set(self.background.tasks), timeout=STOP_GRACE)
            for task in late:
                task.cancel()
        await self.application.shutdown()

    def receive(self, update: Update) -> int | None:
        """Record the update (committed when this returns), then answer and process it in the background.

        Returns the inbound id, or None for a second delivery or an update that is nothing for us.
        """
        return self.receive_all([update])[0]

    def receive_all(self, updates: Sequence[Update]) -> list[int | None]:
        """`receive` for a batch of updates, saved in one transaction: all of them or, on an error, none."""
        return self.answer(self.record_all(updates))

    def record_all(self, updates: Sequence[Update]) -> Recorded:
        """Save a batch of updates in one transaction (from any thread); `answer` then handles them."""
        incoming = [to_incoming(update, self.key) for update in updates]
        saved = iter(self.app.service.record_all([message for message in incoming if message]))
        return [
            (update, next(saved) if message else None, message)
            for update, message in zip(updates, incoming, strict=True)
        ]

    def answer(self, recorded: Recorded) -> list[int | None]:
        """Answer and process in the background (on the event loop) what `record_all` saved; the ids."""
        ids = []
        for update, inbound_id, message in recorded:
            if message and inbound_id is None:
                log.debug("update %d was already received", update.update_id)
            received = (inbound_id, message) if inbound_id is not None and message else None
            if received or update.callback_query is not None:
                self.background.spawn(self._handle(update.callback_query, received))
            ids.append(inbound_id)
        return ids

    async def settle(self) -> None:
        """Wait until everything received so far is processed and sent (tests, benchmarks)."""
        await self.background.drain()

    async def _handle(self, query: CallbackQuery | None, received: tuple[int, Incoming] | None) -> None:
        if query is not None:
            await self._acknowledge(query, first=received is not None)
        if received is not None:
            await self.app.service.process(*received)
            await self.delivery.flush()

    async def _acknowledge(self, query: CallbackQuery, *, first: bool) -> None:
        """Stop the button's spinner; on the first tap, take the keyboard away so it cannot answer twice."""
        try:
            await self.bot.answer_callback_query(query.id)
            if first and query.message is not None:
                await self.bot.edit_message_reply_markup(
                    query.message.chat.id, query.message.message_id, reply_markup=None
                )
        except TelegramError as exc:
            log.warning("acknowledging a button tap failed: %s", type(exc).__name__)

    async def publish_commands(self) -> None:
        """The `/` menu in each language Telegram has a code for; the default in the default language."""
        menus = [*MENU_LANGUAGES, (None, self.app.settings.default_language)]
        try:
            for code, lang in menus:
                commands = [BotCommand(name, self.app.catalog.t(lang, f"menu.{name}")) for name in COMMANDS]
                await self.bot.set_my_commands(commands, language_code=code)
        except TelegramError as exc:
            log.warning("publishing the command menus failed: %s", type(exc).__name__)

"""Running the Telegram channel: long polling by default, or the webhook on our web app; webhook setup."""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress
from dataclasses import dataclass, field

import uvicorn
from fastapi import APIRouter

from bot.app import App
from bot.settings import Settings
from bot.telegram.adapter import ALLOWED_UPDATES
from bot.telegram.channel import Telegram, TelegramChannel, build_application
from bot.telegram.polling import poll
from bot.telegram.webhook import WEBHOOK_PATH, webhook_router
from bot.web import Startup, create_web_app


@dataclass
class WebParts:
    """What the web app needs to run Telegram beside other channels."""

    routers: list[APIRouter] = field(default_factory=list)
    on_startup: list[Startup] = field(default_factory=list)
    on_shutdown: list[Startup] = field(default_factory=list)


def web_parts(channel: TelegramChannel) -> WebParts:
    """The webhook router (webhook mode), or a polling task that lives as long as the web app."""
    settings = channel.app.settings
    polling: list[asyncio.Task[None]] = []

    async def start() -> None:
        await channel.start()
        if settings.telegram_mode == "polling":
            polling.append(asyncio.create_task(poll(channel)))

    async def stop() -> None:
        for task in polling:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await channel.stop()

    routers = []
    if settings.telegram_mode == "webhook":
        secret = settings.telegram_webhook_secret
        routers.append(webhook_router(channel, secret.get_secret_value() if secret else ""))
    return WebParts(routers, [start], [stop])


async def run_telegram(app: App, telegram: Telegram) -> None:
    """Telegram alone until interrupted (an app built with it): our getUpdates loop, or the webhook."""
    channel = TelegramChannel(app, telegram)
    settings = app.settings
    if settings.telegram_mode == "webhook":
        parts = web_parts(channel)
        web = create_web_app(app, parts.routers, parts.on_startup, parts.on_shutdown)
        config = uvicorn.Config(web, host=settings.web_host, port=settings.web_port, log_config=None)
        await uvicorn.Server(config).serve()
        return
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await channel.start()
    try:
        await poll(channel)
    finally:
        await channel.stop()


def webhook_url(url: str) -> str:
    """The public URL with our webhook path, added when the operator gave only the server's address."""
    return url if url.rstrip("/").endswith(WEBHOOK_PATH) else url.rstrip("/") + WEBHOOK_PATH


async def set_webhook(settings: Settings, url: str) -> str:
    """Ask Telegram to POST updates to `url` with our secret header; returns the URL set."""
    secret = settings.telegram_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ValueError("set MAALEM_TELEGRAM_WEBHOOK_SECRET first (1-256 characters: A-Z a-z 0-9 _ -)")
    target = webhook_url(url)
    async with build_application(settings).bot as bot:
        await bot.set_webhook(
            target, secret_token=secret.get_secret_value(), allowed_updates=list(ALLOWED_UPDATES)
        )
    return target


async def delete_webhook(settings: Settings) -> None:
    """Stop webhook delivery (pending updates are kept, for polling to fetch)."""
    async with build_application(settings).bot as bot:
        await bot.delete_webhook()

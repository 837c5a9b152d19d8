"""The served process: the configured chat channels, the trainers' dashboard and its sweeps on one web app."""

from __future__ import annotations

import gc

import uvicorn
from fastapi import FastAPI

from bot.app import App, ChannelEdges, Components, build_app
from bot.settings import Settings
from bot.telegram.channel import Telegram, TelegramChannel
from bot.telegram.run import WebParts, web_parts
from bot.web import create_web_app
from bot.whatsapp.channel import WhatsApp
from progress.web import progress_parts


async def serve(settings: Settings, models: Components) -> None:
    """WhatsApp's webhook, Telegram when its token is set, the dashboard and sweeps; saved messages first."""
    whatsapp = WhatsApp(settings)
    telegram = Telegram(settings) if settings.telegram_token else None
    channels: list[ChannelEdges] = [whatsapp, telegram] if telegram else [whatsapp]
    app = build_app(settings, **models.as_kwargs(), channels=channels)
    try:
        webhook = whatsapp.webhook(app)
        telegram_parts = web_parts(TelegramChannel(app, telegram)) if telegram else WebParts()
        progress = progress_parts(app.dashboard_deps())
        gc.freeze()  # startup's objects are never garbage: full collections stay short (400 ms → 20 ms)

        async def catch_up() -> None:
            await app.service.resume()
            await webhook.flush()

        web = create_web_app(
            app,
            [webhook.router(), *telegram_parts.routers, *progress.routers],
            on_startup=[catch_up, *telegram_parts.on_startup, *progress.on_startup],
            on_shutdown=[*progress.on_shutdown, *telegram_parts.on_shutdown, webhook.drain, whatsapp.aclose],
        )
        await listen(web, settings)
    finally:
        app.close()


async def serve_dashboard(app: App) -> None:
    """The trainers' dashboard and the reminder sweeps, with no chat channel configured (offline trial)."""
    progress = progress_parts(app.dashboard_deps())
    web = create_web_app(app, progress.routers, progress.on_startup, progress.on_shutdown)
    await listen(web, app.settings)


async def listen(web: FastAPI, settings: Settings) -> None:
    """Serve `web` on `web_host:web_port` until interrupted."""
    config = uvicorn.Config(web, host=settings.web_host, port=settings.web_port, log_config=None)
    await uvicorn.Server(config).serve()

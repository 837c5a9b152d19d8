"""Running Maalem: `run` (the configured channels, else the offline demo and dashboard), `chat`, `demo`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import admin_app, settings
from lessons.languages import Lang

if TYPE_CHECKING:
    from bot.app import App
    from bot.settings import Settings
    from bot.terminal import TerminalSender


def terminal_app(current: Settings) -> tuple[App, TerminalSender]:
    """The app with the terminal channel attached, or a clear message and exit code 2."""
    from bot.terminal import CHANNEL, LocalFileFetcher, TerminalSender, is_tty

    sender = TerminalSender(sys.stdout, bidi=is_tty())
    fetcher = LocalFileFetcher(current.max_audio_bytes)
    app = admin_app(current, learners=True, senders={CHANNEL: sender}, fetchers={CHANNEL: fetcher})
    return app, sender


def chat_command(
    user: Annotated[str, typer.Option(help="who you are in this chat")] = "terminal-user",
) -> None:
    """Talk to Maalem in the terminal; numbers press buttons, `/voice`, `/photo`, `/video PATH` send files."""
    from bot.terminal import chat

    app, sender = terminal_app(settings())
    try:
        asyncio.run(chat(app, sys.stdin, sender, user))
    finally:
        app.close()


def demo_command(
    language: Annotated[Lang, typer.Option(help="the scripted learner's language")] = Lang.FRENCH,
) -> None:
    """A scripted learner takes a lesson: onboarding, steps, a checkpoint answered wrong then right."""
    from bot.terminal import demo

    app, sender = terminal_app(settings())
    try:
        asyncio.run(demo(app, sender, language))
    finally:
        app.close()


def run() -> None:
    """Run the configured channels (WhatsApp's webhook, Telegram when its token is set), else the demo."""
    from bot.whatsapp.channel import missing
    from progress.certificates import public_url_warning

    current = settings()
    if warning := public_url_warning(current.public_url):
        typer.echo(f"warning: {warning}", err=True)
    if not missing(current):
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn shuts down cleanly, then re-raises it
            asyncio.run(serve(current))
        return
    if current.telegram_token is not None:
        telegram_run(current)
        return
    demo_command(Lang.FRENCH)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_dashboard(current))


async def serve(current: Settings) -> None:
    """Serve the webhooks on `web_host:web_port` until interrupted; saved messages are processed first."""
    import uvicorn

    from bot.telegram.channel import build_telegram
    from bot.telegram.run import WebParts, web_parts
    from bot.web import create_web_app
    from bot.whatsapp import CHANNEL as WHATSAPP
    from bot.whatsapp.channel import WhatsApp
    from progress.web import progress_parts

    whatsapp = WhatsApp(current)
    app = admin_app(current, learners=True, fetchers={WHATSAPP: whatsapp.fetcher})
    webhook = whatsapp.attach(app)
    telegram = web_parts(build_telegram(app)) if current.telegram_token else WebParts()
    progress = progress_parts(app.dashboard_deps())
    gc.freeze()  # startup's objects are never garbage: full collections stay short (400 ms → 20 ms)

    async def catch_up() -> None:
        await app.service.resume()
        await webhook.flush()

    web = create_web_app(
        app,
        [webhook.router(), *telegram.routers, *progress.routers],
        on_startup=[catch_up, *telegram.on_startup, *progress.on_startup],
        on_shutdown=[*progress.on_shutdown, *telegram.on_shutdown, webhook.drain, whatsapp.aclose],
    )
    server = uvicorn.Server(
        uvicorn.Config(web, host=current.web_host, port=current.web_port, log_config=None)
    )
    try:
        await server.serve()
    finally:
        app.close()


async def serve_dashboard(current: Settings) -> None:
    """The trainers' dashboard and the reminder sweeps, with no chat channel configured (offline trial)."""
    import uvicorn

    from bot.web import create_web_app
    from progress.web import progress_parts

    app = admin_app(current)
    progress = progress_parts(app.dashboard_deps())
    web = create_web_app(app, progress.routers, progress.on_startup, progress.on_shutdown)
    typer.echo(f"dashboard: {current.public_base_url()}/dashboard/ (accounts: maalem users add-trainer)")
    server = uvicorn.Server(
        uvicorn.Config(web, host=current.web_host, port=current.web_port, log_config=None)
    )
    try:
        await server.serve()
    finally:
        app.close()


def telegram_run(current: Settings) -> None:
    """Telegram alone: long polling, or the webhook when MAALEM_TELEGRAM_MODE=webhook."""
    from telegram.error import TelegramError

    from bot.telegram.run import run_telegram

    app = admin_app(current, learners=True)
    try:
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(run_telegram(app))
    except (TelegramError, ValueError) as exc:
        typer.echo(f"maalem: Telegram: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        app.close()

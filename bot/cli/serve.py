"""Running Maalem: `run` (the configured channels, else the offline demo and dashboard), `chat`, `demo`."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import admin_app, models, plain_failures, settings
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
    import asyncio

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
    import asyncio

    from bot.terminal import demo

    app, sender = terminal_app(settings())
    try:
        asyncio.run(demo(app, sender, language))
    finally:
        app.close()


def run() -> None:
    """Run the configured channels (WhatsApp's webhook, Telegram when its token is set), else the demo."""
    import asyncio

    from bot.whatsapp.channel import missing
    from progress.certificates import public_url_warning

    current = settings()
    if warning := public_url_warning(current.public_url):
        typer.echo(f"warning: {warning}", err=True)
    if not missing(current):
        from bot.server import serve

        loaded = models(current)
        with plain_failures(), contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn stops, re-raises it
            asyncio.run(serve(current, loaded))
        return
    if current.telegram_token is not None:
        telegram_run(current)
        return
    demo_command(Lang.FRENCH)
    dashboard(current)


def dashboard(current: Settings) -> None:
    """The trainers' dashboard and the reminder sweeps, with no chat channel configured (offline trial)."""
    import asyncio

    from bot.server import serve_dashboard

    app = admin_app(current)
    typer.echo(f"dashboard: {current.public_base_url()}/dashboard/ (accounts: maalem users add-trainer)")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_dashboard(app))
    finally:
        app.close()


def telegram_run(current: Settings) -> None:
    """Telegram alone: long polling, or the webhook when MAALEM_TELEGRAM_MODE=webhook."""
    import asyncio

    from telegram.error import TelegramError

    from bot.telegram.channel import Telegram
    from bot.telegram.run import run_telegram

    telegram = Telegram(current)
    app = admin_app(current, learners=True, channels=[telegram])
    try:
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
            asyncio.run(run_telegram(app, telegram))
    except (TelegramError, ValueError) as exc:
        typer.echo(f"maalem: Telegram: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        app.close()

"""The `maalem` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.app import App, build_app
from bot.logs import setup_logging
from bot.settings import Settings
from bot.terminal import CHANNEL, LocalFileFetcher, TerminalSender, chat, demo, is_tty
from lessons.content import ContentInvalid, scan
from lessons.languages import Lang
from progress.db import DatabaseUnavailable, upgrade

cli = typer.Typer(help="Maalem: apprenticeship in the chat apps, from master artisans.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
content_cli = typer.Typer(help="Course packs.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(content_cli, name="content")


def settings() -> Settings:
    """Settings from the environment and `.env`, with logging set up to hide secrets."""
    current = Settings()
    secrets = tuple(
        s.get_secret_value()
        for s in (
            current.telegram_token,
            current.whatsapp_token,
            current.whatsapp_app_secret,
            current.llm_api_key,
        )
        if s
    )
    setup_logging(current.log_level, secrets)
    return current


def terminal_app(current: Settings) -> tuple[App, TerminalSender]:
    """The app with the terminal channel attached, or a clear message and exit code 2."""
    sender = TerminalSender(sys.stdout, bidi=is_tty())
    try:
        app = build_app(
            current,
            senders={CHANNEL: sender},
            fetchers={CHANNEL: LocalFileFetcher(current.max_audio_bytes)},
        )
    except (DatabaseUnavailable, ContentInvalid) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(2) from exc
    return app, sender


@cli.command()
def config() -> None:
    """Print the effective settings, secrets masked."""
    typer.echo(json.dumps(settings().masked(), indent=2, default=str, ensure_ascii=False))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema."""
    current = settings()
    try:
        upgrade(current.resolved_database_url())
    except DatabaseUnavailable as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("database is up to date")


@content_cli.command("check")
def content_check(folder: Annotated[Path | None, typer.Argument(help="content folder")] = None) -> None:
    """Validate every course pack; exit non-zero naming each problem's file and place."""
    root = folder or settings().content_dir
    library, errors = scan(root)
    for error in errors:
        typer.echo(f"error: {error}", err=True)
    if errors:
        raise typer.Exit(1)
    steps = sum(len(lesson.steps) for c in library.courses.values() for lesson in c.lessons)
    typer.echo(
        f"ok: {len(library.courses)} courses, {steps} steps, {len(library.regions)} regions, "
        f"{len(library.crafts)} crafts, {len(library.cooperatives)} cooperatives"
    )


@cli.command("chat")
def chat_command(
    user: Annotated[str, typer.Option(help="who you are in this chat")] = "terminal-user",
) -> None:
    """Talk to Maalem in the terminal; numbers press buttons, `/voice PATH` sends a voice note."""
    app, sender = terminal_app(settings())
    try:
        asyncio.run(chat(app, sys.stdin, sender, user))
    finally:
        app.close()


@cli.command("demo")
def demo_command(
    language: Annotated[Lang, typer.Option(help="the scripted learner's language")] = Lang.FRENCH,
) -> None:
    """A scripted learner takes a lesson: onboarding, steps, a checkpoint answered wrong then right."""
    app, sender = terminal_app(settings())
    try:
        asyncio.run(demo(app, sender, language))
    finally:
        app.close()


@cli.command()
def run() -> None:
    """Run the configured channels; with none configured, the offline demo."""
    demo_command(Lang.FRENCH)


def main() -> None:
    """Entry point of the `maalem` script."""
    cli()

"""What every command shares: the settings (with logging that hides secrets), the app, plain failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # the app and the settings load only when a command runs (`maalem --help` stays quick)
    from bot.app import App, Components
    from bot.settings import Settings


def settings() -> Settings:
    """Settings from the environment and `.env`, with logging set up to hide secrets."""
    from bot.logs import setup_logging
    from bot.settings import Settings

    current = Settings()
    secrets = tuple(
        s.get_secret_value()
        for s in (
            current.telegram_token,
            current.whatsapp_token,
            current.whatsapp_app_secret,
            current.whatsapp_verify_token,
            current.llm_api_key,
        )
        if s
    )
    setup_logging(current.log_level, secrets)
    return current


@contextmanager
def plain_failures() -> Iterator[None]:
    """A database, content or model that cannot be used: its message and exit code 2."""
    from lessons.content import ContentInvalid
    from progress.db import DatabaseUnavailable
    from speech.types import ModelError

    try:
        yield
    except (DatabaseUnavailable, ContentInvalid, ModelError) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(2) from exc


def models(current: Settings) -> Components:
    """The voice and grading models the settings ask for; exit code 2 if one cannot load."""
    from bot.app import load_components

    with plain_failures():
        return load_components(current)


def admin_app(current: Settings, *, learners: bool = False, **parts: Any) -> App:
    """The app (with the voice and grading models when it serves `learners`); exit code 2 if it fails."""
    from bot.app import build_app

    if learners:
        parts = {**models(current).as_kwargs(), **parts}
    with plain_failures():
        return build_app(current, **parts)


def fail(message: object) -> NoReturn:
    """Say what went wrong and exit with code 1."""
    typer.echo(f"maalem: {message}", err=True)
    raise typer.Exit(1)

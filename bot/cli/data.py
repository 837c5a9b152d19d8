"""Settings, schema and the data: `config`, `db upgrade`, `backup`, `restore`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import fail, settings

db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)


def config() -> None:
    """Print the effective settings, secrets masked, and where the grading model is trusted."""
    from bot.components import calibration

    current = settings()
    try:
        model, records = calibration(current)
        trust: dict[str, object] = {
            "model": model,
            "in_use": current.assessor != "rubric",
            "languages": {
                lang.value: {"trusted": ok, "why": why} for lang, (ok, why) in records.trust(model).items()
            },
        }
    except LookupError as exc:
        trust = {"model": None, "error": str(exc)}
    shown = {**current.masked(), "grading_model_trust": trust}
    typer.echo(json.dumps(shown, indent=2, default=str, ensure_ascii=False))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema."""
    from progress.db import DatabaseUnavailable, upgrade

    current = settings()
    try:
        upgrade(current.resolved_database_url())
    except DatabaseUnavailable as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("database is up to date")


def backup_command(
    dest: Annotated[Path, typer.Argument(help="the archive to write, or a folder for a dated one")] = Path(
        "."
    ),
) -> None:
    """Back up the database and the data folder (voice notes, media, packs, certificates) in one file."""
    from progress.backup import BackupError, backup

    current = settings()
    try:
        archive = backup(current.resolved_database_url(), current.data_dir, dest)
    except (BackupError, OSError) as exc:
        fail(exc)
    typer.echo(f"backed up to {archive}")


def restore_command(
    archive: Annotated[Path, typer.Argument(help="a file `maalem backup` wrote")],
) -> None:
    """Restore a backup into an empty data folder and an empty database (the configured ones)."""
    from progress.backup import BackupError, restore

    current = settings()
    try:
        restore(archive, current.resolved_database_url(), current.data_dir)
    except (BackupError, OSError) as exc:
        fail(exc)
    typer.echo(f"restored {archive} into {current.data_dir}")

"""The `maalem` command line: a module per command group; commands parse and call, nothing heavy loads."""

from __future__ import annotations

import os

import typer

from bot.cli.channels import telegram_cli, whatsapp_cli
from bot.cli.content import content_cli
from bot.cli.data import backup_command, config, db_cli, restore_command
from bot.cli.models import assess_command, eval_cli, models_cli, transcribe_command
from bot.cli.people import users_cli
from bot.cli.review import review_cli
from bot.cli.serve import chat_command, demo_command, run

cli = typer.Typer(help="Maalem: apprenticeship in the chat apps, from master artisans.", no_args_is_help=True)
cli.command()(config)
cli.command("backup")(backup_command)
cli.command("restore")(restore_command)
cli.command("chat")(chat_command)
cli.command("demo")(demo_command)
cli.command()(run)
cli.command("assess")(assess_command)
cli.command("transcribe")(transcribe_command)
content_cli.add_typer(review_cli, name="review")
for name, group in (
    ("db", db_cli),
    ("content", content_cli),
    ("whatsapp", whatsapp_cli),
    ("telegram", telegram_cli),
    ("users", users_cli),
    ("eval", eval_cli),
    ("models", models_cli),
):
    cli.add_typer(group, name=name)


def main() -> None:
    """Entry point of the `maalem` script; what it writes (database, voices, certificates) is private."""
    os.umask(0o077)
    cli()

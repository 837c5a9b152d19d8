"""Channel setup against the platforms: `telegram set-webhook`, `delete-webhook`, `whatsapp check`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import settings

telegram_cli = typer.Typer(help="The Telegram channel.", no_args_is_help=True)
whatsapp_cli = typer.Typer(help="The WhatsApp Cloud API channel.", no_args_is_help=True)


@telegram_cli.command("set-webhook")
def telegram_set_webhook(
    url: Annotated[str, typer.Argument(help="this server's public HTTPS address (or the full webhook URL)")],
) -> None:
    """Have Telegram POST updates to URL/telegram/webhook, signed with MAALEM_TELEGRAM_WEBHOOK_SECRET."""
    import asyncio

    from telegram.error import TelegramError

    from bot.telegram.run import set_webhook

    try:
        target = asyncio.run(set_webhook(settings(), url))
    except (TelegramError, ValueError) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"webhook set: {target}")


@telegram_cli.command("delete-webhook")
def telegram_delete_webhook() -> None:
    """Stop webhook delivery; pending updates wait for long polling (`maalem run`)."""
    import asyncio

    from telegram.error import TelegramError

    from bot.telegram.run import delete_webhook

    try:
        asyncio.run(delete_webhook(settings()))
    except (TelegramError, ValueError) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("webhook deleted")


@whatsapp_cli.command("check")
def whatsapp_check() -> None:
    """Check the WhatsApp settings against the Graph API: our number, its quality, the templates set."""
    import asyncio

    from bot.whatsapp.channel import check

    ok, lines = asyncio.run(check(settings()))
    for line in lines:
        typer.echo(line if ok else f"maalem: {line}", err=not ok)
    if not ok:
        raise typer.Exit(1)

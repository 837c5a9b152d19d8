"""`users`: dashboard accounts and masters' invitations."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import admin_app, fail, settings
from lessons.languages import Lang

users_cli = typer.Typer(help="Dashboard accounts and masters' invitations.", no_args_is_help=True)


@users_cli.command("invite-master")
def users_invite_master(
    name: Annotated[str, typer.Argument(help="the master's name, as credited on their lessons")],
    *,
    craft: Annotated[str | None, typer.Option(help="their craft code")] = None,
    region: Annotated[str | None, typer.Option(help="their region code")] = None,
    city: Annotated[str | None, typer.Option(help="their city, shown with their name")] = None,
    language: Annotated[Lang | None, typer.Option(help="the language they teach in")] = None,
    author_id: Annotated[
        str | None, typer.Option(help="an author id already credited in a course pack")
    ] = None,
    bot: Annotated[str | None, typer.Option(help="the Telegram bot's username, to print a link")] = None,
    days: Annotated[int, typer.Option(help="days the code stays valid")] = 14,
) -> None:
    """Print a one-time code (and link) that links a master's chat account to their master profile."""
    from progress.masters import invite_master

    current = settings()
    app = admin_app(current)
    try:
        if craft and craft not in app.library.crafts:
            fail(f"unknown craft {craft!r}; crafts: {', '.join(app.library.crafts)}")
        if region and region not in app.library.regions:
            fail(f"unknown region {region!r}; regions: {', '.join(app.library.regions)}")
        with app.sessions() as session:
            profile, code = invite_master(
                session,
                name=name,
                craft=craft,
                region=region,
                city=city,
                language=language or current.default_language,
                author_id=author_id,
                days=days,
            )
            session.commit()
    finally:
        app.close()
    typer.echo(f"invitation for {profile.name} (author id {profile.author_id}), valid {days} days")
    typer.echo(f"code: {code}   (the master sends it to the bot, or /start {code})")
    if bot:
        typer.echo(f"link: https://t.me/{bot.lstrip('@')}?start={code}")


@users_cli.command("add-trainer")
def users_add_trainer(  # noqa: PLR0917 (typer reads the options from the signature)
    login: Annotated[str, typer.Argument(help="the name they log in with")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MAALEM_NEW_PASSWORD",
            help="at least 10 characters; asked when not given",
        ),
    ],
    name: Annotated[str, typer.Option(help="their name as the dashboard shows it")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="sees every region and cooperative")] = False,
    region: Annotated[str | None, typer.Option(help="a region code: a regional trainer")] = None,
    cooperative: Annotated[str | None, typer.Option(help="a cooperative code: a cooperative trainer")] = None,
    chat: Annotated[
        str | None, typer.Option(help="CHANNEL:CHAT_ID where their weekly digest goes (telegram:12345)")
    ] = None,
    language: Annotated[Lang, typer.Option(help="the language of their weekly digest")] = Lang.FRENCH,
) -> None:
    """Create or update a dashboard account: an admin, a regional trainer or a cooperative trainer."""
    from progress.accounts import AccountError, add_trainer

    current = settings()
    channel, _, chat_id = (chat or "").partition(":")
    if chat and not (channel and chat_id):
        fail("--chat is CHANNEL:CHAT_ID, e.g. telegram:12345")
    app = admin_app(current)
    try:
        with app.sessions() as session:
            user = add_trainer(
                session,
                login,
                password,
                name=name,
                admin=admin,
                region=region,
                cooperative=cooperative,
                chat=(channel, chat_id) if chat else None,
                language=language,
            )
            session.commit()
            scope = "admin" if admin else f"trainer of {user.cooperative_code or user.region_code}"
    except AccountError as exc:
        fail(exc)
    finally:
        app.close()
    typer.echo(f"{user.login} ({scope}) can log in at {current.public_base_url()}/dashboard/")

"""The `maalem` command line."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, cast, get_args

import typer

from bot.logs import setup_logging
from bot.settings import Settings
from bot.terminal import CHANNEL, LocalFileFetcher, TerminalSender, chat, demo, is_tty
from bot.whatsapp import CHANNEL as WHATSAPP
from lessons.content import ContentInvalid, OutsidePack, load_library, scan
from lessons.evaluation import assess_json, checkpoint_refs, evaluate, load_labelled, render_table
from lessons.languages import Lang, pick
from lessons.packs import COURSE_FILE, export_pack, read_pack
from lessons.rubric import RubricMatcher
from speech.types import ModelError

if TYPE_CHECKING:  # the app, models, web and chat clients load only for the commands that use them
    from bot.app import App
    from lessons.assessment import Assessor
    from lessons.drafting import Drafter
    from speech.models import TranscriberKind

cli = typer.Typer(help="Maalem: apprenticeship in the chat apps, from master artisans.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
content_cli = typer.Typer(help="Course packs.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
whatsapp_cli = typer.Typer(help="The WhatsApp Cloud API channel.", no_args_is_help=True)
cli.add_typer(content_cli, name="content")
cli.add_typer(whatsapp_cli, name="whatsapp")
telegram_cli = typer.Typer(help="The Telegram channel.", no_args_is_help=True)
cli.add_typer(telegram_cli, name="telegram")
review_cli = typer.Typer(
    help="Lessons masters recorded in the chat, waiting for a trainer.", no_args_is_help=True
)
content_cli.add_typer(review_cli, name="review")
users_cli = typer.Typer(help="Dashboard accounts and masters' invitations.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
eval_cli = typer.Typer(help="Measurements on labelled data.", no_args_is_help=True)
cli.add_typer(eval_cli, name="eval")


def settings() -> Settings:
    """Settings from the environment and `.env`, with logging set up to hide secrets."""
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


def terminal_app(current: Settings) -> tuple[App, TerminalSender]:
    """The app with the terminal channel attached, or a clear message and exit code 2."""
    sender = TerminalSender(sys.stdout, bidi=is_tty())
    fetcher = LocalFileFetcher(current.max_audio_bytes)
    app = admin_app(current, learners=True, senders={CHANNEL: sender}, fetchers={CHANNEL: fetcher})
    return app, sender


@cli.command()
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


@content_cli.command("check")
def content_check(
    folder: Annotated[Path | None, typer.Argument(help="content folder, or one course pack's folder")] = None,
) -> None:
    """Validate every course pack; exit non-zero naming each problem's file and place."""
    root = folder or settings().content_dir
    if os.path.lexists(root / COURSE_FILE):  # one pack (an export), checked with installed crafts, regions
        shared, _ = scan(settings().content_dir)
        course, errors = read_pack(root, replace(shared, courses={}))
        for error in errors:
            typer.echo(f"error: {error}", err=True)
        if course is None:
            raise typer.Exit(1)
        steps = sum(len(lesson.steps) for lesson in course.lessons)
        typer.echo(f"ok: course {course.id}, {len(course.lessons)} lessons, {steps} steps")
        return
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


def admin_app(current: Settings, *, learners: bool = False, **parts: Any) -> App:
    """The app (with the voice and grading models when it serves `learners`); exit code 2 if it fails."""
    from bot.app import build_app
    from bot.components import load_components
    from progress.db import DatabaseUnavailable

    try:
        if learners:
            parts = {**load_components(current).as_kwargs(), **parts}
        return build_app(current, **parts)
    except (DatabaseUnavailable, ContentInvalid, ModelError) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(2) from exc


def _fail(message: object) -> NoReturn:
    typer.echo(f"maalem: {message}", err=True)
    raise typer.Exit(1)


@content_cli.command("export")
def content_export(
    course: Annotated[str, typer.Argument(help="the course id")],
    dest: Annotated[Path, typer.Argument(help="folder to write the pack into")] = Path("."),
) -> None:
    """Write a course pack (course.yaml and media, byte for byte) that `content check` and `import` accept."""
    app = admin_app(settings())
    try:
        found = app.library.courses.get(course)
        if found is None:
            _fail(f"no course {course!r}; courses: {', '.join(sorted(app.library.courses))}")
        try:
            folder = export_pack(found, dest)
        except (FileExistsError, OutsidePack) as exc:
            _fail(exc)
        typer.echo(f"exported {course} to {folder}")
    finally:
        app.close()


@content_cli.command("import")
def content_import(path: Annotated[Path, typer.Argument(help="a course pack's folder (an export)")]) -> None:
    """Publish a course pack exported elsewhere, unchanged, with its authors and licences."""
    app = admin_app(settings())
    try:
        course = app.shelf.add(path, app.library)
    except ContentInvalid as exc:
        _fail(exc)
    finally:
        app.close()
    typer.echo(f"imported {course.id}: {sum(len(lesson.steps) for lesson in course.lessons)} steps")


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
    from progress.authoring import invite_master

    current = settings()
    app = admin_app(current)
    try:
        if craft and craft not in app.library.crafts:
            _fail(f"unknown craft {craft!r}; crafts: {', '.join(app.library.crafts)}")
        if region and region not in app.library.regions:
            _fail(f"unknown region {region!r}; regions: {', '.join(app.library.regions)}")
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


@review_cli.command("list")
def review_list() -> None:
    """Lessons waiting for approval: id, course, title, master, steps, drafts left to check."""
    from progress.authoring import drafts_left, localized, steps_of, submitted

    app = admin_app(settings())
    try:
        with app.sessions() as session:
            waiting = submitted(session)
            for lesson in waiting:
                title = pick(localized(lesson.title), Lang.FRENCH)[0]
                steps = len(steps_of(session, lesson))
                typer.echo(
                    f"{lesson.id}\t{lesson.course_id}\t{title}\t{steps} steps\t"
                    f"{drafts_left(session, lesson)} texts to check\tsubmitted {lesson.submitted_at:%Y-%m-%d}"
                )
            if not waiting:
                typer.echo("no lesson is waiting for approval")
    finally:
        app.close()


@review_cli.command("show")
def review_show(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id (see `review list`)")],
) -> None:
    """Every text of a lesson per language, machine drafts and untranslated copies marked, and its media."""
    from progress.authoring import AuthoringError, get_lesson, steps_of, texts_of

    app = admin_app(settings())
    marks = {"llm": "AI DRAFT, check it", "copy": "NOT TRANSLATED, master's words copied"}
    try:
        with app.sessions() as session:
            lesson = get_lesson(session, lesson_id)
            typer.echo(f"lesson {lesson.id} of {lesson.course_id}: {lesson.status}, licence {lesson.licence}")
            for where, texts in texts_of(session, lesson).items():
                for lang, text in texts.items():
                    mark = f"   [{marks[text['by']]}]" if text["by"] in marks else ""
                    typer.echo(f"{where} [{lang}] {text['text']}{mark}")
            for step in steps_of(session, lesson):
                typer.echo(f"steps[{step.position}] {step.media_kind}: {step.media_path}")
    except AuthoringError as exc:
        _fail(exc)
    finally:
        app.close()


@review_cli.command("translate")
def review_translate(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id")],
    llm: Annotated[
        bool, typer.Option(help="draft with the local model (else only the assessor's setting)")
    ] = False,
) -> None:
    """Draft the missing translations with the local model; drafts stay marked until a trainer approves."""
    from lessons.drafting import KeyPhraseDrafter, LLMDrafter
    from progress.authoring import AuthoringError, get_lesson, translate_lesson

    current = settings()
    app = admin_app(current)
    try:
        drafter: Drafter = KeyPhraseDrafter()
        if llm or current.assessor == "llm":
            from lessons.llm import load_lm

            drafter = LLMDrafter(load_lm(current.llm_model, models_dir=current.models_dir))
        with app.sessions() as session:
            drafted = translate_lesson(session, get_lesson(session, lesson_id), drafter)
            session.commit()
    except AuthoringError as exc:
        _fail(exc)
    finally:
        app.close()
    typer.echo(f"{drafted} translations drafted (the others stay copies of the master's words)")
    why = Counter((d.target.value, d.reason) for d in drafter.discarded)
    for (target, reason), times in sorted(why.items()):
        typer.echo(f"  {target}: {times} not drafted: {reason}")


@review_cli.command("set")
def review_set(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id")],
    where: Annotated[str, typer.Argument(help="which text, as `review show` names it (steps[1].caption…)")],
    language: Annotated[Lang, typer.Argument(help="its language")],
    text: Annotated[str, typer.Argument(help="the text")],
) -> None:
    """Write one text of a lesson yourself (a translation, a better hint)."""
    from progress.authoring import AuthoringError, get_lesson, set_text

    app = admin_app(settings())
    try:
        with app.sessions() as session:
            set_text(session, get_lesson(session, lesson_id), where, language, text)
            session.commit()
    except AuthoringError as exc:
        _fail(exc)
    finally:
        app.close()
    typer.echo(f"{where} [{language.value}] set")


def _trainer(app: App, login: str | None) -> int | None:
    from sqlalchemy import select

    from progress.models import User

    if login is None:
        return None
    with app.sessions() as session:
        user = session.scalar(select(User).where(User.login == login))
    if user is None:
        _fail(f"no user with login {login!r}")
    return user.id


@review_cli.command("approve")
def review_approve(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id")],
    by: Annotated[str | None, typer.Option(help="your login, recorded with the decision")] = None,
) -> None:
    """Approve a lesson: its texts as shown become final, and apprentices of its craft and region get it."""
    from progress.authoring import AuthoringError

    app = admin_app(settings())
    try:
        course = app.decisions.decide(lesson_id, approve=True, by=_trainer(app, by))
    except (AuthoringError, ContentInvalid) as exc:
        _fail(exc)
    finally:
        app.close()
    typer.echo(f"published {course.id if course else ''}: the master is told, apprentices can take it")


@review_cli.command("reject")
def review_reject(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id")],
    note: Annotated[str, typer.Option(help="what the master should change")],
    by: Annotated[str | None, typer.Option(help="your login, recorded with the decision")] = None,
) -> None:
    """Send a lesson back to its master with a note."""
    from progress.authoring import AuthoringError

    app = admin_app(settings())
    try:
        app.decisions.decide(lesson_id, approve=False, by=_trainer(app, by), note=note)
    except AuthoringError as exc:
        _fail(exc)
    finally:
        app.close()
    typer.echo("sent back to the master")


@cli.command("backup")
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
        _fail(exc)
    typer.echo(f"backed up to {archive}")


@cli.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(help="a file `maalem backup` wrote")],
) -> None:
    """Restore a backup into an empty data folder and an empty database (the configured ones)."""
    from progress.backup import BackupError, restore

    current = settings()
    try:
        restore(archive, current.resolved_database_url(), current.data_dir)
    except (BackupError, OSError) as exc:
        _fail(exc)
    typer.echo(f"restored {archive} into {current.data_dir}")


@cli.command("chat")
def chat_command(
    user: Annotated[str, typer.Option(help="who you are in this chat")] = "terminal-user",
) -> None:
    """Talk to Maalem in the terminal; numbers press buttons, `/voice`, `/photo`, `/video PATH` send files."""
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


@whatsapp_cli.command("check")
def whatsapp_check() -> None:
    """Check the WhatsApp settings against the Graph API: our number, its quality, the templates set."""
    from bot.whatsapp.channel import check

    ok, lines = asyncio.run(check(settings()))
    for line in lines:
        typer.echo(line if ok else f"maalem: {line}", err=not ok)
    if not ok:
        raise typer.Exit(1)


async def serve(current: Settings) -> None:
    """Serve the webhooks on `web_host:web_port` until interrupted; saved messages are processed first."""
    import uvicorn

    from bot.telegram.channel import build_telegram
    from bot.telegram.run import WebParts, web_parts
    from bot.web import create_web_app
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


@cli.command()
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
        _fail("--chat is CHANNEL:CHAT_ID, e.g. telegram:12345")
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
        _fail(exc)
    finally:
        app.close()
    typer.echo(f"{user.login} ({scope}) can log in at {current.public_base_url()}/dashboard/")


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


@telegram_cli.command("set-webhook")
def telegram_set_webhook(
    url: Annotated[str, typer.Argument(help="this server's public HTTPS address (or the full webhook URL)")],
) -> None:
    """Have Telegram POST updates to URL/telegram/webhook, signed with MAALEM_TELEGRAM_WEBHOOK_SECRET."""
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
    from telegram.error import TelegramError

    from bot.telegram.run import delete_webhook

    try:
        asyncio.run(delete_webhook(settings()))
    except (TelegramError, ValueError) as exc:
        typer.echo(f"maalem: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("webhook deleted")


@cli.command("assess")
def assess_command(
    step: Annotated[str | None, typer.Argument(help="the checkpoint's step: course/lesson/step")] = None,
    answer: Annotated[str | None, typer.Argument(help="the answer to check")] = None,
    *,
    language: Annotated[Lang, typer.Option(help="the answer's language")] = Lang.FRENCH,
    assessor: Annotated[str | None, typer.Option(help="rubric, llm or remote; the setting if unset")] = None,
    feedback: Annotated[bool, typer.Option(help="let the model write feedback (checked before use)")] = False,
    list_steps: Annotated[bool, typer.Option("--list", help="list the checkpoints' steps")] = False,
) -> None:
    """Check one answer; print the verdict as JSON: per key point, pass, confidence, who decided, feedback."""
    from bot.components import model_options
    from lessons.combined import AssessorKind, build_assessor

    current = settings()
    library = load_library(current.content_dir)
    if list_steps:
        typer.echo("\n".join(checkpoint_refs(library.courses)))
        return
    if step is None or answer is None:
        _fail("give a step (course/lesson/step) and an answer, or --list")
    kind = assessor or current.assessor
    if kind not in get_args(AssessorKind):
        _fail(f"unknown assessor {kind!r}: rubric, llm or remote")
    checker = build_assessor(cast(AssessorKind, kind), model_options(current), feedback=feedback)
    try:
        verdict = asyncio.run(assess_json(checker, library.courses, step, answer, language))
    except KeyError as exc:
        _fail(exc.args[0])
    typer.echo(json.dumps(verdict, ensure_ascii=False, indent=2, default=str))


@eval_cli.command("assess")
def eval_assess(
    labelled: Annotated[Path | None, typer.Argument(help="labelled answers (YAML)")] = None,
    llm: Annotated[bool, typer.Option(help="also the model alone and the rubric with the model")] = True,
) -> None:
    """Rubric, model and both together on the labelled answers: accuracy, review, injections passed, time.

    The model alone's figures per language are written to the data folder's calibration records, which decide
    where its vote counts (shown at the end and by `maalem config`).
    """
    from bot.components import calibration, model_options
    from lessons.calibration import calibrate
    from lessons.combined import CombinedAssessor, build_judge

    current = settings()
    library = load_library(current.content_dir)
    items = load_labelled(labelled or current.content_dir / "eval" / "answers.yaml", library.courses)
    assessors: dict[str, Assessor] = {"rubric": RubricMatcher()}
    if llm:
        kind: Literal["llm", "remote"] = "remote" if current.assessor == "remote" else "llm"
        judge = build_judge(kind, model_options(current))
        assessors |= {kind: judge, f"rubric + {kind}": CombinedAssessor(RubricMatcher(), judge)}
    typer.echo(f"{len(items)} labelled answers")
    scores = asyncio.run(evaluate(assessors, items, library.courses))
    typer.echo(render_table(scores))
    if llm:
        model, records = calibration(current)
        records.write(model, calibrate(next(s for s in scores if s.name == kind), date.today()))
        typer.echo(f"\ncalibration of {model}, written to {records.path}:")
        for lang, (ok, why) in records.trust(model).items():
            typer.echo(f"  {lang.value}: {'trusted' if ok else 'not trusted'}: {why}")


@eval_cli.command("speech")
def eval_speech(
    transcripts: Annotated[
        Path | None, typer.Argument(help="a transcripts TSV (file, language, text) or its folder")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="a Whisper model's name or folder; repeat to compare")
    ] = None,
) -> None:
    """Each model on the labelled voice notes, heard in their own language: WER, CER, RTF, to a person."""
    from speech.audio import AudioError, AudioLimits
    from speech.evaluation import SpeechSetInvalid, load_samples, speech_table, transcribe_all
    from speech.models import load_transcriber

    current = settings()
    try:
        samples = load_samples(transcripts or current.content_dir / "eval" / "speech")
    except (SpeechSetInvalid, OSError) as exc:
        _fail(exc)
    limits = AudioLimits(max_bytes=current.max_audio_bytes, max_seconds=current.max_audio_seconds)
    kind: TranscriberKind = "faster-whisper" if current.transcriber == "none" else current.transcriber
    typer.echo(f"{len(samples)} voice notes")
    names: list[str | None] = [*model] if model else [current.whisper_model]
    for name in names:
        try:
            transcriber = load_transcriber(kind, name, current.models_dir, limits=limits)
            assert transcriber is not None  # only the kind "none" gives no transcriber
            heard = transcribe_all(transcriber, samples)
        except (ModelError, AudioError, OSError) as exc:
            _fail(exc)
        typer.echo(f"\n{name or 'default'} ({kind})\n{speech_table(heard)}")


models_cli = typer.Typer(help="Speech and grading models.", no_args_is_help=True)
cli.add_typer(models_cli, name="models")


@models_cli.command("list")
def models_list() -> None:
    """The bundled models and the recommended ones: size, licence, what each can and cannot do, and where."""
    from speech.models import list_models

    for entry in list_models(settings().models_dir):
        state = "present" if entry.present else "missing (maalem models pull NAME)"
        typer.echo(f"{entry.spec.describe()}\n  {state}: {entry.path}")


@models_cli.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="a recommended model's name, or a Hub repository id")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="fetch without asking")] = False,
    accept_licence: Annotated[
        bool, typer.Option(help="accept a non-commercial licence (MMS, CC BY-NC): never implied by --yes")
    ] = False,
    mirror: Annotated[
        Path | None, typer.Option(help="copy from a local mirror laid out as MIRROR/owner/name/ instead")
    ] = None,
) -> None:
    """Show a model's size and licence, then fetch it into the models folder (converted where needed)."""
    from speech.fetch import check_pullable, pull
    from speech.recipes import find_spec

    spec = find_spec(name)
    typer.echo(spec.describe() if spec else f"{name}: no recipe; size and licence unknown")
    try:
        if spec:
            check_pullable(spec, accept_licence=accept_licence)
        if not yes:
            typer.confirm("fetch it?", abort=True)
        path = pull(
            name, settings().models_dir, progress=typer.echo, mirror=mirror, accept_licence=accept_licence
        )
    except ModelError as exc:
        _fail(exc)
    typer.echo(f"ok: {path}")


@models_cli.command("verify")
def models_verify() -> None:
    """Load each configured model and report what works; exit 1 if something does not."""
    from speech.models import verify

    current = settings()
    checks = verify(
        current.models_dir,
        transcriber=current.transcriber,
        whisper_model=current.whisper_model,
        speaker=current.speaker,
        piper_voice=current.piper_voice,
        piper_voices=current.piper_voices,
    )
    for result in checks:
        mark = "ok " if result.ok else "BAD"
        typer.echo(f"{mark} {result.name:<32} {result.seconds:5.1f}s  {result.detail}")
    if not all(result.ok for result in checks):
        raise typer.Exit(1)


@cli.command("transcribe")
def transcribe_command(
    file: Annotated[Path, typer.Argument(help="an audio file: OGG/Opus, M4A, MP3, AMR, WAV, MP4")],
    language: Annotated[str | None, typer.Option(help="the speaker's language, a hint")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole transcript as JSON")] = False,
) -> None:
    """Transcribe a voice note with the configured model (for operators)."""
    from speech.audio import AudioError, AudioLimits
    from speech.routing import load_routed
    from speech.types import LanguageNotHeard

    current = settings()
    limits = AudioLimits(max_bytes=current.max_audio_bytes, max_seconds=current.max_audio_seconds)
    try:
        transcriber = load_routed(
            current.transcriber,
            current.whisper_model,
            current.whisper_models,
            current.models_dir,
            limits=limits,
        )
        if transcriber is None:
            _fail("no transcriber configured (MAALEM_TRANSCRIBER=none)")
        if transcriber.warning:
            typer.echo(f"note: {transcriber.warning}", err=True)
        transcript = transcriber.transcribe(file, language=language)
    except (ModelError, AudioError, LanguageNotHeard, OSError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(transcript), ensure_ascii=False, indent=2))
    else:
        typer.echo(transcript.text)


def main() -> None:
    """Entry point of the `maalem` script; what it writes (database, voices, certificates) is private."""
    os.umask(0o077)
    cli()

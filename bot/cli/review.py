"""`content review`: lessons masters recorded in the chat, shown, translated, approved or sent back."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import admin_app, fail, settings
from lessons.languages import Lang

if TYPE_CHECKING:
    from bot.app import App
    from lessons.drafting import Drafter

review_cli = typer.Typer(
    help="Lessons masters recorded in the chat, waiting for a trainer.", no_args_is_help=True
)


@review_cli.command("list")
def review_list() -> None:
    """Lessons waiting for approval: id, course, title, master, steps, drafts left to check."""
    from lessons.languages import pick
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
        fail(exc)
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
        fail(exc)
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
        fail(exc)
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
        fail(f"no user with login {login!r}")
    return user.id


@review_cli.command("approve")
def review_approve(
    lesson_id: Annotated[int, typer.Argument(help="the lesson's id")],
    by: Annotated[str | None, typer.Option(help="your login, recorded with the decision")] = None,
) -> None:
    """Approve a lesson: its texts as shown become final, and apprentices of its craft and region get it."""
    from lessons.content import ContentInvalid
    from progress.authoring import AuthoringError

    app = admin_app(settings())
    try:
        course = app.decisions.decide(lesson_id, approve=True, by=_trainer(app, by))
    except (AuthoringError, ContentInvalid) as exc:
        fail(exc)
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
        fail(exc)
    finally:
        app.close()
    typer.echo("sent back to the master")

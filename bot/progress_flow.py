"""What a learner asks about their progress in the chat: `/progress`, `/pause` and the spaced-review buttons.

A flow of the conversation service (`Service.flows`): it takes these messages before the learner's journey.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from lessons.languages import pick
from progress.certificates import award_if_earned, certificate_pdf
from progress.learners import learner_record
from progress.models import Enrolment, utcnow
from progress.reminders import recall

if TYPE_CHECKING:
    from bot.service import Context, Service


def command_name(text: str) -> str | None:
    """`progress` for `/progress@maalem_bot extra`; None when the text is not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower()


class ProgressFlow:
    """Answers `/progress` (streak, badges, lessons, certificates as PDF), `/pause`, and review buttons."""

    def __init__(self, data_dir: Path, base_url: str) -> None:
        self.certificates = data_dir / "certificates"
        self.base_url = base_url

    def wants(self, service: Service, ctx: Context) -> bool:
        """Our commands and buttons, once the learner is past onboarding (`/pause` at any time)."""
        message, ready = ctx.message, ctx.user.stage == "ready"
        if message.kind == "text":
            name = command_name(message.text)
            return name == "pause" or (name == "progress" and ready)
        if message.kind == "button":
            return message.text.partition(":")[0] in {"pause", "review"} and ready
        return False

    def handle(self, service: Service, ctx: Context) -> None:
        """Reply to the command or button."""
        message, user = ctx.message, ctx.user
        if message.kind == "text" and command_name(message.text) == "progress":
            self.report(service, ctx)
            return
        action, _, arg = message.text.partition(":")
        if action == "review":
            reply = recall(ctx.session, service.library, user.id, arg, lang=ctx.lang, now=utcnow())
            if reply is None:
                service.say(ctx, "button.stale")
            else:
                service.say(ctx, *reply)
            return
        user.reminders_paused = True if message.kind == "button" else not user.reminders_paused
        service.say(ctx, "reminders.paused" if user.reminders_paused else "reminders.resumed")

    def report(self, service: Service, ctx: Context) -> None:
        """Courses with steps done, streak, badges and lessons finished; then each certificate as a PDF."""
        session, user, lang, catalog = ctx.session, ctx.user, ctx.lang, service.catalog
        for enrolment in session.scalars(
            select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.completed_at.is_not(None))
        ):
            if course := service.library.courses.get(enrolment.course_id):
                award_if_earned(session, service.library, user, course)  # finished before certificates
        record = learner_record(session, service.library, user, utcnow())
        if not record.courses:
            service.say(ctx, "progress.none")
            return
        lines = [
            catalog.t(
                lang,
                "progress.line",
                {
                    "course": pick(dict(p.course.title), lang)[0],
                    "done": p.completion.steps_done,
                    "total": p.completion.steps_total,
                },
            )
            for p in record.courses
        ]
        if record.best_streak:
            lines.append(
                catalog.t(lang, "progress.streak", {"days": record.streak, "best": record.best_streak})
            )
        if record.badges:
            names = ", ".join(catalog.t(lang, f"badge.{code}") for code in record.badges)
            lines.append(catalog.t(lang, "progress.badges", {"badges": names}))
        lessons = [
            pick(dict(p.course.lesson(lesson_id).title), lang)[0]
            for p in record.courses
            for lesson_id in p.completion.lessons_done
        ]
        if lessons:
            lines.append(catalog.t(lang, "progress.lessons", {"lessons": ", ".join(lessons)}))
        service.say(ctx, "progress.summary", {"lines": "\n".join(lines)})
        for certificate in (c for c in record.certificates if c.withdrawn_at is None):
            path = certificate_pdf(
                certificate,
                self.certificates,
                base_url=self.base_url,
                catalog=catalog,
                library=service.library,
            )
            course = service.library.courses.get(certificate.course_id)
            title = pick(dict(course.title), lang)[0] if course else certificate.course_title
            service.say(
                ctx,
                "progress.certificate",
                {"course": title, "code": certificate.code},
                media=str(path),
                media_kind="document",
            )

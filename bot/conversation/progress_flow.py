"""What a learner asks about their progress in the chat: `/progress`, `/pause` and the spaced-review buttons.

A flow of the conversation (`Service.flows`): it takes these messages before the learner's journey.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from lessons.languages import pick
from progress.certificate_pdf import verify_url
from progress.certificates import deliver_earned
from progress.models import utcnow
from progress.record import learner_record
from progress.reminders import recall


class ProgressFlow:
    """Answers `/progress` (streak, badges, lessons, links to certificates), `/pause`, and review buttons."""

    def wants(self, turn: Turn) -> bool:
        """Our commands and buttons, once the learner is past onboarding (`/pause` at any time)."""
        message, ready = turn.message, turn.user.stage == "ready"
        if (command := turn.command) is not None:
            return command[0] == "pause" or (command[0] == "progress" and ready)
        if message.kind == "button":
            return message.text.partition(":")[0] in {"pause", "review"} and ready
        return False

    def handle(self, turn: Turn) -> None:
        """Reply to the command or button."""
        message, user = turn.message, turn.user
        if turn.command is not None and turn.command[0] == "progress":
            self.report(turn)
            return
        action, _, arg = message.text.partition(":")
        if action == "review":
            reply = recall(turn.session, turn.tools.library, user.id, arg, lang=turn.lang, now=utcnow())
            if reply is None:
                turn.say("button.stale")
            else:
                turn.say(*reply)
            return
        user.reminders_paused = True if message.kind == "button" else not user.reminders_paused
        turn.say("reminders.paused" if user.reminders_paused else "reminders.resumed")

    def report(self, turn: Turn) -> None:
        """Courses with steps done, streak, badges, lessons finished and a link to each certificate.

        A certificate's PDF is sent once, when it is issued; here it is only linked to."""
        session, user, lang, catalog = turn.session, turn.user, turn.lang, turn.tools.catalog
        deliver_earned(session, turn.tools.notifier, turn.tools.library, user)  # finished before certificates
        record = learner_record(session, turn.tools.library, user, utcnow())
        if not record.courses:
            turn.say("progress.none")
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
        for certificate in (c for c in record.certificates if c.withdrawn_at is None):
            course = turn.tools.library.courses.get(certificate.course_id)
            title = pick(dict(course.title), lang)[0] if course else certificate.course_title
            url = verify_url(turn.tools.notifier.base_url, certificate.code)
            lines.append(catalog.t(lang, "progress.certificate_link", {"course": title, "url": url}))
        turn.say("progress.summary", {"lines": "\n".join(lines)})

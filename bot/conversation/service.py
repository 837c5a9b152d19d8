"""The conversation service: one unit of work per incoming message, the same for every channel."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.inbound import InboundLog
from bot.conversation.onboarding import Onboarding
from bot.conversation.privacy import erase_user, export_user
from bot.conversation.router import COMMANDS, Command, Handler, Router, Routes
from bot.conversation.turn import VOICE_KINDS, Context, Flow, Pending
from bot.conversation.unit import UnitOfWork
from lessons.assessment import Assessment, Assessor, InlineAssessor
from lessons.content import Library
from lessons.course import Course
from lessons.i18n import Catalog
from lessons.language_guess import guess_language
from lessons.languages import RTL, Lang
from lessons.messages import Choice, Incoming, MediaFetcher, MediaTooLarge, Outgoing
from lessons.tutor import (
    AnswerGiven,
    AskPressed,
    Begin,
    Button,
    CourseDone,
    Event,
    LessonDone,
    Next,
    Position,
    QuestionAsked,
    Repeat,
    Reply,
    Said,
    StepDone,
    Tutor,
)
from progress.certificates import issue_certificate
from progress.db import insert_new
from progress.models import Answer, Base, Enrolment, Question, ReviewItem, StepProgress, utcnow
from progress.notify import Notifier
from speech.types import Transcriber, Transcript

log = logging.getLogger(__name__)

_MENU = " ".join(f"/{name}" for name in COMMANDS)

_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("uid"), Enrolment.course_id == bindparam("course")
)
_STEP_DONE = insert_new(
    Base.metadata.tables[StepProgress.__tablename__],
    ("user_id", "course_id", "lesson_id", "step_id", "completed_at"),
    key=("user_id", "course_id", "lesson_id", "step_id"),
)


class Service:
    """Turns an incoming message into state changes and replies, exactly once."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        library: Library,
        catalog: Catalog,
        assessor: Assessor,
        data_dir: Path,
        default_language: Lang = Lang.DARIJA,
        max_text_chars: int = 2000,
        fetchers: Mapping[str, MediaFetcher] | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.sessions = sessions
        self.library = library
        self.catalog = catalog
        self.assessor = assessor
        self.data_dir = data_dir
        self.default_language = default_language
        self.max_text_chars = max_text_chars
        self.fetchers = dict(fetchers or {})
        self.transcriber = transcriber
        self.notifier = Notifier(catalog, default_language)
        self.onboarding = Onboarding(library, catalog)
        self.flows: list[Flow] = []
        """Extra conversations (a master teaching) that take a message before the learner's journey."""
        self.inbound = InboundLog(sessions)
        self.router = Router(self._routes(), self._flow, self.say, max_text_chars=max_text_chars)
        self.unit = UnitOfWork(sessions, self.inbound, self.router.dispatch)

    def _routes(self) -> Routes:
        """The learner's conversation: commands, buttons and the rest, each to its handler."""
        events: dict[str, Event] = {"next": Next(), "repeat": Repeat(), "ask": AskPressed()}
        tutor = {action: self._press(event) for action, event in events.items()}
        return Routes(
            first_contact=self._welcome,
            onboarding=lambda ctx: self.onboarding.handle(self, ctx),
            ask_again=lambda ctx: self.onboarding.ask_current(self, ctx),
            commands={
                "start": Command(self._start),
                "help": Command(lambda ctx, arg: self.say(ctx, "help", {"commands": _MENU})),
                "language": Command(lambda ctx, arg: self.onboarding.ask_language(self, ctx, welcome=False)),
                "mydata": Command(self._mydata),
                "forget": Command(self._ask_forget),
                "courses": Command(lambda ctx, arg: self.show_courses(ctx), ready_only=True),
                "spoken": Command(self._spoken, ready_only=True),
            },
            unknown_command=lambda ctx, name: self.say(ctx, "command.unknown", {"commands": _MENU}),
            buttons={
                "lang": lambda ctx, arg: self.onboarding.handle(self, ctx),
                "courses": lambda ctx, arg: self.show_courses(ctx),
                "course": self._course,
                "lesson": lambda ctx, arg: self._tutor_event(ctx, lambda p: Begin(arg)),
                **tutor,
            },
            stale_button=lambda ctx, data: self.say(ctx, "button.stale"),
            awaiting={"forget": lambda ctx, data: self._forget(ctx, confirmed=data == "forget:yes")},
            media=self._media,
            text=self._text,
        )

    def record(self, message: Incoming) -> int | None:
        """Save a received message; None when this delivery was seen before."""
        return self.record_all([message])[0]

    def record_all(self, messages: Sequence[Incoming]) -> list[int | None]:
        """Save received messages in one transaction: each one's id, or None for a delivery seen before."""
        return self.inbound.record_all(messages)

    async def handle(self, message: Incoming) -> list[Outgoing]:
        """Record and process a message; the replies are also left in the outbox for the channel to send."""
        inbound_id = self.record(message)
        if inbound_id is None:
            log.info("duplicate delivery on %s ignored", message.channel)
            return []
        return await self.process(inbound_id, message)

    async def resume(self) -> list[Outgoing]:
        """Process every message saved but not yet handled (after a crash or restart), oldest first."""
        replies: list[Outgoing] = []
        for inbound_id, payload in self.inbound.received():
            try:
                message = Incoming.from_json(payload)
            except Exception as exc:  # a row no message can be read from (erased, or an older shape)
                self.inbound.give_up(inbound_id, exc)
                continue
            replies += await self.process(inbound_id, message)
        return replies

    async def process(self, inbound_id: int, message: Incoming) -> list[Outgoing]:
        """Handle a recorded message in its unit of work (see `UnitOfWork.process`)."""
        return await self.unit.process(inbound_id, message)

    def say(
        self,
        ctx: Context,
        key: str,
        params: Mapping[str, str | int] | None = None,
        choices: tuple[Choice, ...] = (),
        **extra: Any,
    ) -> None:
        """Queue a catalogue message in the user's language."""
        lang = ctx.lang
        text = self.catalog.t(lang, key, params)
        ctx.replies.append(Outgoing(ctx.message.chat_id, text, lang.value, choices, rtl=lang in RTL, **extra))

    def reply(self, ctx: Context, reply: Reply) -> None:
        """Queue a tutor reply with its buttons and media."""
        choices = tuple(self.choice(ctx.lang, b) for b in reply.buttons)
        media = str(reply.media) if reply.media else None
        meta = {"speak": "1"} if reply.speak and ctx.user.spoken_feedback else {}
        self.say(
            ctx,
            reply.text.key,
            reply.text.params,
            choices,
            media=media,
            media_kind=reply.media_kind,
            meta=meta,
        )

    def choice(self, lang: Lang, button: Button) -> Choice:
        """A tutor button in the user's language."""
        return Choice(self.catalog.t(lang, button.label.key, button.label.params), button.action)

    def _welcome(self, ctx: Context) -> None:
        guessed = guess_language(ctx.message.text.strip(), ctx.message.locale, self.default_language)
        ctx.user.language = guessed.value
        self.onboarding.ask_language(self, ctx, welcome=True)

    def _flow(self, ctx: Context) -> bool:
        """Let the first flow that wants the message handle it."""
        for flow in self.flows:
            if flow.wants(self, ctx):
                flow.handle(self, ctx)
                return True
        return False

    def _start(self, ctx: Context, arg: str) -> None:
        if ctx.user.stage == "ready":
            self.show_courses(ctx, greet=True)
        else:
            self.onboarding.ask_current(self, ctx)

    def _mydata(self, ctx: Context, arg: str) -> None:
        path = export_user(ctx.session, ctx.user, self.data_dir / "exports")
        self.say(ctx, "privacy.export", media=str(path), media_kind="document")

    def _ask_forget(self, ctx: Context, arg: str) -> None:
        ctx.user.pending = "forget"
        yes, no = self.catalog.t(ctx.lang, "button.forget_yes"), self.catalog.t(ctx.lang, "button.forget_no")
        self.say(ctx, "privacy.forget_confirm", choices=(Choice(yes, "forget:yes"), Choice(no, "forget:no")))

    def _spoken(self, ctx: Context, arg: str) -> None:
        ctx.user.spoken_feedback = not ctx.user.spoken_feedback
        self.say(ctx, "spoken.on" if ctx.user.spoken_feedback else "spoken.off")

    def _press(self, event: Event) -> Handler:
        """A tutor button's handler: the event it stands for."""
        return lambda ctx, arg: self._tutor_event(ctx, lambda p: event)

    def _course(self, ctx: Context, arg: str) -> None:
        if arg in self.library.courses:
            self._start_course(ctx, self.library.courses[arg])
        else:
            self.say(ctx, "button.stale")

    def _text(self, ctx: Context, text: str) -> None:
        found = self._position(ctx)
        if found is None:
            self.show_courses(ctx)
            return
        course, position, _ = found
        tutor = Tutor(course, ctx.lang)
        if position.asking or not tutor.awaiting_answer(position):
            self._tutor_event(ctx, lambda p: Said(text))
            return
        checkpoint = course.lesson(position.lesson_id).steps[position.step].checkpoint
        assert checkpoint is not None  # awaiting_answer says so
        key = f"assess:{course.id}:{position.lesson_id}:{position.step}:{text}"
        if isinstance(self.assessor, InlineAssessor):
            ctx.work[key] = self.assessor.assess_now(checkpoint, text, ctx.lang)
        elif key not in ctx.work:
            raise Pending(key, lambda: self.assessor.assess(checkpoint, text, ctx.lang), durable=False)
        assessment = ctx.work[key]
        if not isinstance(assessment, Assessment):
            self.say(ctx, "assess.failed")
            return
        self._tutor_event(ctx, lambda p: Said(text, assessment))

    def _media(self, ctx: Context) -> None:
        media = ctx.message.media
        assert media is not None
        found = self._position(ctx)
        at_question = found is not None and (
            found[1].asking or Tutor(found[0], ctx.lang).awaiting_answer(found[1])
        )
        if media.kind not in VOICE_KINDS or not at_question:
            self.say(ctx, "media.not_now" if media.kind in VOICE_KINDS else "media.unsupported")
            return
        if not self._consented(ctx):
            self.say(ctx, "voice.no_consent")
            return
        path = self._fetch(ctx)
        if path is None:
            return
        answer = self._stored_answer(ctx, path)
        if self.transcriber is None:
            self.say(ctx, "voice.soon")
            return
        transcript = self._transcribe(ctx, path)
        if transcript is None:
            return
        answer.transcript = transcript.text
        answer.transcript_confidence = transcript.confidence
        if transcript.low_confidence or not transcript.text.strip():
            self.say(ctx, "voice.unclear")
            return
        self.say(ctx, "voice.heard", {"text": transcript.text})
        self._text(ctx, transcript.text)

    def _fetch(self, ctx: Context) -> Path | None:
        media = ctx.message.media
        assert media is not None
        dest = self.data_dir / "audio" / str(ctx.user.id) / f"{ctx.inbound_id}.{media.kind}"
        key = f"fetch:{ctx.inbound_id}"
        if key not in ctx.work:
            fetcher = self.fetchers.get(ctx.message.channel)
            if fetcher is None:
                self.say(ctx, "media.unsupported")
                return None
            dest.parent.mkdir(parents=True, exist_ok=True)
            raise Pending(key, lambda: fetcher.fetch(media, dest))
        result = ctx.work[key]
        if isinstance(result, MediaTooLarge):
            self.say(ctx, "media.too_large")
            return None
        if isinstance(result, Exception):
            self._failed_slow_work(ctx, "voice.download_failed")
            return None
        return dest

    def _transcribe(self, ctx: Context, path: Path) -> Transcript | None:
        key = f"transcribe:{ctx.inbound_id}"
        transcriber = self.transcriber
        assert transcriber is not None
        if key not in ctx.work:
            found = self._position(ctx)
            glossary = tuple(found[0].glossary) if found else ()
            lang = ctx.lang.value
            raise Pending(
                key, lambda: asyncio.to_thread(transcriber.transcribe, path, language=lang, glossary=glossary)
            )
        result = ctx.work[key]
        if isinstance(result, Transcript):
            return result
        reason = getattr(result, "reason", None)
        if reason:
            self.say(ctx, f"audio.{reason}")
            return None
        self._failed_slow_work(ctx, "voice.failed")
        return None

    def _failed_slow_work(self, ctx: Context, key: str) -> None:
        """Slow work failed every try: one apology, and the message is marked for a person."""
        ctx.failed = key
        self.say(ctx, key)

    def _stored_answer(self, ctx: Context, path: Path) -> Answer:
        found = self._position(ctx)
        assert found is not None
        course, position, _ = found
        step = course.lesson(position.lesson_id).steps[position.step]
        answer = Answer(
            user_id=ctx.user.id,
            inbound_id=ctx.inbound_id,
            course_id=course.id,
            lesson_id=position.lesson_id,
            step_id=step.id,
            audio_path=str(path),
        )
        ctx.session.add(answer)
        ctx.answer = answer
        return answer

    def show_courses(self, ctx: Context, *, greet: bool = False) -> None:
        """Offer the courses, the learner's craft first."""
        courses = self.library.courses_for(ctx.user.craft_code, ctx.user.region_code)
        tutor_lang = ctx.lang
        choices = tuple(Choice(Tutor(c, tutor_lang).text(c.title), f"course:{c.id}") for c in courses)
        self.say(ctx, "courses.greet" if greet else "courses.choose", choices=choices)

    def _start_course(self, ctx: Context, course: Course) -> None:
        ctx.user.current_course_id = course.id
        found = self._position(ctx)
        enrolment = found[2] if found else None
        if enrolment is None:
            enrolment = Enrolment(user_id=ctx.user.id, course_id=course.id, lesson_id=course.lessons[0].id)
            ctx.session.add(enrolment)
            ctx.session.flush()
            ctx.enrolments[course.id] = enrolment
            self.say(ctx, "course.welcome", {"course": Tutor(course, ctx.lang).text(course.summary)})
            self._tutor_event(ctx, lambda p: Begin(course.lessons[0].id))
        elif enrolment.lesson_done:
            self._tutor_event(ctx, lambda p: Next())
        else:
            self._tutor_event(ctx, lambda p: Repeat())

    def _position(self, ctx: Context) -> tuple[Course, Position, Enrolment] | None:
        course = self.library.courses.get(ctx.user.current_course_id or "")
        if course is None:
            return None
        if course.id not in ctx.enrolments:
            found = {"uid": ctx.user.id, "course": course.id}
            ctx.enrolments[course.id] = ctx.session.scalar(_ENROLMENT, found)
        enrolment = ctx.enrolments[course.id]
        if enrolment is None:
            return None
        position = Position(
            course.id,
            enrolment.lesson_id,
            enrolment.step_index,
            enrolment.attempts,
            enrolment.asking,
            enrolment.lesson_done,
        )
        return course, position, enrolment

    def _tutor_event(self, ctx: Context, make: Callable[[Position], Event]) -> None:
        found = self._position(ctx)
        if found is None:
            self.show_courses(ctx)
            return
        course, position, enrolment = found
        turn = Tutor(course, ctx.lang).advance(position, make(position))
        new = turn.position
        enrolment.lesson_id, enrolment.step_index, enrolment.attempts = new.lesson_id, new.step, new.attempts
        enrolment.asking, enrolment.lesson_done, enrolment.updated_at = new.asking, new.done, utcnow()
        for effect in turn.effects:
            self._apply(ctx, course, enrolment, effect)
        for reply in turn.replies:
            self.reply(ctx, reply)

    def _apply(self, ctx: Context, course: Course, enrolment: Enrolment, effect: object) -> None:
        session, user = ctx.session, ctx.user
        if isinstance(effect, StepDone):
            done = {"user_id": user.id, "course_id": course.id, "lesson_id": effect.lesson_id}
            session.execute(_STEP_DONE, {**done, "step_id": effect.step_id, "completed_at": utcnow()})
        elif isinstance(effect, CourseDone):
            enrolment.completed_at = enrolment.completed_at or utcnow()
            issue_certificate(session, self.library, user, course)
        elif isinstance(effect, AnswerGiven):
            self._record_answer(ctx, course, effect)
        elif isinstance(effect, QuestionAsked):
            session.add(
                Question(
                    user_id=user.id,
                    course_id=course.id,
                    lesson_id=effect.lesson_id,
                    step_id=effect.step_id,
                    text=effect.text,
                )
            )
        elif not isinstance(effect, LessonDone):
            raise TypeError(effect)

    def _record_answer(self, ctx: Context, course: Course, effect: AnswerGiven) -> None:
        answer = ctx.answer
        if answer is None:
            answer = Answer(
                user_id=ctx.user.id,
                inbound_id=ctx.inbound_id,
                course_id=course.id,
                lesson_id=effect.lesson_id,
                step_id=effect.step_id,
            )
            ctx.session.add(answer)
        assessment = effect.assessment
        answer.text = effect.text if answer.audio_path is None else ""
        answer.assessment = assessment_json(assessment)
        answer.passed = None if effect.review else assessment.passed
        answer.graded_by = assessment.decided_by
        answer.confidence = assessment.confidence
        if effect.review:
            ctx.session.flush()  # the answer's id
            reason = "uncertain" if assessment.needs_review else "repeated_failure"
            ctx.session.add(ReviewItem(answer_id=answer.id, reason=reason))

    def _consented(self, ctx: Context) -> bool:
        return ctx.user.stage == "ready"

    def _forget(self, ctx: Context, *, confirmed: bool) -> None:
        ctx.user.pending = None
        if not confirmed:
            self.say(ctx, "privacy.forget_cancelled")
            return
        lang = ctx.lang
        erase_user(ctx.session, ctx.user, self.data_dir / "exports")
        shutil.rmtree(self.data_dir / "audio" / str(ctx.user.id), ignore_errors=True)
        shutil.rmtree(self.data_dir / "certificates" / str(ctx.user.id), ignore_errors=True)
        text = self.catalog.t(lang, "privacy.forgotten")
        ctx.replies.append(Outgoing(ctx.message.chat_id, text, lang.value, rtl=lang in RTL))


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """The assessment as stored with the answer (and shown to trainers)."""
    return {
        "passed": assessment.passed,
        "confidence": assessment.confidence,
        "decided_by": assessment.decided_by,
        "needs_review": assessment.needs_review,
        "feedback": assessment.feedback,
        "verdicts": [
            {"key_point": v.key_point, "met": v.met, "confidence": v.confidence, "evidence": v.evidence}
            for v in assessment.verdicts
        ],
    }

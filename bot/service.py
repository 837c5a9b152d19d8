"""The conversation service: one unit of work per incoming message, the same for every channel."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.onboarding import Onboarding
from bot.privacy import erase_user, export_user
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
from progress.certificates import award_if_earned
from progress.db import begin, insert_new
from progress.models import (
    Answer,
    Base,
    ChannelIdentity,
    Enrolment,
    InboundMessage,
    OutboundMessage,
    Question,
    ReviewItem,
    StepProgress,
    User,
    utcnow,
)
from progress.notify import Notifier, language_of
from speech.audio import AudioError
from speech.types import Transcriber, Transcript

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "courses", "progress", "pause", "language", "spoken", "mydata", "forget")
VOICE_KINDS = frozenset({"voice", "audio", "video_note"})
MAX_TRIES = 3
"""A message whose slow work (download, transcription) fails this often gets an apology and a person."""
TOUCH_EVERY = timedelta(minutes=1)
""""Last seen" times are written at most this often: minutes are precise enough for reminders and windows."""

# The statements of every turn, built once: Core statements skip the ORM's per-call work.
_INBOUND = Base.metadata.tables[InboundMessage.__tablename__]
_CLAIM = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound_id"), _INBOUND.c.status == "received")
    .values(status="done", processed_at=bindparam("at"), user_id=bindparam("uid"))
)
_FAILED = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("inbound_id"))
    .values(status="failed", error=bindparam("reason"))
)
_QUEUE = insert(Base.metadata.tables[OutboundMessage.__tablename__])
_IDENTITY = (
    select(ChannelIdentity)
    .options(joinedload(ChannelIdentity.user))
    .where(ChannelIdentity.channel == bindparam("channel"), ChannelIdentity.external_id == bindparam("chat"))
)
_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("uid"), Enrolment.course_id == bindparam("course")
)
_RECORD = insert_new(
    _INBOUND,
    ("channel", "platform_id", "chat_id", "payload", "status", "attempts", "received_at"),
    key=("channel", "platform_id"),
    returning="id",
)
"""Saves a delivery unless its key is known: its id, or no row."""
_STEP_DONE = insert_new(
    Base.metadata.tables[StepProgress.__tablename__],
    ("user_id", "course_id", "lesson_id", "step_id", "completed_at"),
    key=("user_id", "course_id", "lesson_id", "step_id"),
)


@dataclass
class Pending(Exception):
    """Slow work the unit of work needs first; it is done outside the transaction, then the unit retried."""

    key: str
    run: Callable[[], Awaitable[object]]
    durable: bool = True
    """Count each try in the inbound log (downloads, transcription); pure in-process work needs no count."""


class Flow(Protocol):
    """A conversation beside the learner's journey; it may raise `Pending` for slow work like the service."""

    def wants(self, service: Service, ctx: Context) -> bool:
        """Whether this flow handles the message (e.g. the user is a master who is teaching)."""
        ...

    def handle(self, service: Service, ctx: Context) -> None:
        """Handle it inside the unit of work: change state, queue replies with `service.say`."""
        ...


class GaveUp(Exception):
    """Slow work for a message failed too often, across restarts."""


EXPECTED_ERRORS: tuple[type[Exception], ...] = (MediaTooLarge, AudioError)
"""Failures that retrying cannot mend (too big, bad audio): answered at once."""


@dataclass
class Context:
    """What one unit of work knows while it handles a message."""

    session: Session
    inbound_id: int
    message: Incoming
    user: User
    work: dict[str, object]
    replies: list[Outgoing] = field(default_factory=list)
    enrolments: dict[str, Enrolment | None] = field(default_factory=dict)
    """Enrolments looked up in this unit of work, by course id (they stay live ORM objects)."""
    answer: Answer | None = None
    """The answer row a voice note made in this unit of work, graded once transcribed."""
    failed: str | None = None
    """Why the message ends for a person to look at (slow work failed every try)."""

    @property
    def lang(self) -> Lang:
        """The user's language (the default until chosen)."""
        return language_of(self.user, Lang.DARIJA)


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
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def record(self, message: Incoming) -> int | None:
        """Save a received message; None when this delivery was seen before."""
        return self.record_all([message])[0]

    def record_all(self, messages: Sequence[Incoming]) -> list[int | None]:
        """Save received messages in one transaction: each one's id, or None for a delivery seen before."""
        now = utcnow()
        with begin(self.sessions) as connection:
            return [
                connection.execute(
                    _RECORD,
                    {
                        "channel": message.channel,
                        "platform_id": message.message_id,
                        "chat_id": message.chat_id,
                        "payload": message.to_json(),
                        "status": "received",
                        "attempts": 0,
                        "received_at": now,
                    },
                ).scalar()
                for message in messages
            ]

    async def handle(self, message: Incoming) -> list[Outgoing]:
        """Record and process a message; the replies are also left in the outbox for the channel to send."""
        inbound_id = self.record(message)
        if inbound_id is None:
            log.info("duplicate delivery on %s ignored", message.channel)
            return []
        return await self.process(inbound_id, message)

    async def resume(self) -> list[Outgoing]:
        """Process every message saved but not yet handled (after a crash or restart), oldest first."""
        with self.sessions() as session:
            rows = session.execute(
                select(InboundMessage.id, InboundMessage.payload)
                .where(InboundMessage.status == "received")
                .order_by(InboundMessage.id)
            ).all()
        replies: list[Outgoing] = []
        for inbound_id, payload in rows:
            replies += await self.process(inbound_id, Incoming.from_json(payload))
        return replies

    async def process(self, inbound_id: int, message: Incoming) -> list[Outgoing]:
        """Handle a recorded message in one transaction; slow work happens between attempts, never inside.

        Messages from one chat are handled in the order they arrive, one at a time.
        """
        async with self._locks[f"{message.channel}:{message.chat_id}"]:
            work: dict[str, object] = {}
            while True:
                try:
                    return self._unit_of_work(inbound_id, message, work)
                except Pending as pending:
                    work[pending.key] = await self._slow(inbound_id, pending)

    async def _slow(self, inbound_id: int, pending: Pending) -> object:
        """Run slow work with retries; each try is counted first, so a message that crashes us is given up."""
        error: Exception = GaveUp()
        for attempt in range(MAX_TRIES):
            if pending.durable:
                with self.sessions() as session:
                    inbound = session.get_one(InboundMessage, inbound_id)
                    if inbound.attempts >= 2 * MAX_TRIES:
                        return error
                    inbound.attempts += 1
                    session.commit()
            try:
                return await pending.run()
            except EXPECTED_ERRORS as exc:
                return exc
            except Exception as exc:
                log.warning("slow work %s failed (try %d): %r", pending.key.split(":")[0], attempt + 1, exc)
                error = exc
                await asyncio.sleep(0.2 * 2**attempt)
        return error

    def _unit_of_work(self, inbound_id: int, message: Incoming, work: dict[str, object]) -> list[Outgoing]:
        with self.sessions() as session:
            now = utcnow()
            user = self._user(session, message, now)
            claim = {"inbound_id": inbound_id, "at": now, "uid": user.id}
            if session.execute(_CLAIM, claim).rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()  # processed already (a second worker, or a resumed message)
                return []
            ctx = Context(session, inbound_id, message, user, work)
            self._dispatch(ctx)
            if ctx.failed:
                session.execute(_FAILED, {"inbound_id": inbound_id, "reason": ctx.failed})
            if user in session:  # not erased by this message
                _touch(user, "last_active_at", now)
            if ctx.replies:
                user_id = user.id if user in session else None
                rows = [
                    {
                        "inbound_id": inbound_id,
                        "user_id": user_id,
                        "channel": message.channel,
                        "chat_id": out.chat_id,
                        "payload": out.to_json(),
                    }
                    for out in ctx.replies
                ]
                session.flush()  # the rows the replies refer to exist first
                session.execute(_QUEUE, rows)
            session.commit()
            return ctx.replies

    def _user(self, session: Session, message: Incoming, now: datetime) -> User:
        identity = session.scalar(_IDENTITY, {"channel": message.channel, "chat": message.chat_id})
        if identity is None:
            user = User(display_name=message.name[:200])
            identity = ChannelIdentity(
                channel=message.channel, external_id=message.chat_id, user=user, last_inbound_at=now
            )
            session.add_all([user, identity])
            session.flush()
        _touch(identity, "last_inbound_at", now)
        return identity.user

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

    def _dispatch(self, ctx: Context) -> None:
        message, user = ctx.message, ctx.user
        text = message.text.strip()
        if user.language is None:
            if self._flow(ctx):  # a master's invitation link (`/start CODE`) is their very first message
                return
            guessed = guess_language(text, message.locale, self.default_language)
            user.language = guessed.value
            self.onboarding.ask_language(self, ctx, welcome=True)
            return
        if user.pending == "forget" and message.kind == "button":
            self._forget(ctx, confirmed=text == "forget:yes")
            return
        user.pending = None
        if self._flow(ctx):
            return
        if message.kind == "text" and text.startswith("/"):
            self._command(ctx, text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else "")
            return
        if message.kind == "unsupported":
            self.say(ctx, "input.edited" if message.unsupported == "edited" else "input.unsupported")
            return
        if message.kind == "text" and not text and message.media is None:
            self.say(ctx, "input.empty")
            return
        if len(text) > self.max_text_chars:
            self.say(ctx, "input.too_long", {"limit": self.max_text_chars})
            return
        if user.stage != "ready":
            self.onboarding.handle(self, ctx)
            return
        if message.kind == "button":
            self._button(ctx, text)
        elif message.media is not None:
            self._media(ctx)
        else:
            self._text(ctx, text)

    def _flow(self, ctx: Context) -> bool:
        """Let the first flow that wants the message handle it."""
        for flow in self.flows:
            if flow.wants(self, ctx):
                flow.handle(self, ctx)
                return True
        return False

    def _command(self, ctx: Context, name: str) -> None:
        user = ctx.user
        if name == "start":
            if user.stage == "ready":
                self.show_courses(ctx, greet=True)
            else:
                self.onboarding.ask_current(self, ctx)
        elif name == "help":
            self.say(ctx, "help", {"commands": " ".join(f"/{c}" for c in COMMANDS)})
        elif name == "language":
            self.onboarding.ask_language(self, ctx, welcome=False)
        elif name == "mydata":
            path = export_user(ctx.session, user, self.data_dir / "exports")
            self.say(ctx, "privacy.export", media=str(path), media_kind="document")
        elif name == "forget":
            user.pending = "forget"
            yes, no = (
                self.catalog.t(ctx.lang, "button.forget_yes"),
                self.catalog.t(ctx.lang, "button.forget_no"),
            )
            self.say(
                ctx, "privacy.forget_confirm", choices=(Choice(yes, "forget:yes"), Choice(no, "forget:no"))
            )
        elif user.stage != "ready":
            self.onboarding.ask_current(self, ctx)
        elif name == "courses":
            self.show_courses(ctx)
        elif name == "spoken":
            user.spoken_feedback = not user.spoken_feedback
            self.say(ctx, "spoken.on" if user.spoken_feedback else "spoken.off")
        else:
            self.say(ctx, "command.unknown", {"commands": " ".join(f"/{c}" for c in COMMANDS)})

    def _button(self, ctx: Context, data: str) -> None:
        action, _, arg = data.partition(":")
        if action == "lang":
            self.onboarding.handle(self, ctx)
        elif action == "courses":
            self.show_courses(ctx)
        elif action == "course" and arg in self.library.courses:
            self._start_course(ctx, self.library.courses[arg])
        elif action == "lesson":
            self._tutor_event(ctx, lambda position: Begin(arg))
        elif action in {"next", "repeat", "ask"}:
            events: dict[str, Event] = {"next": Next(), "repeat": Repeat(), "ask": AskPressed()}
            event = events[action]
            self._tutor_event(ctx, lambda position: event)
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
            award_if_earned(session, self.library, user, course)
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


def _touch(row: User | ChannelIdentity, attribute: str, now: datetime) -> None:
    """Set a "last seen" time unless it is recent (every turn would otherwise write it)."""
    seen: datetime | None = getattr(row, attribute)
    if seen is None or now - seen >= TOUCH_EVERY:
        setattr(row, attribute, now)


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

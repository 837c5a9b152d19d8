"""A turn: what one unit of work knows while it handles a message, and the calls a handler or flow may make —
say, reply, notify, and slow work (download, transcription) as public calls. Flows get it, not the service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.course import Course
from lessons.i18n import Catalog
from lessons.languages import RTL, Lang
from lessons.messages import Choice, Incoming, MediaFetcher, MediaTooLarge, Outgoing
from lessons.tutor import Button, Position, Reply
from progress.consent import identity_hash
from progress.models import Answer, Enrolment, ReviewItem, User
from progress.notify import Notifier, language_of
from speech.audio import AudioError
from speech.types import Speaker, Transcriber, Transcript

VOICE_KINDS = frozenset({"voice", "audio", "video_note"})
EXPECTED_ERRORS: tuple[type[Exception], ...] = (MediaTooLarge, AudioError)
"""Failures that retrying cannot mend (too big, bad audio): answered at once."""

_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("uid"), Enrolment.course_id == bindparam("course")
)


@dataclass
class Pending(Exception):
    """Slow work the unit of work needs first; it is done outside the transaction, then the unit retried."""

    key: str
    run: Callable[[], Awaitable[object]]
    durable: bool = True
    """Count each try in the inbound log (downloads, transcription); pure in-process work needs no count."""


def parse_command(text: str) -> tuple[str, str] | None:
    """`/start@maalem_bot CODE` → ("start", "CODE"), `/` → ("", ""); None when the text is no command."""
    text = text.strip()
    if not text.startswith("/"):
        return None
    name, arg = [*text[1:].split(maxsplit=1), "", ""][:2]
    return name.split("@")[0].lower(), arg.strip()


@dataclass(frozen=True)
class Tools:
    """What every turn may use, the same for all of them."""

    library: Library
    catalog: Catalog
    notifier: Notifier
    data_dir: Path
    default_language: Lang
    max_text_chars: int
    fetchers: Mapping[str, MediaFetcher]
    """By channel; a channel adds its own when it is built."""
    transcriber: Transcriber | None
    speaker: Speaker | None
    """Reads replies aloud for learners who asked (`/spoken`); None when none is configured."""
    identity_key: str
    """The app's secret, which keys the hash kept of someone who refused consent."""


@dataclass
class Turn:
    """One message being handled, inside its unit of work."""

    session: Session
    inbound_id: int
    message: Incoming
    user: User
    work: dict[str, object]
    """Results of the slow work done for this message so far, by key."""
    tools: Tools
    replies: list[Outgoing] = field(default_factory=list)
    enrolments: dict[str, Enrolment | None] = field(default_factory=dict)
    """Enrolments looked up in this unit of work, by course id (they stay live ORM objects)."""
    answer: Answer | None = None
    """The answer row a voice note made in this unit of work, graded once transcribed."""
    failed: str | None = None
    """Why the message ends for a person to look at (slow work failed every try)."""
    fetched: Path | None = None
    """The message's media once saved (`fetch`): a question asked by voice keeps it."""
    asked: str | None = None
    """The question this message may answer: `User.pending` as it was before the message (which clears it)."""

    @property
    def lang(self) -> Lang:
        """The user's language (the default until chosen)."""
        return language_of(self.user, Lang.DARIJA)

    @property
    def identity_hash(self) -> str:
        """The keyed hash of this chat's identity (all a refusal of consent keeps)."""
        return identity_hash(self.tools.identity_key, self.message.channel, self.message.chat_id)

    @property
    def command(self) -> tuple[str, str] | None:
        """The command a text message is, with its argument; None for anything else."""
        return parse_command(self.message.text) if self.message.kind == "text" else None

    def say(
        self,
        key: str,
        params: Mapping[str, str | int] | None = None,
        choices: tuple[Choice, ...] = (),
        **extra: Any,
    ) -> None:
        """Queue a catalogue message in the user's language."""
        lang = self.lang
        text = self.tools.catalog.t(lang, key, params, form=self.user.address_form)
        self.replies.append(
            Outgoing(self.message.chat_id, text, lang.value, choices, rtl=lang in RTL, **extra)
        )

    def choice(self, button: Button) -> Choice:
        """A tutor button in the user's language."""
        return Choice(self.tools.catalog.t(self.lang, button.label.key, button.label.params), button.action)

    def reply(self, reply: Reply) -> None:
        """Queue a tutor reply with its buttons and media (spoken when the user asked for it)."""
        media = str(reply.media) if reply.media else None
        meta = {"speak": "1"} if reply.speak and self.user.spoken_feedback else {}
        choices = tuple(self.choice(b) for b in reply.buttons)
        self.say(
            reply.text.key, reply.text.params, choices, media=media, media_kind=reply.media_kind, meta=meta
        )

    def notify(
        self,
        user_id: int,
        key: str,
        params: Mapping[str, str | int],
        *,
        kind: str,
        voice: str | None = None,
    ) -> None:
        """Queue a message to another user, in their language, with this turn's changes."""
        self.tools.notifier.notify(self.session, user_id, key, params, kind=kind, voice=voice)

    def slow(self, key: str, run: Callable[[], Awaitable[object]], *, durable: bool = True) -> object:
        """The result of slow work: asked for (outside the transaction) the first time, then the one kept."""
        if key not in self.work:
            raise Pending(key, run, durable)
        return self.work[key]

    def fetch(self) -> Path | None:
        """The message's media, downloaded; None when it cannot be had (the user is told why)."""
        media = self.message.media
        assert media is not None
        dest = self.tools.data_dir / "audio" / str(self.user.id) / f"{self.inbound_id}.{media.kind}"
        key = f"fetch:{self.inbound_id}"
        if key not in self.work:
            fetcher = self.tools.fetchers.get(self.message.channel)
            if fetcher is None:
                self.say("media.unsupported")
                return None
            dest.parent.mkdir(parents=True, exist_ok=True)
            raise Pending(key, lambda: fetcher.fetch(media, dest))
        result = self.work[key]
        if isinstance(result, MediaTooLarge):
            self.say("media.too_large")
            return None
        if isinstance(result, Exception):
            self.give_up("voice.download_failed")
            return None
        self.fetched = dest
        return dest

    def transcribe(self, path: Path) -> Transcript | None:
        """What a saved voice note says (helped by the course's glossary); None when it cannot be heard."""
        key = f"transcribe:{self.inbound_id}"
        transcriber = self.tools.transcriber
        assert transcriber is not None
        if key not in self.work:
            found = self.position()
            glossary = tuple(found[0].glossary) if found else ()
            lang = self.lang.value
            raise Pending(
                key, lambda: asyncio.to_thread(transcriber.transcribe, path, language=lang, glossary=glossary)
            )
        result = self.work[key]
        if isinstance(result, Transcript):
            return result
        reason = getattr(result, "reason", None)
        if reason:
            self.say(f"audio.{reason}")
            return None
        self.give_up("voice.failed")
        return None

    def to_person(self, answer: Answer, reason: str) -> None:
        """Put an answer in the trainers' review queue (`reason` as the dashboard names it)."""
        self.session.flush()  # the answer's id
        self.session.add(ReviewItem(answer_id=answer.id, reason=reason))

    def give_up(self, key: str) -> None:
        """Slow work failed every try: one apology, and the message is marked for a person."""
        self.failed = key
        self.say(key)

    def position(self) -> tuple[Course, Position, Enrolment] | None:
        """Where the learner is in their current course; None before they start one."""
        course = self.tools.library.courses.get(self.user.current_course_id or "")
        if course is None:
            return None
        if course.id not in self.enrolments:
            found = {"uid": self.user.id, "course": course.id}
            self.enrolments[course.id] = self.session.scalar(_ENROLMENT, found)
        enrolment = self.enrolments[course.id]
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


class Flow(Protocol):
    """A conversation beside the learner's journey; it takes a message after the input guards, before the
    journey's commands and buttons, and may ask for slow work like any handler (`Turn.slow`, `Turn.fetch`)."""

    def wants(self, turn: Turn) -> bool:
        """Whether this flow handles the message (e.g. the user is a master who is teaching)."""
        ...

    def handle(self, turn: Turn) -> None:
        """Handle it inside the unit of work: change state, queue replies with `turn.say`."""
        ...

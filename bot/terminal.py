"""The terminal channel: `maalem chat` and `maalem demo` run the real core with no network."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bidi import get_display

from lessons.i18n import without_bidi_marks
from lessons.languages import GENDERED, Lang
from lessons.messages import Choice, Incoming, IncomingMedia, MediaKind, MediaTooLarge, Outgoing

if TYPE_CHECKING:  # the app loads only when a terminal chat starts (`maalem --help` stays quick)
    from bot.app import App

CHANNEL = "terminal"
INDENT = " " * len("maalem › ")
MEDIA_COMMANDS: dict[str, MediaKind] = {"/voice": "voice", "/photo": "photo", "/video": "video"}


@dataclass
class TerminalSender:
    """Prints messages; buttons become numbered choices, media their caption and file path."""

    out: TextIO
    bidi: bool = False
    """Reorder right-to-left lines for terminals that do not (on when writing to a TTY)."""
    choices: list[Choice] = field(default_factory=list)

    def _lines(self, line: str, rtl: bool) -> list[str]:
        """A logical line as printed: right-to-left text wrapped first, then each row in display order."""
        if not (self.bidi and rtl):
            return [line]
        width = shutil.get_terminal_size((80, 24)).columns - len(INDENT)
        rows = textwrap.wrap(without_bidi_marks(line), max(width, 20)) or [""]
        return [str(get_display(row)) for row in rows]

    def _label(self, label: str, rtl: bool) -> str:
        """A button label in display order (labels are short: never wrapped)."""
        return str(get_display(without_bidi_marks(label))) if self.bidi and rtl else label

    async def send(self, message: Outgoing) -> None:
        """Print one message."""
        lines = [row for line in message.text.split("\n") for row in self._lines(line, message.rtl)]
        self.out.write("maalem › " + f"\n{INDENT}".join(lines) + "\n")
        if message.media:
            self.out.write(f"{INDENT}[{message.media_kind}: {message.media}]\n")
        if message.voice:
            self.out.write(f"{INDENT}[voice: {message.voice}]\n")
        if message.choices:
            self.choices = list(message.choices)
            labels = [f"[{i}] {self._label(c.label, message.rtl)}" for i, c in enumerate(message.choices, 1)]
            self.out.write(INDENT + "   ".join(labels) + "\n")
        self.out.flush()


@dataclass
class LocalFileFetcher:
    """Copies a local file (the terminal's `/voice`, `/photo` or `/video PATH`) into the data folder."""

    max_bytes: int

    async def fetch(self, media: IncomingMedia, dest: Path) -> None:
        """Copy, refusing files over the limit."""
        size = (await asyncio.to_thread(Path(media.ref).stat)).st_size
        if size > self.max_bytes:
            raise MediaTooLarge(str(size))
        await asyncio.to_thread(shutil.copyfile, media.ref, dest)


class TerminalChat:
    """Turns typed lines into `Incoming` messages for one terminal user."""

    def __init__(self, app: App, sender: TerminalSender, user: str) -> None:
        self.app = app
        self.sender = sender
        self.user = user
        self._ids = itertools.count(1)
        self._session = uuid.uuid4().hex[:8]

    def incoming(self, line: str) -> Incoming:
        """A typed line as a message: a choice number presses that button; `/voice`, `/photo` or `/video PATH`
        sends that file as a voice note, a photo or a video (a master records a lesson's steps this way)."""
        text = line.strip()
        message_id = f"{self._session}-{next(self._ids)}"
        if text.isdigit() and 1 <= int(text) <= len(self.sender.choices):
            return Incoming(CHANNEL, self.user, message_id, "button", self.sender.choices[int(text) - 1].data)
        command, _, rest = text.partition(" ")
        path = Path(rest.strip()).expanduser()
        kind = MEDIA_COMMANDS.get(command)
        if kind and path.is_file():
            media = IncomingMedia(kind, str(path.resolve()), size=path.stat().st_size)
            return Incoming(CHANNEL, self.user, message_id, "media", media=media)
        return Incoming(CHANNEL, self.user, message_id, "text", text)

    async def say(self, line: str, *, echo: bool = False) -> None:
        """Handle one line and print the replies."""
        if echo:
            self.sender.out.write(f"you    › {line}\n")
        await self.app.service.handle(self.incoming(line))
        await self.app.outbox.flush(CHANNEL)

    def at_step(self, index: int) -> bool:
        """Whether this user's current lesson is still at step `index` (an answer did not move them on)."""
        from sqlalchemy import select

        from progress.models import ChannelIdentity, Enrolment, User

        query = (
            select(Enrolment.step_index, Enrolment.lesson_done)
            .join(User, (User.id == Enrolment.user_id) & (User.current_course_id == Enrolment.course_id))
            .join(ChannelIdentity, ChannelIdentity.user_id == User.id)
            .where(ChannelIdentity.channel == CHANNEL, ChannelIdentity.external_id == self.user)
        )
        with self.app.sessions() as session:
            row = session.execute(query).first()
        return row is not None and row.step_index == index and not row.lesson_done

    async def speak(self, text: str, language: Lang) -> bool:
        """Send `text` as a voice note made with espeak-ng (the demo's spoken answer); False without it."""
        from speech.tts import EspeakSpeaker, UnsupportedLanguage

        try:
            note = EspeakSpeaker(self.app.settings.data_dir / "demo-voice").speak(text, language.value)
        except (OSError, UnsupportedLanguage):
            return False
        self.sender.out.write(f"you    › [voice note: «{text}»]\n")
        await self.say(f"/voice {note}")
        return True

    async def press(self, action: str) -> None:
        """Press the button whose data is `action` (the demo's scripted learner)."""
        number = next(i for i, c in enumerate(self.sender.choices, 1) if c.data == action)
        label = self.sender.choices[number - 1].label
        self.sender.out.write(f"you    › [{number}] {label}\n")
        await self.say(str(number))


async def chat(app: App, lines: Iterable[str], sender: TerminalSender, user: str = "terminal-user") -> None:
    """Read messages line by line (typed or piped) until the input ends."""
    session = TerminalChat(app, sender, user)
    await app.service.resume()
    for line in lines:
        if line.strip() in {"/quit", "/exit"}:
            break
        if line.strip():
            await session.say(line)


async def demo(app: App, sender: TerminalSender, language: Lang = Lang.FRENCH) -> None:
    """A scripted learner: onboards, takes a lesson, answers a checkpoint wrong, then right by voice.

    The voice note is made with espeak-ng and transcribed by the configured model; when it is not heard as
    a passing answer (or there is no espeak-ng), the learner types the answer.
    """
    session = TerminalChat(app, sender, f"demo-{uuid.uuid4().hex[:6]}")
    greeting = {Lang.FRENCH: "Bonjour", Lang.ENGLISH: "Hello", Lang.DARIJA: "سلام", Lang.ARABIC: "مرحبا"}
    await session.say(greeting.get(language, "Salam"), echo=True)
    course = next(iter(app.library.courses_for("zellige")))
    coop = next(iter(app.library.cooperatives.values()), None)
    await session.press(f"lang:{language.value}")
    await session.press("consent:adult")
    await session.say("Amina", echo=True)  # the name to be called by
    if language in GENDERED:
        await session.press("address:f")
    await session.press(f"region:{coop.region if coop else next(iter(app.library.regions))}")
    await session.press(f"craft:{course.craft}")
    if coop:
        await session.say(coop.code, echo=True)
    else:
        await session.press("cooperative:skip")
    await session.press(f"course:{course.id}")
    lesson = course.lessons[0]
    for index, step in enumerate(lesson.steps):
        if step.checkpoint is None:
            await session.press("next")
            continue
        wrong = {Lang.FRENCH: "je ne sais pas", Lang.ENGLISH: "I don't know"}.get(language, "ما عرفتش")
        await session.say(wrong, echo=True)
        right = ", ".join(
            kp.phrasings.get(language, next(iter(kp.phrasings.values())))[0]
            for kp in step.checkpoint.key_points
        )
        if not await session.speak(right, language) or session.at_step(index):
            await session.say(right, echo=True)


def is_tty(stream: TextIO = sys.stdout) -> bool:
    """Whether output goes to a terminal (then right-to-left lines are reordered for display)."""
    return stream.isatty()

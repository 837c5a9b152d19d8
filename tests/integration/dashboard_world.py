"""A world for the dashboard's tests: learners of two cooperatives who answered (one by voice), trainers."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from bot.app import App, build_app
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from bot.terminal import LocalFileFetcher
from lessons.languages import GENDERED, Lang
from progress.accounts import add_trainer
from progress.models import Answer, ReviewItem, User
from speech.audio import encode_ogg_opus
from speech.types import Transcriber, Transcript
from tests.integration.journeys import right_answer, to_checkpoint

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class ScriptedTranscriber:
    """Speech recognition at the edge, replaced by what the learner is supposed to have said."""

    text: str

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """The scripted text, confidently."""
        return Transcript(self.text, language or "fr", 1.5, 0.83)

    def hears(self, language: str | None) -> bool:
        """Every language but Tamazight, as the default routing."""
        return language != "zgh"


@dataclass(frozen=True)
class HeldTranscriber(ScriptedTranscriber):
    """A slow speech model: each note is heard only once the test lets it go (as a 30 s model would be)."""

    started: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """The scripted text, after `released` is set (30 s at most)."""
        self.started.set()
        self.released.wait(30)
        return super().transcribe(audio, language=language, glossary=glossary)


def voice_note(path: Path, seconds: float = 1.5) -> Path:
    """A real OGG/Opus voice note (a hummed tone) at `path`."""
    rate = 16_000
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    path.write_bytes(encode_ogg_opus((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate))
    return path


def world_app(settings: Settings, memory: MemorySender, transcriber: Transcriber | None = None) -> App:
    """The app on the in-memory channel, hearing every voice note as a wrong answer by default."""
    return build_app(
        settings,
        transcriber=transcriber or ScriptedTranscriber("je ne sais pas"),
        senders={CHANNEL: memory},
        fetchers={CHANNEL: LocalFileFetcher(20_000_000)},
    )


async def onboard_in(learner: MemoryUser, lang: Lang, region: str, cooperative: str) -> None:
    """First contact to the course menu, joining a cooperative by its code."""
    await learner.say("Salam")
    await learner.press(f"lang:{lang.value}")
    await learner.press("consent:adult")
    await learner.press("name:skip")
    if lang in GENDERED:
        await learner.press("address:skip")
    await learner.press(f"region:{region}")
    await learner.press("craft:zellige")
    await learner.say(cooperative)


@dataclass(frozen=True)
class World:
    """Who is where, by database id."""

    fes_voice: int
    """Fès learner (French) whose third, spoken, wrong answer waits for review."""
    fes_done: int
    """Fès learner who passed the first checkpoint."""
    marrakech: int
    """Marrakech learner (Darija) whose three typed wrong answers wait for review."""
    voice_answer: int
    voice_review: int
    marrakech_review: int


def _user_id(app: App, chat_id: str) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(User.id).where(User.display_name == chat_id)) or 0)


async def build_world(app: App, memory: MemorySender, tmp_path: Path) -> World:
    """Three learners through the real service; every answer graded by the shipped rubric."""
    course = app.library.courses["zellige"]
    _, right = right_answer(course, 0, Lang.FRENCH)
    voice = MemoryUser(app, memory, "fes-voice")
    await onboard_in(voice, Lang.FRENCH, "fes-meknes", "FES-ZEL-01")
    await to_checkpoint(voice, course)
    await voice.say("je ne sais pas")
    await voice.say("aucune idée")
    await voice.voice(str(voice_note(tmp_path / "answer.ogg")))
    done = MemoryUser(app, memory, "fes-done")
    await onboard_in(done, Lang.FRENCH, "fes-meknes", "FES-ZEL-01")
    await to_checkpoint(done, course)
    await done.say(right)
    far = MemoryUser(app, memory, "marrakech")
    await onboard_in(far, Lang.DARIJA, "marrakech-safi", "MRK-TAD-01")
    await to_checkpoint(far, course)
    for _ in range(3):
        await far.say("ma3reftch")
    with app.sessions() as session:
        for user in session.scalars(select(User)):
            user.display_name = user.identities[0].external_id if user.identities else user.display_name
        session.commit()
        ids = {name: _user_id(app, name) for name in ("fes-voice", "fes-done", "marrakech")}
        spoken = session.scalars(select(Answer).where(Answer.audio_path.is_not(None))).one()
        reviews = {
            answer.user_id: item.id
            for item, answer in session.execute(
                select(ReviewItem, Answer).join(Answer, Answer.id == ReviewItem.answer_id)
            ).tuples()
        }
    return World(
        fes_voice=ids["fes-voice"],
        fes_done=ids["fes-done"],
        marrakech=ids["marrakech"],
        voice_answer=spoken.id,
        voice_review=reviews[ids["fes-voice"]],
        marrakech_review=reviews[ids["marrakech"]],
    )


def add_trainers(app: App) -> None:
    """An admin, a Fès cooperative trainer, a Marrakech-Safi regional trainer."""
    with app.sessions() as session:
        add_trainer(session, "admin", PASSWORD, admin=True, name="Admin")
        add_trainer(session, "fes", PASSWORD, cooperative="FES-ZEL-01", name="Samira")
        add_trainer(session, "marrakech", PASSWORD, region="marrakech-safi", name="Youssef")
        session.commit()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form, as a browser would."""
    page = await client.get("/dashboard/login")
    return await client.post(
        "/dashboard/login", data={"login": name, "password": password, "csrf": csrf_of(page.text)}
    )

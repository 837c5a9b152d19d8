"""Helpers for masters teaching through the in-memory channel: invitations, real voice notes, real videos."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.memory import MemorySender, MemoryUser
from lessons.course import Course
from lessons.languages import Lang
from lessons.messages import IncomingMedia, Outgoing
from progress.masters import invite_master
from progress.models import AuthoredLesson
from speech.audio import encode_ogg_opus
from speech.tts import EspeakSpeaker

ROOT = Path(__file__).resolve().parents[2]
VIDEO = ROOT / "content" / "courses" / "zellige" / "media" / "cutting-trace.mp4"
"""A real H.264 clip (a labelled placeholder shipped with the zellige course)."""
SECOND_VIDEO = ROOT / "content" / "courses" / "zellige" / "media" / "laying-face-down.mp4"
PHOTO = ROOT / "content" / "courses" / "zellige" / "media" / "laying-pattern.jpg"
STEP_ONE = "Hold the hammer firmly and strike the edge of the tile gently."
STEP_TWO = "Place the tiles face down, and press them close together."


def invite(app: App, name: str = "Hassan Benali", lang: Lang = Lang.ENGLISH) -> str:
    """A one-time code for a new zellige master of Fès-Meknès."""
    with app.sessions() as session:
        _, code = invite_master(session, name=name, craft="zellige", region="fes-meknes", language=lang)
        session.commit()
    return code


async def link(master: MemoryUser, app: App) -> Outgoing:
    """A master follows their invitation and agrees to their recordings being kept; returns the welcome."""
    [welcome, consent] = await master.say(f"/start {invite(app)}")
    assert consent.text == said(app, "consent.master") and "/forget" in consent.text
    await master.press("consent:adult")
    return welcome


def speak(espeak: EspeakSpeaker, folder: Path, text: str) -> Path:
    """`text` spoken by espeak-ng in English, saved as a phone-like OGG/Opus voice note."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{abs(hash(text))}.ogg"
    path.write_bytes(encode_ogg_opus(*espeak.synthesize(text, "en")))
    return path


async def show(user: MemoryUser, path: Path, kind: str = "video") -> list[Outgoing]:
    """Send a video or photo."""
    media = IncomingMedia(kind, str(path), size=path.stat().st_size)  # type: ignore[arg-type]
    return await user.send(user.message("media", media=media))


def said(app: App, key: str, **params: str | int) -> str:
    """A catalogue message as an English-speaking master reads it."""
    return app.catalog.t(Lang.ENGLISH, key, params)


async def record_typed_lesson(master: MemoryUser, course_title: str = "Star tiles of Fez") -> list[Outgoing]:
    """A two-step lesson with typed captions (fast: no transcription), the second with a checkpoint."""
    await master.say("/teach")
    await master.press("teach:licence:CC-BY-SA-4.0")
    await master.press("teach:new")
    await master.press("teach:craft:zellige")
    await master.say(course_title)
    await master.say("Cutting a star")
    await show(master, VIDEO)
    await master.say(STEP_ONE)
    await master.press("teach:no")
    await master.press("teach:step")
    await show(master, SECOND_VIDEO)
    await master.say(STEP_TWO)
    await master.press("teach:yes")
    await master.press("teach:yes")  # the plain question ("Place", one word of the caption, is not offered)
    await master.press("teach:yes")  # "tiles face down"
    await master.press("teach:yes")  # "close together"
    return await master.press("teach:finish")


async def approved_lesson(app: App, memory: MemorySender) -> tuple[MemoryUser, Course]:
    """A linked master ("master-1") whose typed lesson a trainer approved, and the course it made."""
    master = MemoryUser(app, memory, "master-1")
    await link(master, app)
    await record_typed_lesson(master)
    with app.sessions() as session:
        lesson_id = session.scalars(select(AuthoredLesson.id)).one()
    course = app.decisions.decide(lesson_id, approve=True)
    assert course is not None
    return master, course

"""A master on Telegram: deep link, a lesson from uploaded videos, approval, hearing an apprentice, replying.

The real python-telegram-bot client against the fake Bot API server, by long polling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.settings import Settings
from progress.models import Answer, AuthoredLesson, AuthoredStep, Certificate
from speech.audio import encode_ogg_opus
from speech.tts import EspeakSpeaker
from tests.e2e.telegram_world import Learner, World, telegram_world
from tests.integration.teaching import SECOND_VIDEO, STEP_ONE, STEP_TWO, VIDEO, invite, said


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """The app receiving Telegram updates by long polling."""
    async with telegram_world(settings) as started:
        yield started


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real voice notes: espeak-ng speech encoded as OGG/Opus, as Telegram clients record them."""
    speaker = EspeakSpeaker(tmp_path_factory.mktemp("espeak"))
    return {
        name: encode_ogg_opus(*speaker.synthesize(text, "en"))
        for name, text in (("answer", "The tiles go face down."), ("reply", "Now press them close together."))
    }


def video(world: World, path: Path) -> dict[str, Any]:
    """A video message as a Telegram client uploads it."""
    data = path.read_bytes()
    file_id = world.fake.add_file(data, "video")
    meta = {"width": 320, "height": 240, "duration": 2, "mime_type": "video/mp4", "file_size": len(data)}
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", **meta}


async def teach(world: World, master: Learner) -> None:
    """Record a two-step lesson: uploaded videos, typed explanations, an approved rubric."""
    await master.say("/teach")
    await master.press("teach:licence:CC-BY-SA-4.0")
    await master.press("teach:new")
    await master.press("teach:craft:zellige")
    await master.say("Star tiles of Fez")
    [first] = await master.say("Cutting a star")
    assert first.text == said(world.app, "teach.step_media", n=1)
    [ask_voice] = await master.send(master.chat.message(video=video(world, VIDEO), caption=""))
    assert ask_voice.text == said(world.app, "teach.step_voice", n=1)
    await master.say(STEP_ONE)
    await master.press("teach:no")
    await master.press("teach:step")
    await master.send(master.chat.message(video=video(world, SECOND_VIDEO)))
    await master.say(STEP_TWO)
    for answer in ("teach:yes", "teach:yes", "teach:yes", "teach:yes"):  # important; question; two points
        await master.press(answer)
    [thanks] = await master.press("teach:finish")
    assert "Cutting a star" in thanks.text


async def test_a_master_teaches_on_telegram_and_answers_an_apprentice_by_voice(
    world: World, spoken: dict[str, bytes]
) -> None:
    app = world.app
    master = world.learner(3003, "Hassan", "en")
    [welcome, consent] = await master.say(f"/start {invite(app)}")  # the deep link t.me/<bot>?start=<code>
    assert welcome.text == said(app, "teach.welcome_master", name="Hassan Benali")
    assert consent.text == said(app, "consent.master")
    await master.press("consent:adult")
    await teach(world, master)
    with app.sessions() as session:
        lesson = session.scalars(select(AuthoredLesson)).one()
        steps = session.scalars(select(AuthoredStep).order_by(AuthoredStep.position)).all()
        assert Path(steps[0].media_path).read_bytes() == VIDEO.read_bytes()  # downloaded from Telegram whole
    course = app.decisions.decide(lesson.id, approve=True)
    assert course is not None
    await app.outbox.flush()
    assert master.seen[-1].text == said(app, "teach.approved", lesson="Cutting a star", note="—")

    amina = world.learner(1001, "Amina", "en")
    await amina.say("Hello")
    for action in (
        "lang:en",
        "consent:adult",
        "name:skip",
        "region:fes-meknes",
        "craft:zellige",
        "cooperative:skip",
    ):
        await amina.press(action)
    step = (await amina.press(f"course:{course.id}"))[-1]
    assert step.method == "sendVideo" and "Hassan Benali" in step.text
    shown = await amina.press("next")
    assert shown[0].method == "sendVideo"
    await amina.send(amina.chat.voice(spoken["answer"]))  # no transcriber here: kept for the master to hear

    listed = await master.say("/answers")
    with app.sessions() as session:
        answer = session.scalars(select(Answer)).one()
    assert [s.method for s in listed] == ["sendMessage", "sendVoice"]  # the text, then Amina's own voice
    assert listed[-1].buttons == [f"answers:{a}:{answer.id}" for a in ("reply", "pass", "fail")]
    await master.press(f"answers:reply:{answer.id}")
    [sent] = await master.send(master.chat.voice(spoken["reply"]))
    assert sent.text == said(app, "answers.reply_sent", learner="Amina")
    await app.outbox.flush()
    text, voice = amina.seen[-2:]
    assert (text.method, voice.method) == ("sendMessage", "sendVoice") and "Hassan Benali" in text.text

    await master.say("/answers")  # a tapped keyboard is taken away: the list again, to grade
    await master.press(f"answers:pass:{answer.id}")
    await app.outbox.flush()
    graded, ask = amina.seen[-2:]  # the master's pass completes the course: the name to print is asked
    assert "Hassan Benali" in graded.text and said(app, "answers.grade_passed") in graded.text
    assert ask.text == said(app, "cert.ask_name") and ask.buttons == ["certname:platform"]
    assert "Amina" in str(ask.keyboard)  # her Telegram name, offered as the button
    certificate = (await amina.press("certname:platform"))[0]
    with app.sessions() as session:
        issued = session.scalars(select(Certificate)).one()
    assert issued.learner_name == "Amina"
    assert issued.code in certificate.text and certificate.method == "sendDocument"  # the PDF itself

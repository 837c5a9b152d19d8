"""Telegram end to end, by long polling: the real python-telegram-bot client against a fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import build_app
from bot.conversation.router import COMMANDS
from bot.settings import Settings
from bot.telegram.adapter import CHANNEL
from bot.telegram.channel import Telegram
from bot.telegram.polling import next_offset
from lessons.i18n import RLM
from lessons.languages import Lang
from lessons.messages import Incoming
from progress.models import Answer, InboundMessage, MediaUpload, StepProgress, User, utcnow
from speech.audio import encode_audio
from speech.tts import EspeakSpeaker
from tests.e2e.telegram_world import World, telegram_settings, telegram_world
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.journeys import onboard, right_answer

PLAIN_TEXT_METHODS = {"sendMessage", "sendVideo", "sendPhoto", "sendDocument", "sendVoice"}


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """The app receiving Telegram updates by long polling."""
    async with telegram_world(settings) as started:
        yield started


@pytest.fixture(scope="module")
def voice_note(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real voice note: espeak-ng speech encoded as OGG/Opus, as Telegram clients record them."""
    speaker = EspeakSpeaker(tmp_path_factory.mktemp("espeak"))
    return encode_audio(*speaker.synthesize("on taille la pièce avec le menqach", "fr"), "ogg")


def test_voice_note_is_real_ogg_opus(voice_note: bytes) -> None:
    assert voice_note[:4] == b"OggS" and b"OpusHead" in voice_note[:100]


async def test_onboarding_by_buttons_in_darija(world: World) -> None:
    karim = world.learner(2002, "Karim", "ar")
    [welcome] = await karim.say("السلام، بغيت نتعلم الزليج")
    assert welcome.text.startswith(RLM)  # right to left
    assert "lang:ary" in welcome.buttons
    await karim.press("lang:ary")
    [name] = await karim.press("consent:adult")
    assert name.buttons == ["name:platform", "name:skip"] and name.keyboard[0][0]["text"] == "Karim"
    [welcome, address] = await karim.press("name:platform")
    assert "Karim" in welcome.text and address.buttons == ["address:f", "address:m", "address:skip"]
    for action in ("address:m", "region:fes-meknes", "craft:zellige"):
        [reply] = await karim.press(action)
        assert reply.text.startswith(RLM)
    [courses] = await karim.press("cooperative:skip")
    assert courses.buttons[0] == "course:zellige" and courses.text.startswith(RLM)
    with world.app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.language, user.stage, user.display_name) == ("ary", "ready", "Karim")
        assert (user.preferred_name, user.address_form) == ("Karim", "m")
    taps = world.fake.calls_to("answerCallbackQuery")
    assert len(taps) == 7  # every tap answered
    tapped = [s for s in karim.seen if s.method == "sendMessage"][:-1]
    assert all(not s.keyboard for s in tapped)  # each answered keyboard is taken away
    assert all("parse_mode" not in c.params for c in world.fake.calls)


async def test_french_lesson_with_videos_and_a_checkpoint_answered_by_text(world: World) -> None:
    course = world.app.library.courses["zellige"]
    amina = world.learner()
    await onboard(amina)
    welcome, step = await amina.press("course:zellige")
    assert step.kind in {"video", "photo"} and step.uploaded
    assert course.author_of(course.lessons[0].steps[0]).name in step.text  # the caption names the master
    assert step.buttons == ["next", "repeat", "ask"]
    index, answer = right_answer(course, 0, Lang.FRENCH)
    for _ in range(index):
        replies = await amina.press("next")
    assert replies[-1].text.startswith("❓")
    [wrong] = await amina.say("je ne sais pas du tout")
    assert "Essaie encore" in wrong.text
    right = await amina.say(answer)
    assert right[0].text.startswith("✅")
    while not any(b.startswith("lesson:") for b in amina.seen[-1].buttons):
        await amina.press("next")
    assert world.count(StepProgress) == len(course.lessons[0].steps)
    with world.app.sessions() as session:
        assert [a.passed for a in session.scalars(select(Answer).order_by(Answer.id))] == [False, True]

    sami = world.learner(3003, "Sami")  # the same first video, for someone else: sent by Telegram's file id
    await onboard(sami)
    _, again = await sami.press("course:zellige")
    assert again.file_id == step.file_id and not again.uploaded
    assert world.count(MediaUpload, channel="telegram") >= index


async def test_a_voice_note_is_received_and_kept(world: World, voice_note: bytes) -> None:
    amina = world.learner()
    await onboard(amina)
    course = world.app.library.courses["zellige"]
    await amina.press("course:zellige")
    index, _ = right_answer(course, 0, Lang.FRENCH)
    for _ in range(index):
        await amina.press("next")
    [soon] = await amina.send(amina.chat.voice(voice_note))
    assert soon.text == world.app.catalog.t(Lang.FRENCH, "voice.soon")  # kept; understood with speech set up
    with world.app.sessions() as session:
        answer = session.scalars(select(Answer)).one()
    assert answer.audio_path and Path(answer.audio_path).read_bytes() == voice_note
    assert len(world.fake.calls_to("getFile")) == 1 and len(world.fake.downloads) == 1


async def test_the_same_update_twice_gives_one_answer(world: World) -> None:
    amina = world.learner()
    await onboard(amina)
    course = world.app.library.courses["zellige"]
    await amina.press("course:zellige")
    for _ in range(right_answer(course, 0, Lang.FRENCH)[0]):
        await amina.press("next")
    update = amina.chat.message(text="je ne sais pas")
    replies = await amina.send(update, update)  # redelivered in the same batch
    replies += await amina.send(update)  # and again later
    assert world.count(Answer) == 1
    assert len(replies) == 1 and "Essaie encore" in replies[0].text


async def test_a_double_tapped_button_moves_one_step(world: World) -> None:
    amina = world.learner()
    await onboard(amina)
    _, step = await amina.press("course:zellige")
    replies = await amina.send(amina.chat.tap_on(step, "next"), amina.chat.tap_on(step, "next"))
    assert world.count(StepProgress) == 1
    assert len(replies) == 1 and "2/" in replies[0].text
    assert len(world.fake.calls_to("answerCallbackQuery")) == 10  # seven onboarding taps, the course, two
    later = await amina.send(amina.chat.tap_on(step, "next"))  # the same old keyboard, tapped much later
    assert later == [] and world.count(StepProgress) == 1


async def test_an_edited_message_is_not_a_second_answer(world: World) -> None:
    amina = world.learner()
    await onboard(amina)
    course = world.app.library.courses["zellige"]
    await amina.press("course:zellige")
    for _ in range(right_answer(course, 0, Lang.FRENCH)[0]):
        await amina.press("next")
    original = amina.chat.message(text="je ne sais pas")
    await amina.send(original)
    [polite] = await amina.send(amina.chat.edit(original, "la bonne réponse"))
    assert polite.text == world.app.catalog.t(Lang.FRENCH, "input.edited")
    assert world.count(Answer) == 1


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "s1", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512,
                     "is_animated": False, "is_video": False}},
        {"location": {"latitude": 34.03, "longitude": -5.0}},
        {"poll": {"id": "p", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
                  "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
                  "allows_revoting": False, "members_only": False}},
        {"contact": {"phone_number": "+212600000000", "first_name": "Hassan"}},
    ],
    ids=["sticker", "location", "poll", "contact"],
)  # fmt: skip
async def test_what_we_cannot_use_gets_a_helpful_answer(world: World, content: dict[str, object]) -> None:
    amina = world.learner()
    await onboard(amina)
    [helpful] = await amina.send(amina.chat.message(**content))
    assert helpful.text == world.app.catalog.t(Lang.FRENCH, "input.unsupported")  # voice, text or buttons
    with world.app.sessions() as session:
        inbound = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert inbound is not None and inbound.payload["kind"] == "unsupported"
        assert "600000000" not in str(inbound.payload)  # a shared contact's number is not kept


async def test_learner_text_is_never_markup(world: World) -> None:
    amina = world.learner()
    await amina.say("Bonjour")
    for action in (
        "lang:fr",
        "consent:adult",
        "name:skip",
        "address:skip",
        "region:fes-meknes",
        "craft:zellige",
    ):
        await amina.press(action)
    [unknown] = await amina.say("<b>FES</b> *x* [a](http://e.test)")
    assert "<b>FES</b> *x* [a](http://e.test)" in unknown.text
    assert all("parse_mode" not in c.params for c in world.fake.calls_to("sendMessage"))


async def test_command_menus_per_language(world: World) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in world.fake.calls_to("setMyCommands")
    }
    assert set(menus) == {None, "ar", "fr", "en"}  # Tamazight has no Telegram code: it gets the default
    for commands in menus.values():
        assert [c["command"] for c in commands] == list(COMMANDS)
    assert menus["fr"][0]["description"].startswith("Commencer")
    assert menus[None][2]["description"] == world.app.catalog.t(Lang.DARIJA, "menu.courses")


async def test_polling_resumes_after_the_last_saved_message(world: World) -> None:
    amina = world.learner()
    first = amina.chat.message(text="Bonjour")
    await amina.send(first)
    await amina.press("lang:fr")  # a tap's delivery id names its keyboard, not the update
    assert next_offset(world.channel.store) == first["update_id"] + 1
    with world.app.sessions() as session:  # two days later nothing saved says what is still pending
        session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(days=2)))
        session.commit()
    assert next_offset(world.channel.store) is None


async def test_messages_queued_elsewhere_go_out_without_a_message_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.telegram.channel.SWEEP_EVERY", 0.05)
    async with telegram_world(settings) as world:
        amina = world.learner()
        await onboard(amina)
        before = len(amina.seen)
        with world.app.sessions() as session:  # a trainer's decision, a reminder…
            world.app.notifier.notify(session, session.scalars(select(User.id)).one(), "spoken.on")
            session.commit()
        *_, notice = await world.fake.sent_to(amina.chat.chat_id, before + 1)
        assert notice.text == world.app.catalog.t(Lang.FRENCH, "spoken.on")


async def test_an_app_built_with_telegram_sends_its_replies_there_before_the_channel_runs(
    settings: Settings,
) -> None:
    """The channel's sender is handed to the app at construction: nothing attaches it later."""
    fake = FakeTelegram()
    await fake.start()
    configured = telegram_settings(settings, fake)
    telegram = Telegram(configured)
    app = build_app(configured, channels=[telegram])
    await telegram.application.initialize()
    try:
        await app.service.handle(Incoming(CHANNEL, "1001", "m-1", "text", "Bonjour"))
        assert await app.outbox.flush() == 1
        assert "lang:fr" in fake.sent[1001][0].buttons
    finally:
        await telegram.application.shutdown()
        app.close()
        await fake.close()

"""Whole journeys through the real service and database, as the learner sees them."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App, build_app, load_components
from bot.conversation.turn import Turn
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from lessons.i18n import RLM
from lessons.languages import Lang
from progress.models import (
    Answer,
    ChannelIdentity,
    Consent,
    ConsentRefusal,
    InboundMessage,
    OutboundMessage,
    ReviewItem,
    StepProgress,
    User,
    utcnow,
)
from progress.reports import overview
from progress.scope import Scope
from speech.testing import relabelled_piper_voice
from speech.tts import EspeakSpeaker, VoicePerLanguage
from tests.integration.journeys import onboard, right_answer, to_checkpoint, to_cooperative_question


def count(app: App, model: type, **where: object) -> int:
    with app.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(session.scalar(query) or 0)


async def test_first_contact_guesses_the_language_and_asks_by_buttons(learner: MemoryUser) -> None:
    [welcome] = await learner.say("salam, bghit n3ref zellige")
    assert welcome.lang == "ary" and welcome.rtl
    assert welcome.text.startswith(RLM)
    assert welcome.choices[0].data == "lang:ary"
    [consent] = await learner.press("lang:ary")
    assert "/forget" in consent.text
    assert {c.data for c in consent.choices} == {"consent:adult", "consent:minor", "consent:no"}


async def test_the_consent_question_says_who_can_listen(learner: MemoryUser) -> None:
    await learner.say("Bonjour")
    [consent] = await learner.press("lang:fr")
    assert "formateurs de ta coopérative et de ta région" in consent.text
    assert "administrateurs de la plateforme" in consent.text


async def test_french_learner_onboards_by_buttons_in_seven_taps(app: App, learner: MemoryUser) -> None:
    [welcome] = await learner.say("Bonjour, je veux apprendre")
    assert welcome.lang == "fr" and not welcome.rtl
    await learner.press("lang:fr")
    [name] = await learner.press("consent:adult")
    assert name.text == app.catalog.t(Lang.FRENCH, "name.ask")
    assert [c.data for c in name.choices] == ["name:skip"]  # the memory channel gives no platform name
    [address] = await learner.press("name:skip")
    assert [c.data for c in address.choices] == ["address:f", "address:m", "address:skip"]
    [regions] = await learner.press("address:skip")
    assert len(regions.choices) == len(app.library.regions)
    [crafts] = await learner.press("region:fes-meknes")
    assert "craft:zellige" in {c.data for c in crafts.choices}
    [coop] = await learner.press("craft:zellige")
    assert "FES-ZEL-01" in coop.text
    [courses] = await learner.press("cooperative:skip")
    assert courses.choices[0].data == "course:zellige"  # the learner's craft comes first
    assert count(app, Consent, granted=True) == 1
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.preferred_name, user.address_form) == (None, None)


async def test_the_name_to_be_called_by_is_typed_or_the_platform_name_taken(
    app: App, learner: MemoryUser, caplog: pytest.LogCaptureFixture
) -> None:
    await learner.send(learner.message("text", "Bonjour", name="Fatima Zahra B."))
    await learner.press("lang:fr")
    [name] = await learner.press("consent:adult")
    assert [(c.label, c.data) for c in name.choices] == [
        ("Fatima Zahra B.", "name:platform"),
        ("Passer", "name:skip"),
    ]
    with caplog.at_level(logging.DEBUG):
        [invalid, again] = await learner.say("Fati 2024 !!")
        assert invalid.text == app.catalog.t(Lang.FRENCH, "name.invalid") and again.text == name.text
        [hello, address] = await learner.say("  فاطمة   الزهراء ")
    assert "فاطمة" not in caplog.text and "Fati 2024" not in caplog.text  # names are never logged
    assert hello.text == app.catalog.t(Lang.FRENCH, "name.saved", {"name": "فاطمة الزهراء"})
    await learner.press("address:f")
    with app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.preferred_name, user.address_form, user.stage) == ("فاطمة الزهراء", "f", "region")


async def test_an_english_learner_is_not_asked_a_form_of_address_and_can_take_the_platform_name(
    app: App, learner: MemoryUser
) -> None:
    await learner.send(learner.message("text", "Hello", name="Sam"))
    await learner.press("lang:en")
    await learner.press("consent:adult")
    [hello, regions] = await learner.press("name:platform")
    assert hello.text == "Welcome, Sam!" and regions.text == app.catalog.t(Lang.ENGLISH, "region.ask")
    with app.sessions() as session:
        assert session.scalars(select(User)).one().preferred_name == "Sam"


async def test_a_minor_needs_a_guardian(app: App, learner: MemoryUser) -> None:
    await learner.say("Bonjour")
    await learner.press("lang:fr")
    [guardian] = await learner.press("consent:minor")
    assert {c.data for c in guardian.choices} == {"guardian:yes", "guardian:no"}
    await learner.press("guardian:yes")
    with app.sessions() as session:
        consent = session.scalars(select(Consent)).one()
        assert consent.by_guardian and consent.granted


def assert_nothing_kept_but_the_refusal(app: App, learner: MemoryUser, name: str) -> None:
    """After a refusal: no user, identity, consent, message text or outbox row; only the keyed hash."""
    for model in (User, ChannelIdentity, Consent, OutboundMessage):
        assert count(app, model) == 0, model
    with app.sessions() as session:
        inbound = session.scalars(select(InboundMessage)).all()
        assert inbound and all(m.user_id is None and m.payload == {} for m in inbound)
        assert all(learner.chat_id not in m.chat_id for m in inbound)
        [refusal] = session.scalars(select(ConsentRefusal)).all()
        assert learner.chat_id not in refusal.identity_hash and len(refusal.identity_hash) == 64
        assert overview(session, Scope(everything=True), utcnow()).learners == 0
    database = Path(app.settings.resolved_database_url().removeprefix("sqlite:///"))
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert name.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("refusal", [("consent:no",), ("consent:minor", "guardian:no")])
async def test_refusing_consent_keeps_only_a_hash_and_asks_again_on_return(
    app: App, learner: MemoryUser, refusal: tuple[str, ...]
) -> None:
    await learner.send(learner.message("text", "Bonjour", name="Fatima Zahra Bennani"))
    await learner.press("lang:fr")
    for action in refusal:
        replies = await learner.press(action)
    [declined] = replies
    assert "effacé" in declined.text and "trace codée" in declined.text and not declined.choices
    assert_nothing_kept_but_the_refusal(app, learner, "Fatima Zahra Bennani")

    [again, question] = await learner.say("Bonjour")
    assert "tu as dit non" in again.text
    assert {c.data for c in question.choices} == {"consent:adult", "consent:minor", "consent:no"}
    await learner.press("consent:adult")
    assert count(app, ConsentRefusal) == 0 and count(app, Consent, granted=True) == 1


async def test_cooperative_code(app: App, learner: MemoryUser) -> None:
    await to_cooperative_question(learner)
    [unknown] = await learner.say("XYZ-999")
    assert "XYZ-999" in unknown.text and unknown.choices[0].data == "cooperative:skip"
    [joined, courses] = await learner.say("fes-zel-01")
    assert "course:zellige" in {c.data for c in courses.choices}
    with app.sessions() as session:
        assert session.scalars(select(User)).one().cooperative_code == "FES-ZEL-01"


async def test_a_whole_lesson_with_a_checkpoint_wrong_then_right(app: App, learner: MemoryUser) -> None:
    course = app.library.courses["zellige"]
    await onboard(learner)
    replies = await learner.press("course:zellige")
    step = replies[1]
    assert step.media and Path(step.media).is_file() and step.media_kind in {"video", "photo"}
    master = course.author_of(course.lessons[0].steps[0]).name
    assert master in step.text
    index, answer = right_answer(course, 0, Lang.FRENCH)
    for _ in range(index):
        replies = await learner.press("next")
    question = replies[-1]
    assert question.text.startswith("❓")
    [wrong] = await learner.say("je ne sais pas du tout")
    assert "Essaie encore" in wrong.text
    hint = course.lessons[0].steps[index].checkpoint.key_points[0].hint[Lang.FRENCH]  # type: ignore[union-attr]
    assert hint in wrong.text
    right = await learner.say(answer)
    assert right[0].text.startswith("✅")
    with app.sessions() as session:
        answers = session.scalars(select(Answer).order_by(Answer.id)).all()
        assert [a.passed for a in answers] == [False, True]
        assert answers[1].graded_by == "rubric" and answers[1].assessment
    while "lesson:" not in " ".join(c.data for c in learner.inbox[-1].choices):
        await learner.press("next")
    assert count(app, StepProgress) == len(course.lessons[0].steps)


async def test_progress_command(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    await learner.press("course:zellige")
    await learner.press("next")
    [summary] = await learner.say("/progress")
    assert "1/" in summary.text


async def test_bad_input_gets_a_clear_answer(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    [unknown] = await learner.say("/dance")
    assert "/help" in unknown.text
    [sticker] = await learner.send(learner.message("unsupported", unsupported="sticker"))
    assert "boutons" in sticker.text
    [location] = await learner.send(learner.message("unsupported", unsupported="location"))
    assert location.text == sticker.text
    [empty] = await learner.say("   ")
    assert "vide" in empty.text
    [long] = await learner.say("a" * 10_000)
    assert "2000" in long.text
    [stale] = await learner.send(learner.message("button", "course:no-such-course"))
    assert "bouton" in stale.text
    assert count(app, InboundMessage) == 14  # every message is kept, none lost (8 of them onboarding)


async def test_an_answer_in_an_unexpected_script_goes_to_a_person(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    course = app.library.courses["pottery"]
    assert "zgh" not in course.languages
    await to_checkpoint(learner, course)
    [review, *_next] = await learner.say("ⵙ ⵓⵣⴷⴷⵉⵔ ⵏ ⵓⵣⵍⵍⵉⵊ")
    assert "formateur" in review.text
    assert count(app, ReviewItem, reason="uncertain") == 1


async def test_duplicate_delivery_is_processed_once(
    app: App, learner: MemoryUser, memory: MemorySender
) -> None:
    await onboard(learner)
    await to_checkpoint(learner, app.library.courses["zellige"])
    message = learner.message("text", "je ne sais pas")
    await asyncio.gather(
        app.service.handle(message), app.service.handle(message), app.service.handle(message)
    )
    await app.outbox.flush()
    assert count(app, Answer) == 1
    assert len([o for o in learner.inbox if "Essaie encore" in o.text]) == 1


async def test_each_database_erases_a_refusal_and_cleans_up_after_it(
    settings: Settings, database_url: str
) -> None:
    memory = MemorySender()
    app = build_app(settings.model_copy(update={"database_url": database_url}), senders={CHANNEL: memory})
    try:
        learner = MemoryUser(app, memory, "learner-db")
        await learner.say("Bonjour")
        await learner.press("lang:fr")
        [declined] = await learner.press("consent:no")  # sent, then its row erased and VACUUM run
        assert declined.text == app.catalog.t(Lang.FRENCH, "consent.declined")
        assert (count(app, User), count(app, OutboundMessage), count(app, ConsentRefusal)) == (0, 0, 1)
    finally:
        app.close()


async def test_each_database_records_a_delivery_once_and_grades_the_answer(
    settings: Settings, database_url: str
) -> None:
    memory = MemorySender()
    app = build_app(settings.model_copy(update={"database_url": database_url}), senders={CHANNEL: memory})
    try:
        learner = MemoryUser(app, memory, "learner-db")
        await onboard(learner)
        course = app.library.courses["zellige"]
        await to_checkpoint(learner, course)
        answer = learner.message("text", right_answer(course, 0, Lang.FRENCH)[1])
        first, again = app.service.record_all([answer, answer])  # the same delivery twice in one batch
        assert first is not None and again is None
        assert app.service.record(answer) is None  # and once more later
        before = len(learner.inbox)
        await app.service.process(first, answer)
        await app.outbox.flush()
        assert count(app, Answer, passed=True) == 1
        assert learner.inbox[before].text.startswith("✅")
    finally:
        app.close()


async def test_double_tapped_button_moves_one_step(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    await learner.press("course:zellige")
    first, second = learner.message("button", "next"), learner.message("button", "next")
    await asyncio.gather(app.service.handle(first), app.service.handle(first))
    assert count(app, StepProgress) == 1
    await app.service.handle(second)
    assert count(app, StepProgress) == 2


async def test_restart_processes_saved_messages_exactly_once(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    saved = app.service.record(learner.message("text", "/courses"))  # saved, then the process "died"
    assert saved is not None
    assert await app.service.resume() and not await app.service.resume()
    await app.outbox.flush()
    assert learner.inbox[-1].choices[0].data.startswith("course:")


class Breaks:
    """A flow with a bug: it raises on one input, as a tutor or flow bug would on a crafted button."""

    def wants(self, turn: Turn) -> bool:
        return turn.message.text == "casse"

    def handle(self, turn: Turn) -> None:
        raise KeyError(turn.message.text)


def inbound(app: App, inbound_id: int | None) -> tuple[str, str | None]:
    with app.sessions() as session:
        row = session.get_one(InboundMessage, inbound_id)
        return row.status, row.error


async def test_a_message_that_breaks_is_kept_for_a_person_and_the_others_go_on(
    app: App, learner: MemoryUser, memory: MemorySender, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app.service.flows.append(Breaks())
    await onboard(learner)
    poison = learner.message("text", "casse")
    assert await learner.send(poison) == []
    [menu] = await learner.say("/courses")  # the same chat is answered next
    assert menu.choices[0].data.startswith("course:")
    with app.sessions() as session:
        query = select(InboundMessage.id).where(InboundMessage.platform_id == poison.message_id)
        failed = session.scalar(query)
    assert inbound(app, failed) == ("failed", "KeyError")  # its error's type, never what the user wrote
    assert "KeyError" in caplog.text and "casse" not in caplog.text

    stuck = app.service.record(learner.message("text", "casse"))  # saved, then the process "died"
    behind = app.service.record(learner.message("text", "/courses"))
    restarted = build_app(settings, senders={CHANNEL: memory})
    try:
        restarted.service.flows.append(Breaks())
        with caplog.at_level(logging.ERROR):
            await restarted.service.resume()  # the start-up catch-up completes
        await restarted.outbox.flush()
        assert inbound(restarted, stuck) == ("failed", "KeyError")
        assert inbound(restarted, behind)[0] == "done"
        assert learner.inbox[-1].choices[0].data.startswith("course:")
        assert not await restarted.service.resume()  # and the next start has nothing left to replay
    finally:
        restarted.close()


async def test_mydata_exports_everything_and_forget_erases_it(app: App, learner: MemoryUser) -> None:
    await onboard(learner, name="Nour Elhouda", form="f")
    await to_checkpoint(learner, app.library.courses["zellige"])
    await learner.say("je ne sais pas")
    [export] = await learner.say("/mydata")
    assert export.media_kind == "document"
    data = json.loads(Path(export.media).read_text(encoding="utf-8"))  # type: ignore[arg-type]
    assert data["profile"]["language"] == "fr"
    assert data["answers"][0]["text"] == "je ne sais pas"
    assert data["consents"][0]["granted"] is True
    assert (data["profile"]["preferred_name"], data["profile"]["address_form"]) == ("Nour Elhouda", "f")
    [confirm] = await learner.say("/forget")
    [kept] = await learner.press("forget:no")
    assert kept.text == app.catalog.t(Lang.FRENCH, "privacy.forget_cancelled") == "Rien n'a été effacé."
    assert count(app, User) == 1
    await learner.say("/forget")
    [typed] = await learner.say("non")
    assert typed.text == kept.text and count(app, User) == 1
    [still] = await learner.say("/progress")  # the person stays, as they were
    assert still.lang == "fr"
    await learner.say("/forget")
    [gone] = await learner.press("forget:yes")
    assert "effacé" in gone.text
    for model in (User, Answer, Consent, ChannelIdentity, StepProgress):
        assert count(app, model) == 0, model
    assert not Path(export.media).exists()  # type: ignore[arg-type]
    with app.sessions() as session:
        for row in session.scalars(select(InboundMessage)):
            assert row.payload == {} and row.chat_id == "erased"
    database = Path(app.settings.resolved_database_url().removeprefix("sqlite:///"))
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert b"Nour Elhouda" not in path.read_bytes(), path
    [welcome] = await learner.say("Bonjour")  # a new start, from zero
    assert welcome.choices[0].data == "lang:fr"


async def test_language_can_be_changed(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    await learner.say("/language")
    [done] = await learner.press("lang:ar")
    assert done.rtl and done.lang == "ar"


@pytest.mark.parametrize(
    ("lang", "voiced"), [(Lang.FRENCH, True), (Lang.DARIJA, True), (Lang.TAMAZIGHT, False)]
)
async def test_spoken_feedback_is_promised_only_in_a_language_with_a_voice(
    settings: Settings, memory: MemorySender, tmp_path: Path, lang: Lang, voiced: bool
) -> None:
    app = build_app(settings, senders={CHANNEL: memory}, speaker=EspeakSpeaker(tmp_path / "tts"))
    try:
        learner = MemoryUser(app, memory, "learner-1")
        await onboard(learner, lang=lang)
        [reply] = await learner.say("/spoken")
        assert reply.text == app.catalog.t(lang, "spoken.on" if voiced else "spoken.unavailable")
        with app.sessions() as session:
            assert session.scalars(select(User.spoken_feedback)).one() is voiced
    finally:
        app.close()


async def test_with_piper_darija_is_spoken_by_the_pulled_darija_voice_and_tamazight_is_told_there_is_none(
    settings: Settings, memory: MemorySender
) -> None:
    voice = settings.models_dir / "piper-darija" / "ary_MA-darija_m1-medium-v2.onnx"
    relabelled_piper_voice(voice, "ar")  # where `maalem models pull piper-darija` puts the real one
    components = load_components(settings.model_copy(update={"speaker": "piper"}))
    speaker = components.speaker
    assert isinstance(speaker, VoicePerLanguage)
    app = build_app(settings, senders={CHANNEL: memory}, **components.as_kwargs())
    try:
        darija, tamazight = MemoryUser(app, memory, "ary-1"), MemoryUser(app, memory, "zgh-1")
        await onboard(darija, lang=Lang.DARIJA)
        [on] = await darija.say("/spoken")
        assert on.text == app.catalog.t(Lang.DARIJA, "spoken.on")
        step = (await darija.press("course:zellige"))[-1]
        assert step.voice and Path(step.voice).is_file()
        moroccan = speaker.voice_for("ary")
        assert moroccan is not None and moroccan.voice == voice.name and moroccan.misses >= 1
        assert speaker.fallback.misses == 0  # espeak-ng said nothing
        await onboard(tamazight, lang=Lang.TAMAZIGHT)
        [none] = await tamazight.say("/spoken")
        assert none.text == app.catalog.t(Lang.TAMAZIGHT, "spoken.unavailable")
    finally:
        app.close()


async def test_without_a_speaker_spoken_feedback_is_not_promised(app: App, learner: MemoryUser) -> None:
    await onboard(learner)
    [reply] = await learner.say("/spoken")
    assert reply.text == app.catalog.t(Lang.FRENCH, "spoken.unavailable")


async def test_a_craft_with_no_course_yet_is_said_so_and_the_open_courses_offered(
    app: App, learner: MemoryUser
) -> None:
    await learner.say("Bonjour")
    await learner.press("lang:fr")
    for action in ("consent:adult", "name:skip", "address:skip", "region:fes-meknes"):
        await learner.press(action)
    await learner.press("craft:weaving")
    none, courses = await learner.press("cooperative:skip")
    assert none.text == app.catalog.t(Lang.FRENCH, "courses.none_in_craft", {"craft": "Tissage et tapis"})
    assert courses.choices and all(c.data.startswith("course:") for c in courses.choices)


async def test_courses_not_taught_in_tamazight_say_in_which_language_they_are(
    app: App, learner: MemoryUser
) -> None:
    await onboard(learner, lang=Lang.TAMAZIGHT)
    [courses] = await learner.say("/courses")
    labels = {c.data: c.label for c in courses.choices}
    assert not labels["course:zellige"].endswith(")")  # taught in Tamazight
    assert labels["course:pottery"].endswith("(Français)") and labels["course:tadelakt"].endswith(
        "(Français)"
    )


@pytest.mark.parametrize(
    ("form", "expected"), [("f", "اضغطي على زر"), ("m", "اضغط على زر"), ("skip", "اضغط على زر")]
)
async def test_a_learner_is_addressed_in_the_form_they_chose(
    learner: MemoryUser, tmp_path: Path, form: str, expected: str
) -> None:
    await onboard(learner, "مرحبا", Lang.ARABIC, form=form)
    note = tmp_path / "note.ogg"
    note.write_bytes(b"OggS")
    [reply] = await learner.voice(str(note))  # a voice note when no question is asked
    assert expected in reply.text

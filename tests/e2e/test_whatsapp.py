"""WhatsApp end to end: a learner onboards and takes a whole lesson, as the Cloud API would carry it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.whatsapp.limits import BUTTON_TITLE_CHARS, ROW_TITLE_CHARS
from lessons.languages import Lang, pick
from lessons.messages import Choice
from progress.models import (
    Answer,
    DeliveryStatus,
    InboundMessage,
    MediaUpload,
    OutboundMessage,
    StepProgress,
    User,
)
from speech.tts import EspeakSpeaker
from tests.e2e.whatsapp import Harness, Phone, message, running, text
from tests.integration.journeys import right_answer

LEARNER = "212600000001"

pytest_plugins = ("tests.e2e.whatsapp_fixtures",)


def body(sent: dict) -> str:
    """The text a learner reads in a message, whatever its type."""
    kind = sent["type"]
    if kind == "text":
        return sent["text"]["body"]
    if kind == "interactive":
        return sent["interactive"]["body"]["text"]
    return sent[kind].get("caption", "")


async def onboard(wa: Harness, phone: Phone) -> None:
    """Language from a list, consent by buttons, region by number, craft from a list, cooperative skipped."""
    [welcome] = await phone.say("Bonjour")
    assert welcome["interactive"]["type"] == "list"  # five languages
    [consent] = await phone.press("lang:fr")
    assert consent["interactive"]["type"] == "button"
    assert len(consent["interactive"]["action"]["buttons"]) == 3
    await phone.press("consent:adult")
    await phone.press("name:skip")
    [regions] = await phone.press("address:skip")
    assert regions["type"] == "text"  # twelve regions: numbered text
    codes = list(wa.app.library.regions)
    number = codes.index("fes-meknes") + 1
    name = pick(wa.app.library.regions["fes-meknes"].name, Lang.FRENCH)[0]
    assert f"\n{number}. {name}" in body(regions)
    assert body(regions).endswith("Réponds avec le numéro de ton choix.")
    [crafts] = await phone.say(f" {number} ")
    assert crafts["interactive"]["type"] == "list"
    await phone.press("craft:zellige")
    [courses] = await phone.press("cooperative:skip")
    assert courses["interactive"]["action"]["buttons"][0]["reply"]["id"] == "course:zellige"


async def test_onboarding_and_a_whole_lesson_with_a_voice_answer(wa: Harness, tmp_path: Path) -> None:
    phone = wa.phone(LEARNER)
    await onboard(wa, phone)
    course = wa.app.library.courses["zellige"]
    replies = await phone.press("course:zellige")
    kinds = [m["type"] for m in replies]
    assert kinds[0] == "text" and kinds[1] in {"video", "image"} and kinds[-1] == "interactive"
    assert {b["reply"]["id"] for b in replies[-1]["interactive"]["action"]["buttons"]} == {
        "next",
        "repeat",
        "ask",
    }
    uploads = wa.fake.count("/media")
    await phone.press("repeat")  # the same step again: its video is not uploaded twice
    assert wa.fake.count("/media") == uploads
    index, answer = right_answer(course, 0, Lang.FRENCH)
    for _ in range(index):
        replies = await phone.press("next")
    assert body(replies[-1]).startswith("❓")

    voice = EspeakSpeaker(tmp_path / "tts").speak("on taille les pièces au menqach", "fr").read_bytes()
    assert voice[:4] == b"OggS"
    [soon] = await phone.voice(wa.fake.add_media(voice, "audio/ogg; codecs=opus"))
    assert "vocal" in body(soon)
    with wa.app.sessions() as session:
        stored = session.scalars(select(Answer).where(Answer.audio_path.is_not(None))).one()
        assert Path(stored.audio_path).read_bytes() == voice  # type: ignore[arg-type]

    right = await phone.say(answer)
    assert body(right[0]).startswith("✅")
    while not any("lesson:" in b["reply"]["id"] for b in _buttons(phone.inbox[-1])):
        await phone.press("next")
    with wa.app.sessions() as session:
        assert session.query(StepProgress).count() == len(course.lessons[0].steps)
        assert session.query(OutboundMessage).filter(OutboundMessage.status != "sent").count() == 0
        assert session.query(DeliveryStatus).count() == len(phone.inbox)
        received = session.query(InboundMessage).count()
    assert len(wa.fake.read_receipts()) == received  # every message shown as read


def _buttons(sent: dict) -> list[dict]:
    return sent.get("interactive", {}).get("action", {}).get("buttons", [])


@pytest.mark.parametrize(("count", "shown"), [(3, "button"), (8, "list"), (15, "text")])
async def test_choices_become_buttons_a_list_or_numbered_text(wa: Harness, count: int, shown: str) -> None:
    phone = wa.phone(LEARNER)
    await phone.say("Bonjour")
    labels = [f"Choix numéro {n} avec un libellé bien trop long pour WhatsApp" for n in range(1, count + 1)]
    with wa.app.sessions() as session:
        user = session.scalars(select(User)).one()
        choices = tuple(Choice(label, f"course:{n}") for n, label in enumerate(labels, 1))
        wa.app.notifier.notify(session, user.id, "courses.choose", choices=choices)
        session.commit()
    await wa.webhook.flush()
    sent = phone.inbox[-1]
    assert sent["type"] == ("interactive" if shown != "text" else "text")
    if shown == "button":
        titles = [b["reply"]["title"] for b in sent["interactive"]["action"]["buttons"]]
        assert all(len(t) <= BUTTON_TITLE_CHARS and t.endswith("…") for t in titles)
        assert len(set(titles)) == 3 and not any(t.endswith(" …") for t in titles)
    elif shown == "list":
        rows = sent["interactive"]["action"]["sections"][0]["rows"]
        assert [r["id"] for r in rows] == [c.data for c in choices]
        assert all(len(r["title"]) <= ROW_TITLE_CHARS and r["description"].startswith("Choix") for r in rows)
    else:
        assert f"\n15. {labels[14]}" in body(sent)


async def test_a_typed_number_presses_that_choice_only_after_a_numbered_menu(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await phone.say("Bonjour")
    *_, asked_again = await phone.say("2")  # a list was shown, not a numbered menu: "2" is just text
    assert asked_again["interactive"]["type"] == "list"
    await phone.press("lang:ar")
    await phone.press("consent:adult")
    await phone.press("name:skip")
    [regions] = await phone.press("address:skip")
    assert body(regions).startswith("\u200f")  # right to left, every line marked
    assert "\n\u200f1. " in body(regions)
    await phone.send(text(LEARNER, "٣"))  # Arabic-Indic digits count too
    with wa.app.sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.language, user.region_code) == ("ar", list(wa.app.library.regions)[2])


async def test_unsupported_messages_get_a_helpful_answer(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await onboard(wa, phone)
    location = {"latitude": 34.03, "longitude": -4.99, "name": "Fès"}
    [answer] = await phone.send(message(LEARNER, "location", location))
    assert "boutons" in body(answer)
    [again] = await phone.send(message(LEARNER, "sticker", {"id": "1", "mime_type": "image/webp"}))
    assert body(again) == body(answer)
    with wa.app.sessions() as session:
        assert session.query(MediaUpload).count() == 0


async def test_images_videos_and_documents_from_a_learner_are_answered_not_downloaded(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await onboard(wa, phone)
    sent = [
        message(
            LEARNER, "image", {"id": wa.fake.add_media(b"\xff\xd8", "image/jpeg"), "caption": "mon zellige"}
        ),
        message(LEARNER, "video", {"id": wa.fake.add_media(b"\0", "video/mp4"), "mime_type": "video/mp4"}),
        message(
            LEARNER, "document", {"id": wa.fake.add_media(b"%PDF", "application/pdf"), "filename": "a.pdf"}
        ),
    ]
    for entry in sent:
        [answer] = await phone.send(entry)
        assert answer["type"] == "text"
    assert wa.fake.count("/download/", "GET") == 0
    with wa.app.sessions() as session:
        payloads = session.scalars(select(InboundMessage.payload).order_by(InboundMessage.id)).all()[-3:]
    assert [p["media"]["kind"] for p in payloads] == ["photo", "video", "document"]
    assert payloads[0]["text"] == "mon zellige"


async def test_spoken_replies_and_documents_are_uploaded_and_sent(settings: Settings, tmp_path: Path) -> None:
    async with running(settings, speaker=EspeakSpeaker(tmp_path / "tts")) as wa:
        phone = wa.phone(LEARNER)
        await onboard(wa, phone)
        await phone.say("/spoken")
        replies = await phone.press("course:zellige")
        [voice] = [m for m in replies if m["type"] == "audio"]
        upload = next(c for c in wa.fake.calls if c.form.get("type") == "audio/ogg")
        assert wa.fake.uploads[voice["audio"]["id"]] == upload.file and upload.file[:4] == b"OggS"
        [export] = await phone.say("/mydata")
        assert export["type"] == "document" and export["document"]["filename"].endswith(".json")
        data = json.loads(wa.fake.uploads[export["document"]["id"]])
        assert data["profile"]["language"] == "fr"


async def test_a_long_text_with_buttons_ends_in_a_short_enough_body(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await phone.say("Bonjour")
    with wa.app.sessions() as session:
        user = session.scalars(select(User)).one()
        choices = (Choice("Oui", "forget:yes"), Choice("Non", "forget:no"))
        words = " ".join(["zellige"] * 800)
        wa.app.notifier.notify(session, user.id, "voice.heard", {"text": words}, choices=choices)
        session.commit()
    await wa.webhook.flush()
    *texts, buttons = phone.inbox[1:]
    assert [t["type"] for t in texts] == ["text"] * len(texts) and texts
    assert len(body(buttons)) <= 1024 and buttons["interactive"]["type"] == "button"
    assert sum(body(m).count("zellige") for m in phone.inbox[1:]) == 800


async def test_forget_is_confirmed_and_leaves_no_number_or_name_in_the_database_files(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await onboard(wa, phone)
    await phone.press("course:zellige")
    await phone.say("/forget")
    [done] = await phone.press("forget:yes")
    assert body(done) == wa.app.catalog.t(Lang.FRENCH, "privacy.forgotten")
    with wa.app.sessions() as session:
        assert session.scalars(select(User)).first() is None
        assert session.scalars(select(OutboundMessage)).all() == []  # the confirmation's row went after it
    database = Path(wa.app.settings.resolved_database_url().removeprefix("sqlite:///"))
    files = [database, database.with_name(database.name + "-wal")]
    for path in files:
        if path.exists():
            data = path.read_bytes()
            assert LEARNER.encode() not in data and b"Fatima" not in data, path

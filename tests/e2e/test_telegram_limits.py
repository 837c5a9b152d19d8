"""Telegram's limits and failures: 429, network errors, big files, long texts, and no token in any log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.logs import setup_logging
from bot.settings import Settings
from bot.telegram.rate import ChatRateLimiter
from lessons.i18n import RLM
from lessons.languages import Lang
from lessons.messages import Choice, Outgoing
from progress.models import ChannelIdentity, MediaUpload, OutboundMessage, User
from speech.audio import encode_audio
from tests.e2e.telegram_world import World, at_checkpoint, telegram_world
from tests.fakes.telegram_api import TOKEN
from tests.integration.journeys import onboard

CONTENT = Path(__file__).resolve().parents[2] / "content"
MB = 1024 * 1024


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """The app receiving by long polling."""
    async with telegram_world(settings) as started:
        yield started


@pytest.fixture
def ogg(tmp_path: Path) -> bytes:
    """A short OGG/Opus voice note (a tone)."""
    import numpy as np

    tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 16_000)).astype(np.float32) * 0.3
    return encode_audio(tone, 16_000, "ogg")


async def test_429_retry_after_is_waited_out_and_the_message_sent_once(settings: Settings) -> None:
    async with telegram_world(settings, telegram_chat_rate=1.0) as world:
        world.fake.fail("sendMessage", 429, retry_after=1)
        amina = world.learner()
        [welcome] = await amina.say("Bonjour")
        first, second = world.fake.calls_to("sendMessage")
        assert second.at - first.at >= 1.0  # waited as told, no tight loop
        assert "lang:fr" in welcome.buttons
        with world.app.sessions() as session:
            row = session.scalars(select(OutboundMessage)).one()
            assert (row.status, row.attempts) == ("sent", 0)


async def test_a_network_error_is_retried_later_and_told_to_the_operator_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.fail("sendMessage", 502)
    amina = world.learner()
    [welcome] = await amina.say("Bonjour")  # the outbox tries again after a pause
    assert "lang:fr" in welcome.buttons and len(world.fake.calls_to("sendMessage")) == 2
    with world.app.sessions() as session:
        row = session.scalars(select(OutboundMessage)).one()
        assert (row.status, row.attempts) == ("sent", 1) and "NetworkError" in (row.error or "")
    assert "sending outbox message" in caplog.text and TOKEN not in caplog.text


async def test_polling_survives_a_failing_get_updates(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.fake.fail("getUpdates", 502)  # the call confirming the update fails: asked again after a pause
    [welcome] = await world.learner().say("Bonjour")
    assert "lang:fr" in welcome.buttons and "getUpdates failed (NetworkError)" in caplog.text


async def test_an_update_that_cannot_be_read_does_not_hold_up_the_others(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    amina = world.learner()
    [broken] = await world.fake.push({"message": {"message_id": 1, "chat": {"id": 5, "type": "private"}}})
    [welcome] = await amina.say("Bonjour")  # queued behind it: read, answered
    assert "lang:fr" in welcome.buttons
    await world.fake.confirmed()  # both confirmed: Telegram will not send the broken one again
    assert (
        f"Telegram update {broken['update_id']} could not be read and was skipped (KeyError)" in caplog.text
    )


async def test_a_blocked_learner_is_not_retried(world: World) -> None:
    world.fake.fail("sendMessage", 403)
    await world.learner().say("Bonjour")
    with world.app.sessions() as session:
        row = session.scalars(select(OutboundMessage)).one()
        assert (row.status, row.attempts) == ("failed", 1)
    assert len(world.fake.calls_to("sendMessage")) == 1


async def test_a_25_mb_voice_note_is_refused_politely_without_downloading(world: World, ogg: bytes) -> None:
    amina = await at_checkpoint(world)
    too_large = world.app.catalog.t(Lang.FRENCH, "media.too_large")
    [said] = await amina.send(amina.chat.voice(ogg, size=25 * MB))  # the update tells the size
    assert said.text == too_large and not world.fake.calls_to("getFile")
    update = amina.chat.voice(ogg)
    world.fake.files[update["message"]["voice"]["file_id"]].size = 25 * MB  # only getFile tells it
    [said] = await amina.send(update)
    assert said.text == too_large
    assert len(world.fake.calls_to("getFile")) == 1 and world.fake.downloads == []


@pytest.fixture
def raw_records() -> Iterator[list[str]]:
    """Every log line as written before redaction, with production logging set up at DEBUG."""
    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict},
    )
    lines: list[str] = []

    class Raw(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if record.exc_info:
                text += logging.Formatter().formatException(record.exc_info)
            lines.append(text)

    setup_logging("DEBUG")
    root.addHandler(Raw())
    yield lines
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def test_the_token_never_reaches_a_log(world: World, ogg: bytes, raw_records: list[str]) -> None:
    amina = await at_checkpoint(world)
    await amina.send(amina.chat.voice(ogg))  # getFile, then a download from a URL holding the token
    world.fake.fail("download", 502, times=3)
    [failed] = await amina.send(amina.chat.voice(ogg))  # downloads failing, logged with their errors
    assert failed.text == world.app.catalog.t(Lang.FRENCH, "voice.download_failed")
    assert len(world.fake.downloads) == 4 and raw_records
    leaks = [line for line in raw_records if TOKEN in line or "file/bot" in line]
    assert leaks == []


async def test_long_texts_and_captions_are_cut_cleanly(world: World) -> None:
    sender, chat = world.channel.sender, 1001
    rtl = "\n".join(f"{RLM}السطر رقم {n}: نقطعو الزليج بالمنقاش بشوية بشوية وبلا زربة" for n in range(150))
    latin = " ".join(f"mot{n}" for n in range(1500))
    await sender.send(Outgoing(str(chat), f"{rtl}\n{latin}", "ary", (Choice("التالي", "next"),), rtl=True))
    pieces = list(world.fake.sent[chat])
    assert len(pieces) > 2 and all(len(p.text.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    sent_lines = [line for p in pieces for line in p.text.split("\n")]
    assert all(line in sent_lines for line in rtl.split("\n"))  # every right-to-left line whole
    assert " ".join(p.text for p in pieces).split() == f"{rtl}\n{latin}".split()  # no word broken
    assert [p.buttons for p in pieces][-1] == ["next"] and not any(p.buttons for p in pieces[:-1])

    photo = next((CONTENT / "courses" / "zellige" / "media").glob("*.jpg"))
    caption = " ".join(["تقطيع"] * 400)
    await sender.send(Outgoing(str(chat), caption, "ary", (Choice("التالي", "next"),), str(photo), "photo"))
    shown, rest = world.fake.sent[chat][len(pieces) :]
    assert shown.kind == "photo" and len(shown.text) <= 1024 and not shown.buttons
    assert (shown.text + " " + rest.text).split() == caption.split() and rest.buttons == ["next"]


async def test_voice_replies_and_documents(world: World, tmp_path: Path, ogg: bytes) -> None:
    voice = tmp_path / "reply.ogg"
    voice.write_bytes(ogg)
    sender = world.channel.sender
    await sender.send(Outgoing("1001", "Bravo !", "fr", (Choice("Suite", "next"),), voice=str(voice)))
    text, spoken = world.fake.sent[1001]
    assert (text.kind, text.buttons) == ("text", [])
    assert (spoken.kind, spoken.uploaded, spoken.buttons) == ("voice", True, ["next"])
    assert world.fake.files[spoken.file_id or ""].data == ogg

    amina = world.learner()
    await onboard(amina)
    [export] = await amina.say("/mydata")
    assert export.kind == "document" and export.uploaded and "Maalem" in export.text
    with world.app.sessions() as session:  # personal files are never cached for reuse
        assert all("maalem-data" not in key for key in session.scalars(select(MediaUpload.media_key)))


async def test_each_chat_is_paced_after_a_short_burst() -> None:
    limiter = ChatRateLimiter(per_chat=20.0)

    async def call(*args: object, **kwargs: object) -> bool:
        return True

    async def burst(chat: int, count: int) -> float:
        start = time.monotonic()
        await asyncio.gather(
            *(
                limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
                for _ in range(count)
            )
        )
        return time.monotonic() - start

    assert await burst(1, 7) >= 0.15  # three at once, then 20 a second
    assert await burst(2, 3) < 0.1  # another chat is not held up


def most_in_a_second(times: list[float]) -> int:
    """The most requests made in any one-second window."""
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_a_broadcast_to_60_chats_stays_under_the_global_rate_and_each_chat_pace(
    settings: Settings,
) -> None:
    async with telegram_world(settings, telegram_send_rate=20.0, telegram_chat_rate=2.0) as world:
        with world.app.sessions() as session:
            users = [User(display_name=f"learner {n}", language="fr") for n in range(60)]
            session.add_all(
                ChannelIdentity(channel="telegram", external_id=str(2000 + n), user=user)
                for n, user in enumerate(users)
            )
            session.flush()
            for user in users:  # a reminder each, and five more for the first learner
                for _ in range(6 if user is users[0] else 1):
                    world.app.notifier.notify(session, user.id, "reminder.choose", kind="reminder")
            session.commit()
        await world.channel.delivery.flush()
        sends = world.fake.calls_to("sendMessage")
        assert len(sends) == 65 and {int(c.params["chat_id"]) for c in sends} == set(range(2000, 2060))
        t0 = sends[0].at
        print([round(c.at - t0, 3) for c in sends])
        assert most_in_a_second([c.at for c in sends]) <= 20  # never above the configured 20 a second
        first = sorted(c.at for c in sends if int(c.params["chat_id"]) == 2000)
        assert first[-1] - first[0] >= (6 - 3) / 2.0 - 0.1  # a burst of three, then two a second

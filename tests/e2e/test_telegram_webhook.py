"""Telegram by webhook: the secret header, commit before answering, and exactly once across a crash."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from lessons.languages import Lang
from progress.models import Answer, InboundMessage, OutboundMessage
from tests.e2e.telegram_world import SECRET, World, at_checkpoint, telegram_world
from tests.fakes.telegram_api import FakeChat, FakeTelegram
from tests.integration.dashboard_world import HeldTranscriber, voice_note
from tests.integration.journeys import onboard, right_answer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """The app receiving Telegram updates on its webhook."""
    async with telegram_world(settings, "webhook") as started:
        yield started


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_stored(
    world: World, secret: str | None
) -> None:
    amina = world.learner()
    response = await world.post(amina.chat.message(text="Bonjour"), secret=secret)
    assert response.status_code == 403
    await world.channel.settle()
    assert world.count(InboundMessage) == 0 and not world.fake.calls_to("sendMessage")


async def test_the_update_is_committed_before_the_answer(world: World) -> None:
    amina = world.learner()
    response = await world.post(amina.chat.message(text="Bonjour"))
    assert response.status_code == 200
    assert world.count(InboundMessage) == 1  # saved when Telegram hears 200, whether processed yet or not
    await world.channel.settle()
    [welcome] = amina.seen
    assert "lang:fr" in welcome.buttons


async def test_the_same_update_posted_concurrently_is_answered_once(world: World) -> None:
    amina = world.learner()
    await onboard(amina)
    course = world.app.library.courses["zellige"]
    await amina.press("course:zellige")
    for _ in range(right_answer(course, 0, Lang.FRENCH)[0]):
        await amina.press("next")
    update = world.fake.number(amina.chat.message(text="je ne sais pas"))
    before = len(amina.seen)
    responses = await asyncio.gather(*(world.post(update) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4  # a duplicate is acknowledged too
    await world.channel.settle()
    assert world.count(Answer) == 1 and len(amina.seen) == before + 1


async def test_bodies_that_are_not_updates_are_refused(world: World) -> None:
    deep = b'{"update_id": 1, "message": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001
    for body in (b"not json", b"[1, 2]", b'{"message": {}}', deep):
        response = await world.web.post(WEBHOOK_PATH, content=body, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 400
    assert world.count(InboundMessage) == 0


async def test_a_locked_database_is_answered_503_soon_and_the_other_requests_go_on(
    settings: Settings,
) -> None:
    async with telegram_world(settings, "webhook", db_busy_timeout=2.0) as world:
        amina = world.learner()
        update = world.fake.number(amina.chat.message(text="Bonjour"))
        holder = sqlite3.connect(world.app.settings.data_dir / "maalem.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            start = time.monotonic()
            waiting = asyncio.create_task(world.post(update))
            await asyncio.sleep(0.1)
            assert (await world.web.get("/healthz")).status_code == 200
            assert time.monotonic() - start < 1.5  # answered while the update waits on the lock
            busy = await waiting
            assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        finally:
            holder.rollback()
            holder.close()
        assert (await world.post(update)).status_code == 200  # Telegram's retry is recorded and answered
        await world.channel.settle()
        assert world.count(InboundMessage) == 1 and len(amina.seen) == 1


async def test_a_slow_transcription_holds_up_neither_the_webhook_nor_other_learners(
    settings: Settings, tmp_path: Path
) -> None:
    held = HeldTranscriber("on taille les pièces au menqach")
    async with telegram_world(settings, "webhook", transcriber=held) as world:
        amina, karim = await at_checkpoint(world), await at_checkpoint(world, 1002, "Karim")
        _, answer = right_answer(world.app.library.courses["zellige"], 0, Lang.FRENCH)
        note = voice_note(tmp_path / "note.ogg").read_bytes()
        seen, karim_seen = len(amina.seen), len(karim.seen)

        async def acknowledged(update: dict[str, object]) -> None:
            start = time.monotonic()
            assert (await world.post(update)).status_code == 200
            assert time.monotonic() - start < 0.5

        await acknowledged(amina.chat.voice(note))
        assert await asyncio.to_thread(held.started.wait, 10)  # the note is being heard: 30 s, say
        await acknowledged(karim.chat.message(text=answer))
        newcomer = world.learner(1003, "Youssef")
        await acknowledged(newcomer.chat.message(text="Bonjour"))
        await acknowledged(amina.chat.message(text="encore là ?"))  # her own next message waits its turn
        [*_, graded] = await world.fake.sent_to(1002, karim_seen + 1, within=5)
        assert graded.text.startswith("✅")  # Karim's typed answer graded while Amina's note is heard
        [welcome] = await world.fake.sent_to(1003, 1, within=5)
        assert "lang:fr" in welcome.buttons
        assert len(amina.seen) == seen and not held.released.is_set()
        held.released.set()
        await world.channel.settle()
        heard = world.app.catalog.t(Lang.FRENCH, "voice.heard", {"text": held.text})
        assert amina.seen[seen].text == heard


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_killed_after_commit_the_update_is_processed_once_after_restart(
    settings: Settings, mode: str
) -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        amina = FakeChat(fake, 1001)
        update = fake.number(amina.message(text="Bonjour"))
        if mode == "polling":
            await fake.push(update)
        env = {
            **os.environ,
            "MAALEM_DATA_DIR": str(settings.data_dir),
            "MAALEM_CONTENT_DIR": str(settings.content_dir),
            "MAALEM_TELEGRAM_TOKEN": fake.token,
            "MAALEM_TELEGRAM_API_URL": fake.api_url,
            "MAALEM_TELEGRAM_FILE_URL": fake.file_url,
            "MAALEM_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "MAALEM_TELEGRAM_CHAT_RATE": "0",
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.telegram_crash",
            mode,
            json.dumps(update),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(child.communicate(), 60)
        assert child.returncode == 137
        if mode == "webhook":
            assert out.decode().split() == ["200"]  # Telegram was told it arrived: it will not send it again
        assert not fake.sent  # it died before answering

        async with telegram_world(settings, mode, fake=fake) as world:  # a fresh process on the same data
            if mode == "polling":
                await fake.confirmed()  # Telegram sent the update again: recognised, not processed twice
            await world.channel.settle()
            [welcome] = fake.sent[1001]
            assert "lang:fr" in welcome.buttons
            with world.app.sessions() as session:
                assert [row.status for row in session.scalars(select(InboundMessage))] == ["done"]
                assert session.scalars(select(OutboundMessage.status)).all() == ["sent"]
    finally:
        await fake.close()

"""The WhatsApp webhook: handshake, raw-body signatures, size cap, exactly once, statuses out of order."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.settings import Settings
from bot.web import MAX_BODY_BYTES
from bot.whatsapp.store import message_key
from bot.whatsapp.webhook import PATH
from lessons.languages import Lang
from progress.models import DeliveryStatus, InboundMessage, OutboundMessage
from tests.e2e.test_whatsapp import body as shown
from tests.e2e.test_whatsapp import onboard
from tests.e2e.whatsapp import VERIFY_TOKEN, Harness, Phone, delivery, message, running, sign, status, text
from tests.integration.dashboard_world import HeldTranscriber, voice_note
from tests.integration.journeys import right_answer

LEARNERS = ("212600000011", "212600000012", "212600000013")

pytest_plugins = ("tests.e2e.whatsapp_fixtures",)


def count(wa: Harness, model: type) -> int:
    with wa.app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_handshake_echoes_the_challenge_only_for_the_right_token(wa: Harness) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    right = await wa.http.get(PATH, params=params)
    assert (right.status_code, right.text) == (200, "1158201444")
    assert right.headers["content-type"].startswith("text/plain")
    wrong = await wa.http.get(PATH, params={**params, "hub.verify_token": "guess"})
    assert (wrong.status_code, wrong.text) == (403, "")
    assert (await wa.http.get(PATH, params={**params, "hub.mode": "unsubscribe"})).status_code == 403
    assert (await wa.http.get(PATH)).status_code == 403


async def test_unsigned_or_tampered_deliveries_are_refused_and_nothing_is_stored(wa: Harness) -> None:
    body = delivery(wa.fake.phone_number_id, [text(LEARNERS[0], "Bonjour")])
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = sign(raw)
    assert (await wa.post(raw, signature="sha256=" + "0" * 64)).status_code == 401
    assert (await wa.post(raw, signature=sign(raw, "another-secret"))).status_code == 401
    assert (await wa.post(raw, signature=signature.removeprefix("sha256="))).status_code == 401
    response = await wa.http.post(PATH, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 401
    reserialised = json.dumps(json.loads(raw), indent=1).encode()  # same JSON, other bytes
    assert (await wa.post(reserialised, signature=signature)).status_code == 401
    assert count(wa, InboundMessage) == 0 and wa.fake.sent == []
    assert (await wa.post(raw, signature=signature)).status_code == 200
    assert count(wa, InboundMessage) == 1 and len(wa.fake.sent) == 1


async def test_oversized_bodies_are_refused_before_parsing(wa: Harness) -> None:
    body = delivery(wa.fake.phone_number_id, [text(LEARNERS[0], "x" * MAX_BODY_BYTES)])
    assert (await wa.post(body)).status_code == 413
    assert count(wa, InboundMessage) == 0


async def test_a_body_signed_but_not_json_is_a_bad_request(wa: Harness) -> None:
    assert (await wa.post(b"{not json")).status_code == 400
    deep = b'{"object": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # within the size limit, too deep to read
    assert (await wa.post(deep)).status_code == 400
    assert count(wa, InboundMessage) == 0


async def test_the_same_wamid_delivered_twice_and_at_once_is_answered_once(wa: Harness) -> None:
    first = text(LEARNERS[0], "Bonjour", wamid="wamid.same-message")
    body = delivery(wa.fake.phone_number_id, [first])
    responses = await asyncio.gather(*(wa.post(body) for _ in range(4)))
    assert {r.status_code for r in responses} == {200}
    await wa.post(body)  # and once more, later (Meta retries for days)
    assert count(wa, InboundMessage) == 1
    assert len(wa.fake.to(LEARNERS[0])) == 1
    assert wa.fake.read_receipts() == ["wamid.same-message"]
    with wa.app.sessions() as session:  # a wamid encodes the phone number: only its hash is kept
        assert session.scalars(select(InboundMessage.platform_id)).one() == message_key("wamid.same-message")


async def test_a_batch_replayed_after_a_failure_half_way_is_answered_once_per_message(wa: Harness) -> None:
    inserts = 0

    def fail_the_second_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal inserts
        if statement.startswith("INSERT INTO inbound_messages"):
            inserts += 1
            if inserts == 2:
                raise RuntimeError("disk full")

    earlier = await wa.phone(LEARNERS[0]).say("Bonjour")
    assert len(earlier) == 1
    [sent_wamid] = wa.fake.wamids(LEARNERS[0])
    messages = [text(learner, "Bonjour") for learner in LEARNERS[1:]] + [text(LEARNERS[0], "/help")]
    statuses = [status(sent_wamid, "delivered", LEARNERS[0]), status(sent_wamid, "read", LEARNERS[0])]
    body = delivery(wa.fake.phone_number_id, messages, statuses)
    event.listen(wa.app.engine, "before_cursor_execute", fail_the_second_insert)
    try:
        assert (await wa.post(body)).status_code == 500  # Meta will deliver the whole batch again
    finally:
        event.remove(wa.app.engine, "before_cursor_execute", fail_the_second_insert)
    assert (await wa.post(body)).status_code == 200
    assert (await wa.post(body)).status_code == 200
    assert count(wa, InboundMessage) == 4
    assert [len(wa.fake.to(learner)) for learner in LEARNERS] == [2, 1, 1]
    with wa.app.sessions() as session:
        assert session.scalars(select(InboundMessage.status)).all() == ["done"] * 4
        row = session.scalars(
            select(DeliveryStatus).where(DeliveryStatus.platform_id == message_key(sent_wamid))
        )
        assert row.one().status == "read"


async def test_statuses_out_of_order_keep_the_latest_and_failures_reach_the_operator(
    wa: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    learner = LEARNERS[0]
    await wa.phone(learner).say("Bonjour")
    await wa.phone(learner).say("/help")
    first, *_, last = wa.fake.wamids(learner)
    order = ["read", "sent", "delivered", "sent"]
    await wa.deliver(statuses=[status(first, state, learner) for state in order])
    await wa.deliver(statuses=[status(last, "sent", learner)])
    with caplog.at_level(logging.ERROR):
        error = (131026, "Message undeliverable")
        await wa.deliver(
            statuses=[status(last, "failed", learner, error), status(last, "delivered", learner)]
        )
    with wa.app.sessions() as session:
        rows = {r.platform_id: r for r in session.scalars(select(DeliveryStatus))}
    assert rows[message_key(first)].status == "read"
    failed = rows[message_key(last)]
    assert (failed.status, failed.error_code, failed.user_id) == (
        "failed",
        131026,
        rows[message_key(first)].user_id,
    )
    assert "Message undeliverable" in (failed.error_title or "")
    [alert] = [r for r in caplog.records if "could not deliver" in r.getMessage()]
    assert "131026" in alert.getMessage() and learner not in alert.getMessage()
    assert count(wa, InboundMessage) == 2  # statuses are not messages


async def test_deliveries_for_another_number_are_ignored(wa: Harness) -> None:
    response = await wa.post(delivery("999999999", [text(LEARNERS[0], "Bonjour")]))
    assert response.status_code == 200
    assert count(wa, InboundMessage) == 0 and count(wa, OutboundMessage) == 0


async def test_a_locked_database_is_answered_503_soon_and_the_other_requests_go_on(
    settings: Settings,
) -> None:
    async with running(settings, {"db_busy_timeout": 2.0}) as wa:
        body = json.dumps(delivery(wa.fake.phone_number_id, [text(LEARNERS[0], "Bonjour")])).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body)}
        holder = sqlite3.connect(wa.app.settings.data_dir / "maalem.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            start = time.monotonic()
            waiting = asyncio.create_task(wa.http.post(PATH, content=body, headers=headers))
            await asyncio.sleep(0.1)
            assert (await wa.http.get("/healthz")).status_code == 200
            assert time.monotonic() - start < 1.5  # answered while the delivery waits on the lock
            busy = await waiting
            assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
            assert time.monotonic() - start < 10
        finally:
            holder.rollback()
            holder.close()
        assert (await wa.post(body)).status_code == 200  # Meta's retry is recorded and answered
        assert count(wa, InboundMessage) == 1
        assert len(wa.fake.to(LEARNERS[0])) == 1


async def at_checkpoint(wa: Harness, phone: Phone) -> None:
    """Onboarded, at the first question of the zellige course."""
    await onboard(wa, phone)
    await phone.press("course:zellige")
    for _ in range(right_answer(wa.app.library.courses["zellige"], 0, Lang.FRENCH)[0]):
        await phone.press("next")


async def test_a_slow_transcription_holds_up_neither_the_webhook_nor_other_learners(
    settings: Settings, tmp_path: Path
) -> None:
    held = HeldTranscriber("on taille les pièces au menqach")
    async with running(settings, transcriber=held) as wa:
        amina, karim = wa.phone(LEARNERS[0]), wa.phone(LEARNERS[1])
        for phone in (amina, karim):
            await at_checkpoint(wa, phone)
        _, answer = right_answer(wa.app.library.courses["zellige"], 0, Lang.FRENCH)
        note = wa.fake.add_media(voice_note(tmp_path / "note.ogg").read_bytes(), "audio/ogg; codecs=opus")
        seen, karim_seen = len(amina.inbox), len(karim.inbox)

        async def acknowledged(entry: dict[str, Any]) -> None:
            start = time.monotonic()
            response = await wa.post(delivery(wa.fake.phone_number_id, [entry]), settle=False)
            assert response.status_code == 200 and time.monotonic() - start < 0.5

        await acknowledged(message(amina.wa_id, "audio", {"id": note, "mime_type": "audio/ogg; codecs=opus"}))
        assert await asyncio.to_thread(held.started.wait, 10)  # the note is being heard: 30 s, say
        await acknowledged(text(karim.wa_id, answer))
        await acknowledged(text(LEARNERS[2], "Bonjour"))
        await acknowledged(text(amina.wa_id, "encore là ?"))  # her own next message waits its turn
        [*_, graded] = await wa.fake.sent_to(karim.wa_id, karim_seen + 1)
        assert shown(graded).startswith("✅")  # Karim's typed answer graded while Amina's note is heard
        [welcome] = await wa.fake.sent_to(LEARNERS[2], 1)
        assert welcome["interactive"]["type"] == "list"
        assert len(amina.inbox) == seen and not held.released.is_set()
        held.released.set()
        await wa.webhook.drain()
        heard = wa.app.catalog.t(Lang.FRENCH, "voice.heard", {"text": held.text})
        assert shown(amina.inbox[seen]) == heard

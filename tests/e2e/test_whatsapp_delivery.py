"""Sending on WhatsApp: the 24-hour window and templates, retries, rates, limits, media, secrets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.settings import Settings, WhatsAppTemplate
from bot.whatsapp.limits import TEXT_CHARS, split_text, units
from lessons.i18n import FSI, PDI, RLM
from progress.models import ChannelIdentity, OutboundMessage, User, utcnow
from tests.e2e.whatsapp import Harness, running

LEARNER = "212600000021"
TEMPLATES = {"reminder": WhatsAppTemplate(name="maalem_reminder", language="fr", languages={"ary": "ar"})}

pytest_plugins = ("tests.e2e.whatsapp_fixtures",)


@pytest.fixture
async def wat(settings: Settings) -> AsyncIterator[Harness]:
    """WhatsApp with an approved reminder template."""
    async with running(settings, {"whatsapp_templates": TEMPLATES}) as harness:
        yield harness


async def known_learner(wa: Harness, hours_ago: float = 0) -> int:
    """A learner who wrote once, `hours_ago`; their user id."""
    await wa.phone(LEARNER).say("Bonjour")
    with wa.app.sessions() as session:
        session.execute(update(ChannelIdentity).values(last_inbound_at=utcnow() - timedelta(hours=hours_ago)))
        session.commit()
        return session.scalars(select(User.id)).one()


async def notify(wa: Harness, user_id: int, kind: str, key: str = "progress.none", **params: str) -> int:
    """Queue a message we start ourselves, flush, and return how many went."""
    with wa.app.sessions() as session:
        wa.app.notifier.notify(session, user_id, key, params, kind=kind)
        session.commit()
    return await wa.webhook.flush()


def outbox_states(wa: Harness) -> list[tuple[str, int]]:
    with wa.app.sessions() as session:
        return [
            (r.status, r.attempts)
            for r in session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
        ]


async def test_a_reminder_after_25_hours_goes_as_a_template(
    wat: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = await known_learner(wat, hours_ago=25)
    assert await notify(wat, user_id, "reminder") == 1
    reminder = wat.fake.to(LEARNER)[-1]
    assert reminder["type"] == "template"
    template = reminder["template"]
    assert (template["name"], template["language"]["code"]) == ("maalem_reminder", "fr")
    [parameter] = template["components"][0]["parameters"]
    assert "\n" not in parameter["text"] and parameter["text"]
    assert not [m for m in wat.fake.to(LEARNER)[1:] if m["type"] == "text"]  # never as free text

    with caplog.at_level(logging.ERROR):
        assert await notify(wat, user_id, "digest") == 0  # no template approved for digests: held back
        assert await notify(wat, user_id, "") == 0
    assert len(wat.fake.to(LEARNER)) == 2
    assert outbox_states(wat)[-2:] == [("failed", 1), ("failed", 1)]
    assert sum("outside the 24-hour window" in r.getMessage() for r in caplog.records) == 2


async def test_inside_the_window_a_reminder_is_plain_text(wat: Harness) -> None:
    user_id = await known_learner(wat, hours_ago=23)
    await notify(wat, user_id, "reminder")
    assert wat.fake.to(LEARNER)[-1]["type"] == "interactive" or wat.fake.to(LEARNER)[-1]["type"] == "text"
    assert not [m for m in wat.fake.to(LEARNER) if m["type"] == "template"]


async def test_when_whatsapp_says_the_window_closed_a_template_goes_instead(wat: Harness) -> None:
    user_id = await known_learner(wat)
    wat.fake.fail_next(400, 131047, "Re-engagement message")
    await notify(wat, user_id, "reminder")
    assert wat.fake.to(LEARNER)[-1]["type"] == "template"
    assert outbox_states(wat)[-1] == ("sent", 0)


async def test_a_rate_limit_is_retried_after_a_pause_and_sent_once(wa: Harness) -> None:
    user_id = await known_learner(wa)
    wa.fake.fail_next(429, 130429, "Rate limit hit")
    assert await notify(wa, user_id, "notice") == 1
    attempts = [c for c in wa.fake.calls if c.json and c.json.get("to") == LEARNER][-2:]
    assert attempts[0].wamid == "" and attempts[1].wamid  # refused, then accepted
    assert attempts[1].at - attempts[0].at >= 0.05  # the backoff
    assert len(wa.fake.to(LEARNER)) == 2  # welcome and this one, not twice
    assert outbox_states(wa)[-1] == ("sent", 0)


async def test_undeliverable_is_dropped_at_once_and_an_expired_token_waits(
    wa: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = await known_learner(wa)
    wa.fake.fail_next(400, 131026, "Message undeliverable")
    assert await notify(wa, user_id, "notice") == 0
    assert outbox_states(wa)[-1] == ("failed", 1)  # not retried: it never will go
    with caplog.at_level(logging.ERROR):
        wa.fake.fail_next(401, 190, "Error validating access token: Session has expired")
        assert await notify(wa, user_id, "notice") == 0
    assert outbox_states(wa)[-1] == ("pending", 1)  # kept for when the operator renews the token
    assert any(r.getMessage().startswith("operator:") and "190" in r.getMessage() for r in caplog.records)
    assert await wa.webhook.flush() == 1


async def test_a_flush_from_the_dashboard_never_overtakes_the_webhooks(wa: Harness) -> None:
    user_id = await known_learner(wa)

    def queue(*texts: str) -> None:
        with wa.app.sessions() as session:
            for text in texts:
                wa.app.notifier.notify(session, user_id, "voice.heard", {"text": text}, kind="notice")
            session.commit()

    queue("one", "two")
    gate = wa.fake.hold_next()  # "one" is a slow upload
    first = asyncio.create_task(wa.webhook.flush())  # on the worker, as after a message
    await asyncio.sleep(0.2)
    queue("three")
    second = asyncio.create_task(wa.app.outbox.flush())  # the dashboard's nudge, on the web server's loop
    await asyncio.sleep(0.2)
    gate.set()
    await asyncio.gather(first, second)
    words = ("one", "two", "three")
    bodies = [m["text"]["body"] for m in wa.fake.to(LEARNER)[1:]]
    assert [next(w for w in words if w in body) for body in bodies] == list(words)


async def test_sends_keep_to_the_configured_rate(settings: Settings) -> None:
    async with running(settings, {"whatsapp_send_rate": 20.0}) as wa:
        user_id = await known_learner(wa)
        for _ in range(6):
            with wa.app.sessions() as session:
                wa.app.notifier.notify(session, user_id, "progress.none", kind="notice")
                session.commit()
        started = time.monotonic()
        assert await wa.webhook.flush() == 6
        assert time.monotonic() - started >= 5 / 20 * 0.9


async def test_long_texts_are_split_between_words_and_keep_their_direction(wa: Harness) -> None:
    user_id = await known_learner(wa)
    with wa.app.sessions() as session:
        session.execute(update(User).values(language="ary"))
        session.commit()
    words = " ".join(f"كلمة{n}" for n in range(2500))
    await notify(wa, user_id, "notice", "voice.heard", text=words)
    parts = [m["text"]["body"] for m in wa.fake.to(LEARNER)[1:]]
    assert len(parts) >= 5 and all(units(p) <= TEXT_CHARS for p in parts)
    assert all(p.startswith(RLM) for p in parts)
    assert all(p.count(FSI) == p.count(PDI) for p in parts)
    heard = " ".join(p.replace(RLM, "").replace(FSI, " ").replace(PDI, " ") for p in parts).split()
    assert [w for w in heard if w.startswith("كلمة")] == words.split()


@given(st.text(alphabet=st.sampled_from("ab ــ\n\u064e" + RLM), max_size=400), st.integers(20, 80))
def test_split_text_never_exceeds_the_limit_nor_loses_a_word(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(units(p) <= limit for p in parts)
    assert "".join(text.split()).replace(RLM, "") == "".join("".join(parts).split()).replace(RLM, "")


async def test_a_voice_note_over_the_limit_is_refused_before_download(wa: Harness) -> None:
    phone = wa.phone(LEARNER)
    await phone.say("Bonjour")
    for action in ("lang:fr", "consent:adult", "name:skip", "address:skip"):
        await phone.press(action)
    await phone.say("1")
    for action in ("craft:zellige", "cooperative:skip", "course:zellige"):
        await phone.press(action)
    while (
        wa.fake.to(LEARNER)[-1]["type"] != "interactive"
        or "❓" not in wa.fake.to(LEARNER)[-1]["interactive"]["body"]["text"]
    ):
        await phone.press("next")
    media_id = wa.fake.add_media(b"OggS" + b"\0" * 100, "audio/ogg", file_size=17 * 1024 * 1024)
    [refused] = await phone.voice(media_id)
    assert "trop gros" in refused["text"]["body"]
    assert wa.fake.count(f"/download/{media_id}", "GET") == 0


async def test_the_access_token_never_reaches_the_logs(wa: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        user_id = await known_learner(wa)
        wa.fake.fail_next(401, 190, f"Invalid OAuth access token - Cannot parse access token {wa.fake.token}")
        await notify(wa, user_id, "notice")
    from bot.logs import redact

    token = "EAAGm0PX4ZCpsBAKZBZCqZAZBRZCaZBQ" + "x" * 60
    assert token not in redact(f"Bearer {token}")
    with wa.app.sessions() as session:
        errors = session.scalars(
            select(OutboundMessage.error).where(OutboundMessage.error.is_not(None))
        ).all()
    assert errors and not any(wa.fake.token in (e or "") for e in errors)
    assert not any(wa.fake.token in r.getMessage() for r in caplog.records)

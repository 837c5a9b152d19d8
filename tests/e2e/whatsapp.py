"""WhatsApp end to end: the real app and webhook, a fake Graph API, learners posting Cloud API payloads."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from bot.app import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from bot.whatsapp.channel import WhatsApp
from bot.whatsapp.webhook import PATH, Webhook
from tests.fakes.graph_api import FakeGraphAPI

APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
_wamids = itertools.count(1)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The `X-Hub-Signature-256` header Meta would send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_wamid() -> str:
    """A fresh message id shaped like Meta's."""
    return f"wamid.HBgMMjEyNjAwMDAwMDAwFQIAEhgU{next(_wamids):012d}"


def message(wa_id: str, kind: str, body: dict[str, Any], wamid: str | None = None) -> dict[str, Any]:
    """One entry of `value.messages`, as a user's phone produces it."""
    return {
        "from": wa_id,
        "id": wamid or new_wamid(),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: body,
    }


def text(wa_id: str, body: str, wamid: str | None = None) -> dict[str, Any]:
    """A typed message."""
    return message(wa_id, "text", {"body": body}, wamid)


def status(wamid: str, state: str, wa_id: str, error: tuple[int, str] | None = None) -> dict[str, Any]:
    """One entry of `value.statuses`."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    if error:
        entry["errors"] = [{"code": error[0], "title": error[1], "error_data": {"details": error[1]}}]
    return entry


def delivery(
    phone_number_id: str, messages: Sequence[dict[str, Any]] = (), statuses: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A whole webhook body for our number."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "212522000000", "phone_number_id": phone_number_id},
    }
    senders = sorted({m["from"] for m in messages})
    if senders:
        value["contacts"] = [{"profile": {"name": "Fatima"}, "wa_id": s} for s in senders]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [change]}]}


@dataclass
class Harness:
    """The running app behind its webhook, the fake Graph API it calls, an HTTP client to post deliveries."""

    app: App
    webhook: Webhook
    fake: FakeGraphAPI
    http: httpx.AsyncClient

    async def post(
        self, body: dict[str, Any] | bytes, signature: str | None = None, *, settle: bool = True
    ) -> httpx.Response:
        """Post a delivery signed like Meta (or with `signature`), then (if `settle`) let the background work
        finish."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": signature or sign(raw)}
        response = await self.http.post(PATH, content=raw, headers=headers)
        if settle:
            await self.webhook.drain()
        return response

    async def deliver(
        self, *messages: dict[str, Any], statuses: Sequence[dict[str, Any]] = ()
    ) -> httpx.Response:
        """Post messages (and statuses) in one delivery, expecting it accepted."""
        response = await self.post(delivery(self.fake.phone_number_id, messages, statuses))
        assert response.status_code == 200, response.text
        return response

    def phone(self, wa_id: str) -> Phone:
        """A learner's WhatsApp."""
        return Phone(self, wa_id)


class Phone:
    """One learner on WhatsApp: sends what a phone sends, sees what the fake Graph API delivered to them."""

    def __init__(self, harness: Harness, wa_id: str) -> None:
        self.harness = harness
        self.wa_id = wa_id

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """Everything delivered to this learner, in order."""
        return self.harness.fake.to(self.wa_id)

    async def send(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one message; the messages it caused."""
        before = len(self.inbox)
        await self.harness.deliver(entry)
        return self.inbox[before:]

    async def say(self, body: str) -> list[dict[str, Any]]:
        """Type a text."""
        return await self.send(text(self.wa_id, body))

    async def press(self, data: str) -> list[dict[str, Any]]:
        """Tap a reply button or a list row by its id; it must be in the last interactive message received."""
        interactive = next(
            (m["interactive"] for m in reversed(self.inbox) if m["type"] == "interactive"), None
        )
        assert interactive is not None, "no buttons or list received"
        if interactive["type"] == "button":
            offered = {b["reply"]["id"]: b["reply"]["title"] for b in interactive["action"]["buttons"]}
            reply = {"type": "button_reply", "button_reply": {"id": data, "title": offered.get(data, "")}}
        else:
            rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
            offered = {r["id"]: r["title"] for r in rows}
            reply = {"type": "list_reply", "list_reply": {"id": data, "title": offered.get(data, "")}}
        assert data in offered, f"{data!r} not offered: {list(offered)}"
        return await self.send(message(self.wa_id, "interactive", reply))

    async def voice(self, media_id: str) -> list[dict[str, Any]]:
        """Send a voice note the fake serves under `media_id`."""
        audio = {"mime_type": "audio/ogg; codecs=opus", "id": media_id, "voice": True}
        return await self.send(message(self.wa_id, "audio", audio))


@asynccontextmanager
async def running(
    settings: Settings, overrides: dict[str, Any] | None = None, **build: Any
) -> AsyncIterator[Harness]:
    """The whole app with the WhatsApp channel (and settings `overrides`), calling a fresh fake Graph API."""
    fake = FakeGraphAPI()
    await fake.start()
    settings = settings.model_copy(
        update={
            "whatsapp_token": SecretStr(fake.token),
            "whatsapp_phone_number_id": fake.phone_number_id,
            "whatsapp_app_secret": SecretStr(APP_SECRET),
            "whatsapp_verify_token": SecretStr(VERIFY_TOKEN),
            "whatsapp_api_url": fake.url,
            **(overrides or {}),
        }
    )
    whatsapp = WhatsApp(settings, backoff=0.05)
    app = build_app(settings, channels=[whatsapp], **build)
    webhook = whatsapp.webhook(app)
    web = create_web_app(app, [webhook.router()])
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web, raise_app_exceptions=False), base_url="http://maalem.test"
        ) as http:
            yield Harness(app, webhook, fake, http)
    finally:
        await webhook.drain()
        await whatsapp.aclose()
        app.close()
        await fake.stop()

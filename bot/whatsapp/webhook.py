"""The Cloud API webhook: the verification handshake; signed deliveries recorded before being acknowledged."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections import defaultdict
from dataclasses import replace

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import OperationalError

from bot.app import App
from bot.whatsapp import CHANNEL
from bot.whatsapp.errors import GraphError
from bot.whatsapp.graph import GraphClient
from bot.whatsapp.store import Store
from bot.whatsapp.updates import Batch, parse
from bot.whatsapp.worker import Worker
from lessons.messages import Incoming
from progress.db import BUSY_RETRY_AFTER

log = logging.getLogger(__name__)
PATH = "/whatsapp/webhook"
_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")
"""A typed choice number (any script's digits: ٣ and ۳ are 3)."""


def signed(raw: bytes, header: str | None, secret: bytes) -> bool:
    """Whether `header` is `sha256=` + the HMAC-SHA256 of the raw body with the app secret (constant time)."""
    expected = b"sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest().encode()
    return header is not None and hmac.compare_digest(expected, header.strip().encode())


class Webhook:
    """Receives deliveries for one business number: checks, records, answers, then processes in background."""

    def __init__(
        self,
        app: App,
        client: GraphClient,
        store: Store,
        *,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        worker: Worker,
    ) -> None:
        self.app = app
        self.client = client
        self.store = store
        self.secret = app_secret.encode()
        self.verify_token = verify_token.encode()
        self.phone_number_id = phone_number_id
        self.worker = worker

    def router(self) -> APIRouter:
        """The webhook's two routes, to mount on the web app."""
        router = APIRouter()
        router.add_api_route(PATH, self.verify, methods=["GET"])
        router.add_api_route(PATH, self.receive, methods=["POST"])
        return router

    async def verify(
        self,
        mode: str = Query("", alias="hub.mode"),
        token: str = Query("", alias="hub.verify_token"),
        challenge: str = Query("", alias="hub.challenge"),
    ) -> Response:
        """Meta's subscription handshake: echo the challenge only to whoever knows the verify token."""
        if mode == "subscribe" and hmac.compare_digest(token.encode(), self.verify_token):
            return PlainTextResponse(challenge[:200])
        log.warning("WhatsApp webhook verification refused")
        return Response(status_code=403)

    async def receive(self, request: Request) -> Response:
        """Check the raw body's signature, record everything, answer; processing follows in the background."""
        raw = await request.body()
        if not signed(raw, request.headers.get("x-hub-signature-256"), self.secret):
            log.warning("WhatsApp webhook with a missing or wrong signature refused")
            return Response(status_code=401)
        try:
            batch = parse(json.loads(raw), self.phone_number_id)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            log.warning("WhatsApp webhook body refused: %s", type(exc).__name__)  # never its content
            return Response(status_code=400)
        recorded: list[tuple[int, Incoming]] = []
        wamids: list[str] = []
        try:  # off the event loop: a locked database must not stop the other requests
            await asyncio.to_thread(self._record, batch, recorded, wamids)
        except OperationalError as exc:
            log.warning("WhatsApp delivery not recorded, database busy: %s", type(exc.orig).__name__)
            return Response(
                status_code=503, headers={"Retry-After": str(BUSY_RETRY_AFTER)}
            )  # Meta delivers again
        finally:  # what was saved is processed even when a later message could not be (Meta sends it again)
            if recorded:
                self.worker.spawn(self._handle(recorded, wamids))
        return Response(status_code=200)

    def _record(self, batch: Batch, recorded: list[tuple[int, Incoming]], wamids: list[str]) -> None:
        """Save the batch's statuses and new messages; each saved message is added to `recorded`, `wamids`."""
        self._statuses(batch)
        for item in batch.received:
            message = self._pressed(item.message)
            inbound_id = self.app.service.record(message)
            if inbound_id is not None:
                recorded.append((inbound_id, message))
                wamids.append(item.wamid)

    def _statuses(self, batch: Batch) -> None:
        for error in batch.errors:
            log.error("operator: WhatsApp reports an error for our number: %s", error)
        for status in batch.statuses:
            user_id = self.store.identity(status.recipient)[0]
            changed = self.store.record_status(
                status.wamid, status.status, user_id, status.error_code, status.error_title
            )
            if changed and status.status == "failed":
                log.error(
                    "operator: WhatsApp could not deliver a message to user %s: %s",
                    user_id,
                    status.error_title,
                )

    def _pressed(self, message: Incoming) -> Incoming:
        """A typed number answers the numbered menu last shown on this chat, as if its button were pressed."""
        match = _NUMBER.fullmatch(message.text) if message.kind == "text" else None
        data = self.store.menu_choice(message.chat_id, int(match.group(1))) if match else None
        return replace(message, kind="button", text=data) if data else message

    async def _handle(self, recorded: list[tuple[int, Incoming]], wamids: list[str]) -> None:
        """Mark the messages read; process each chat's messages in order, chats side by side; send replies."""
        chats: defaultdict[str, list[tuple[int, Incoming]]] = defaultdict(list)
        for inbound_id, message in recorded:
            chats[message.chat_id].append((inbound_id, message))
        await asyncio.gather(self._mark_read(wamids), *(self._process(ids) for ids in chats.values()))

    async def _mark_read(self, wamids: list[str]) -> None:
        for wamid in wamids:
            try:
                await self.client.mark_read(wamid)
            except GraphError as exc:
                log.info("could not mark a WhatsApp message read: %s", exc)

    async def _process(self, messages: list[tuple[int, Incoming]]) -> None:
        for inbound_id, message in messages:
            await self.app.service.process(inbound_id, message)
            await self.flush()

    async def flush(self) -> int:
        """Send pending WhatsApp replies (the outbox sends them on the worker); how many went."""
        return await self.app.outbox.flush(CHANNEL)

    async def drain(self) -> None:
        """Wait until the deliveries received so far are processed and answered."""
        await self.worker.drain()

"""Sending on WhatsApp: inside the 24-hour window as we like, outside it only as approved templates."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.settings import WhatsAppTemplate
from bot.whatsapp.errors import Action, GraphError
from bot.whatsapp.graph import GraphClient
from bot.whatsapp.limits import CAPTION_CHARS, MEDIA_BYTES, units
from bot.whatsapp.media import upload_type
from bot.whatsapp.render import Labels, media_payload, render, template_payload
from bot.whatsapp.store import Store
from lessons.i18n import Catalog
from lessons.languages import Lang
from lessons.messages import FAREWELL, MediaKind, Outgoing, Undeliverable
from progress.models import utcnow

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24) - timedelta(minutes=5)
"""The customer-service window after a user's last message, less a margin for our own processing time."""
TEMPLATE_KINDS = frozenset({"reminder", "review", "digest", "notice"})
"""Messages we start ourselves; only these may go as templates when the window is closed."""


def in_window(last_inbound: datetime | None, now: datetime) -> bool:
    """Whether free-form messages may still be sent to someone who last wrote at `last_inbound`."""
    return last_inbound is not None and now - last_inbound < WINDOW


class WhatsAppSender:
    """Turns an `Outgoing` into Cloud API calls: media, text and choices, a voice note; or one template."""

    def __init__(
        self,
        client: GraphClient,
        store: Store,
        catalog: Catalog,
        templates: Mapping[str, WhatsAppTemplate],
    ) -> None:
        self.client = client
        self.store = store
        self.catalog = catalog
        self.templates = dict(templates)

    async def send(self, message: Outgoing) -> None:
        """Send one message; raise `Undeliverable` when it can never go, another error when it may later."""
        user_id, last_inbound = self.store.identity(message.chat_id)
        if FAREWELL in message.meta or in_window(last_inbound, utcnow()):  # a farewell answers them now
            try:
                await self._free_form(message, user_id)
            except GraphError as exc:
                if exc.action is not Action.TEMPLATE:
                    raise self._give_up(exc, user_id) from exc
                log.info("WhatsApp saw the window closed for user %s before we did", user_id)
            else:
                return
        try:
            await self._template(message, user_id)
        except GraphError as exc:
            raise self._give_up(exc, user_id) from exc

    def _give_up(self, exc: GraphError, user_id: int | None) -> Exception:
        """The error the outbox should see, after telling the operator what needs them."""
        if exc.action in {Action.FIX_MESSAGE, Action.FIX_ACCOUNT}:
            log.error("operator: WhatsApp refused a message to user %s: %s", user_id, exc)
        if exc.action in {Action.RETRY, Action.FIX_ACCOUNT}:
            return exc  # kept pending: a later flush tries again
        log.warning("WhatsApp message to user %s dropped: %s", user_id, exc)
        return Undeliverable(str(exc))

    async def _template(self, message: Outgoing, user_id: int | None) -> None:
        kind = message.meta.get("kind", "")
        template = self.templates.get(kind) if kind in TEMPLATE_KINDS else None
        if template is None:
            log.error(
                "operator: a %s message to user %s falls outside the 24-hour window and has no template "
                "(set MAALEM_WHATSAPP_TEMPLATES); it is not sent",
                kind or "reply",
                user_id,
            )
            raise Undeliverable(f"outside the 24-hour window, no template for {kind or 'a reply'}")
        language = template.languages.get(message.lang, template.language)
        await self._deliver(template_payload(message.chat_id, template.name, language, message.text), user_id)

    async def _free_form(self, message: Outgoing, user_id: int | None) -> None:
        to = message.chat_id
        captioned = False
        if (path := message.media_path()) is not None:
            caption = message.text if not message.choices and units(message.text) <= CAPTION_CHARS else ""
            sent = await self._media(to, path, message.media_kind, caption, user_id)
            captioned = sent and bool(caption)
        if not captioned:
            lang = Lang(message.lang)
            labels = Labels(
                self.catalog.t(lang, "choices.open_list"), self.catalog.t(lang, "choices.reply_number")
            )
            rendered = render(to, message.text, message.choices, labels, rtl=message.rtl)
            for payload in rendered.payloads:
                await self._deliver(payload, user_id)
            if rendered.layout != "none" and user_id is not None:
                menu = tuple(c.data for c in message.choices) if rendered.layout == "numbered" else ()
                self.store.set_menu(user_id, menu)
        if message.voice:
            await self._media(to, Path(message.voice), "voice", "", user_id)

    async def _media(
        self, to: str, path: Path, kind: MediaKind | None, caption: str, user_id: int | None
    ) -> bool:
        """Send a file by its (cached) media id; False when it is over WhatsApp's limit and was left out."""
        wa_type, mime = upload_type(kind, path)
        key, size = await asyncio.to_thread(_fingerprint, path, mime)
        if size > MEDIA_BYTES[wa_type]:
            log.error(
                "operator: %s is %d bytes, over WhatsApp's %s limit; sent without it", path, size, wa_type
            )
            return False
        media_id = self.store.media_id(key)
        if media_id is None:  # uploaded once, then reused until WhatsApp forgets it
            media_id = await self.client.upload(path, mime)
            self.store.remember_media(key, media_id)
        await self._deliver(media_payload(to, wa_type, media_id, caption, path.name), user_id)
        return True

    async def _deliver(self, payload: dict[str, Any], user_id: int | None) -> None:
        wamid = await self.client.send(payload)
        if wamid:
            self.store.record_status(wamid, "accepted", user_id)


def _fingerprint(path: Path, mime: str) -> tuple[str, int]:
    """A key that changes when the file does, and the file's size."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{mime}"
    return hashlib.sha256(key.encode()).hexdigest(), stat.st_size

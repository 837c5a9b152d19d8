"""Telegram updates as our `Incoming` messages, each with a delivery id that recognises a second delivery."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from telegram import Chat, Message, TelegramObject, Update

from lessons.messages import Incoming, IncomingMedia, MediaKind

CHANNEL = "telegram"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
BUTTON_PREFIX = "cb:"
UNSUPPORTED = ("sticker", "animation", "venue", "location", "poll", "contact", "dice", "game", "story")
"""Message contents we cannot use, in the order they are checked (a venue also carries a location)."""


def to_incoming(update: Update, key: bytes) -> Incoming | None:
    """The update as our message, or None when it is nothing for us (a group, a service message…).

    Delivery ids (`Incoming.message_id`) hold no user id, only a keyed digest of chat and message:
    - a message or an edit: `<update_id>:<digest>`; the update id is where polling resumes, the digest keeps
      two updates apart even after Telegram restarts its update ids at random (after a week of silence);
    - a button: `cb:<digest of the message carrying the keyboard>`, so a keyboard answers once, however often
      it is tapped.
    """
    if (query := update.callback_query) is not None:
        message = query.message
        if message is None or query.data is None or message.chat.type != Chat.PRIVATE:
            return None
        return Incoming(
            CHANNEL,
            str(message.chat.id),
            BUTTON_PREFIX + _digest(key, message.chat.id, message.message_id),
            "button",
            query.data,
            name=query.from_user.full_name,
            locale=query.from_user.language_code,
        )
    message = update.message or update.edited_message
    if message is None or message.chat.type != Chat.PRIVATE:
        return None
    delivery = f"{update.update_id}:{_digest(key, message.chat.id, message.message_id)}"
    sender = message.from_user
    base = Incoming(
        CHANNEL,
        str(message.chat.id),
        delivery,
        "text",
        name=sender.full_name if sender else "",
        locale=sender.language_code if sender else None,
    )
    if update.edited_message is not None:
        return replace(base, kind="unsupported", unsupported="edited")
    if message.text is not None:
        return replace(base, text=message.text)
    if media := _media(message):
        return replace(base, kind="media", text=message.caption or "", media=media)
    if what := next((name for name in UNSUPPORTED if getattr(message, name, None)), None):
        return replace(base, kind="unsupported", unsupported=what)
    return None


def update_id_of(delivery: str) -> int | None:
    """The update id a delivery id starts with; None for buttons (their id names the keyboard instead)."""
    head = delivery.partition(":")[0]
    return None if delivery.startswith(BUTTON_PREFIX) or not head.isdigit() else int(head)


def _digest(key: bytes, chat_id: int, message_id: int) -> str:
    return hmac.new(key, f"{chat_id}:{message_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _media(message: Message) -> IncomingMedia | None:
    found: tuple[MediaKind, TelegramObject] | None = None
    if message.voice:
        found = ("voice", message.voice)
    elif message.audio:
        found = ("audio", message.audio)
    elif message.video_note:
        found = ("video_note", message.video_note)
    elif message.video:
        found = ("video", message.video)
    elif message.animation is None and message.document:
        found = ("document", message.document)
    elif message.photo:
        found = ("photo", message.photo[-1])
    if found is None:
        return None
    kind, attachment = found
    raw = attachment.to_dict()  # plain JSON values: seconds, not timedelta
    return IncomingMedia(
        kind,
        raw["file_id"],
        size=raw.get("file_size"),
        mime=raw.get("mime_type"),
        duration=raw.get("duration"),
    )

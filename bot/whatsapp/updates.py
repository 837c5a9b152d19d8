"""Cloud API webhook payloads into our `Incoming` messages and delivery statuses."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from bot.whatsapp import CHANNEL
from bot.whatsapp.store import STATUS_RANK, message_key
from lessons.messages import Incoming, IncomingMedia, MediaKind

log = logging.getLogger(__name__)
MEDIA_KINDS: dict[str, MediaKind] = {"video": "video", "image": "photo", "document": "document"}
IGNORED = frozenset({"system", "request_welcome"})
"""Not written by the user (a changed number, an opened chat): nothing to answer."""


@dataclass(frozen=True)
class Received:
    """A user's message, with the wamid it came with (needed to mark it read)."""

    wamid: str
    message: Incoming


@dataclass(frozen=True)
class Status:
    """A delivery status callback for a message we sent."""

    wamid: str
    status: str
    recipient: str
    error_code: int | None = None
    error_title: str | None = None


@dataclass
class Batch:
    """Everything one webhook delivery carried for our number."""

    received: list[Received] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Errors Meta reports about our number or app (shown to the operator)."""


def parse(payload: Any, phone_number_id: str) -> Batch:
    """Take what concerns `phone_number_id` from a webhook body; unknown parts are skipped, never fatal."""
    batch = Batch()
    for entry in _list(payload, "entry"):
        for change in _list(entry, "changes"):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            number = _dict(value.get("metadata")).get("phone_number_id")
            if number != phone_number_id:
                log.warning("webhook for another phone number id ignored")
                continue
            names = {
                str(c.get("wa_id")): str(_dict(c.get("profile")).get("name", ""))
                for c in _list(value, "contacts")
            }
            for raw in _list(value, "messages"):
                if (received := _message(raw, names)) is not None:
                    batch.received.append(received)
            for raw in _list(value, "statuses"):
                if (status := _status(raw)) is not None:
                    batch.statuses.append(status)
            batch.errors += [_error_text(e) for e in _list(value, "errors")]
    return batch


def _message(raw: dict[str, Any], names: dict[str, str]) -> Received | None:
    wamid, sender, kind = str(raw.get("id", "")), str(raw.get("from", "")), str(raw.get("type", ""))
    if not wamid or not sender or kind in IGNORED:
        return None
    base = Incoming(
        CHANNEL, sender, message_key(wamid), "unsupported", unsupported=kind, name=names.get(sender, "")
    )
    body = _dict(raw.get(kind))
    if kind == "text":
        message = _with(base, kind="text", text=str(body.get("body", "")))
    elif kind == "interactive" and body.get("type") in {"button_reply", "list_reply"}:
        message = _with(base, kind="button", text=str(_dict(body.get(body["type"])).get("id", "")))
    elif kind == "button":  # a quick-reply button of a template
        message = _with(base, kind="button", text=str(body.get("payload", "")))
    elif kind == "audio" or kind in MEDIA_KINDS:
        media_kind: MediaKind = (
            ("voice" if body.get("voice") else "audio") if kind == "audio" else MEDIA_KINDS[kind]
        )
        mime = str(body.get("mime_type", "")) or None
        media = IncomingMedia(media_kind, str(body.get("id", "")), mime=mime)
        message = _with(base, kind="media", text=str(body.get("caption", "")), media=media)
    else:
        message = base  # location, sticker, reaction, contacts, order, unsupported…
    return Received(wamid, message)


def _with(base: Incoming, **changes: Any) -> Incoming:
    return replace(base, unsupported="", **changes)


def _status(raw: Any) -> Status | None:
    raw = _dict(raw)
    status = str(raw.get("status", ""))
    if not raw.get("id") or status not in STATUS_RANK:
        return None
    errors = _list(raw, "errors")
    first = _dict(errors[0]) if errors else {}
    code = first.get("code")
    return Status(
        str(raw["id"]),
        status,
        str(raw.get("recipient_id", "")),
        code if isinstance(code, int) else None,
        _error_text(first) if first else None,
    )


def _error_text(error: Any) -> str:
    error = _dict(error)
    details = _dict(error.get("error_data")).get("details", "")
    title = str(error.get("title") or error.get("message") or "error")
    return f"{error.get('code', '?')} {title}" + (f": {details}" if details else "")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any, key: str) -> list[Any]:
    found = _dict(value).get(key)
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

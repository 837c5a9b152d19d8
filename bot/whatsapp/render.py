"""Our messages as Cloud API payloads: reply buttons, a list or numbered text, chosen from the choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.whatsapp.limits import (
    BODY_CHARS,
    BUTTON_ID_CHARS,
    BUTTON_TITLE_CHARS,
    BUTTONS,
    CAPTION_CHARS,
    LIST_BUTTON_CHARS,
    ROW_DESCRIPTION_CHARS,
    ROW_ID_CHARS,
    ROW_TITLE_CHARS,
    ROWS,
    flatten,
    shorten,
    split_text,
    units,
)
from lessons.i18n import RLM
from lessons.messages import Choice

Payload = dict[str, Any]
Layout = Literal["none", "buttons", "list", "numbered"]
_EMPTY_BODY = "…"


@dataclass(frozen=True)
class Labels:
    """The channel's own words, in the message's language."""

    open_list: str
    """The button that opens a list message."""
    reply_number: str
    """The line under a numbered menu."""


@dataclass(frozen=True)
class Rendered:
    """The payloads for a message's text and choices, and how the choices were shown."""

    payloads: list[Payload]
    layout: Layout


def layout(choices: Sequence[Choice]) -> Layout:
    """Reply buttons for up to three, a list up to ten, numbered text beyond (or when ids or titles clash)."""
    if not choices:
        return "none"
    data = [c.data for c in choices]
    if len(set(data)) < len(data):
        return "numbered"
    titles = {shorten(c.label, BUTTON_TITLE_CHARS) for c in choices}
    if (
        len(choices) <= BUTTONS
        and len(titles) == len(choices)
        and all(units(d) <= BUTTON_ID_CHARS for d in data)
    ):
        return "buttons"
    if len(choices) <= ROWS and all(units(d) <= ROW_ID_CHARS for d in data):
        return "list"
    return "numbered"


def render(to: str, text: str, choices: Sequence[Choice], labels: Labels, *, rtl: bool = False) -> Rendered:
    """Text messages and, when there are choices, the interactive message or numbered menu that ends them."""
    shown = layout(choices)
    if shown in {"none", "numbered"}:
        if shown == "numbered":
            text = numbered(text, choices, labels.reply_number, rtl=rtl)
        return Rendered([text_payload(to, part) for part in split_text(text) if part.strip()], shown)
    head = split_text(text)
    tail = split_text(head.pop(), BODY_CHARS)
    body = tail.pop().strip() or _EMPTY_BODY
    payloads = [text_payload(to, part) for part in [*head, *tail] if part.strip()]
    action = _buttons(choices) if shown == "buttons" else _list(choices, labels.open_list)
    interactive = {
        "type": "button" if shown == "buttons" else "list",
        "body": {"text": body},
        "action": action,
    }
    payloads.append({"to": to, "type": "interactive", "interactive": interactive})
    return Rendered(payloads, shown)


def numbered(text: str, choices: Sequence[Choice], prompt: str, *, rtl: bool = False) -> str:
    """The text followed by one numbered line per choice and a line saying to answer with a number."""
    mark = RLM if rtl else ""
    lines = "\n".join(f"{mark}{n}. {' '.join(c.label.split())}" for n, c in enumerate(choices, 1))
    return f"{text}\n\n{lines}\n{prompt}" if text.strip() else f"{lines}\n{prompt}"


def _buttons(choices: Sequence[Choice]) -> Payload:
    buttons = [
        {"type": "reply", "reply": {"id": c.data, "title": shorten(c.label, BUTTON_TITLE_CHARS)}}
        for c in choices
    ]
    return {"buttons": buttons}


def _list(choices: Sequence[Choice], open_list: str) -> Payload:
    rows = []
    for choice in choices:
        row = {"id": choice.data, "title": shorten(choice.label, ROW_TITLE_CHARS)}
        if row["title"] != " ".join(choice.label.split()):
            row["description"] = shorten(choice.label, ROW_DESCRIPTION_CHARS)
        rows.append(row)
    return {"button": shorten(open_list, LIST_BUTTON_CHARS), "sections": [{"rows": rows}]}


def text_payload(to: str, body: str) -> Payload:
    """A plain text message (links are not previewed: lessons never need it)."""
    return {"to": to, "type": "text", "text": {"body": body, "preview_url": False}}


def media_payload(to: str, kind: str, media_id: str, caption: str = "", filename: str = "") -> Payload:
    """An image, video, audio or document message by uploaded media id; audio takes no caption."""
    media: dict[str, str] = {"id": media_id}
    if caption and kind != "audio":
        media["caption"] = caption[:CAPTION_CHARS]
    if filename and kind == "document":
        media["filename"] = filename
    return {"to": to, "type": kind, kind: media}


def template_payload(to: str, name: str, language: str, text: str) -> Payload:
    """An approved template whose one body variable carries our text (on one line, as Meta requires)."""
    parameters = [{"type": "text", "text": flatten(text) or _EMPTY_BODY}]
    template = {
        "name": name,
        "language": {"code": language},
        "components": [{"type": "body", "parameters": parameters}],
    }
    return {"to": to, "type": "template", "template": template}

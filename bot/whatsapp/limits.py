"""WhatsApp's limits, and fitting texts and labels into them without breaking words or right-to-left runs."""

from __future__ import annotations

import unicodedata

from lessons.i18n import FSI, PDI, RLM
from lessons.messages import MediaKind

TEXT_CHARS = 4096
CAPTION_CHARS = 1024
BODY_CHARS = 1024
"""Body of an interactive (buttons or list) message."""
BUTTONS = 3
BUTTON_TITLE_CHARS = 20
BUTTON_ID_CHARS = 256
ROWS = 10
ROW_TITLE_CHARS = 24
ROW_DESCRIPTION_CHARS = 72
ROW_ID_CHARS = 200
LIST_BUTTON_CHARS = 20
TEMPLATE_PARAM_CHARS = 1000

MB = 1024 * 1024
MEDIA_BYTES: dict[str, int] = {
    "audio": 16 * MB,
    "video": 16 * MB,
    "image": 5 * MB,
    "document": 100 * MB,
    "sticker": MB // 2,
}
"""Upload and download limits by WhatsApp media type."""
MEDIA_TYPES: dict[str, frozenset[str]] = {
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
    "image": frozenset({"image/jpeg", "image/png"}),
    "document": frozenset(
        {
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
}
"""The MIME types WhatsApp takes for each media type."""
WHATSAPP_TYPE: dict[MediaKind, str] = {
    "voice": "audio",
    "audio": "audio",
    "video_note": "video",
    "video": "video",
    "photo": "image",
    "document": "document",
}
"""Our media kinds as WhatsApp media types."""

_ELLIPSIS = "…"


def units(text: str) -> int:
    """Length as WhatsApp counts it (UTF-16 code units: an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int) -> int:
    """How many leading characters of `text` fit in `limit` units, not splitting a letter from its marks."""
    total = end = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            break
        end = index + 1
    while 1 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1
    return end


def shorten(label: str, limit: int) -> str:
    """`label` in at most `limit` units, cut at a word with an ellipsis (mid-word for a very long word)."""
    label = " ".join(label.split())
    if units(label) <= limit:
        return label
    head = label[: _fits(label, limit - 1)]
    cut = head.rfind(" ")
    if cut >= limit // 2:
        head = head[:cut]
    return head.rstrip(" ,;:.-–") + _ELLIPSIS


def split_text(text: str, limit: int = TEXT_CHARS) -> list[str]:
    """Split `text` into messages of at most `limit` units, at line ends, else between words.

    A right-to-left line cut in two keeps its mark on both parts, and an isolated insert (FSI…PDI) cut in two
    is closed and reopened, so neither part changes direction.
    """
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if units(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        pieces = _split_line(line, limit)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    if current or not parts:
        parts.append(current)
    return [part for part in parts if part.strip()] or [text[: _fits(text, limit)]]


def _split_line(line: str, limit: int) -> list[str]:
    """One long line into pieces between words, each carrying the line's direction mark."""
    mark = RLM if line.startswith(RLM) else ""
    pieces: list[str] = []
    rest = line
    while units(rest) > limit:
        room = limit - 1  # for a closing PDI, if the cut falls inside an isolate
        end = _fits(rest, room)
        space = rest.rfind(" ", 0, end + 1)
        if space > len(mark):
            end = space
        piece, rest = rest[:end].rstrip(), rest[end:].lstrip()
        opened = piece.count(FSI) - piece.count(PDI)
        if opened > 0:
            piece, rest = piece + PDI, FSI + rest
        pieces.append(piece)
        rest = mark + rest if mark and not rest.startswith(RLM) else rest
    pieces.append(rest)
    return pieces


def flatten(text: str, limit: int = TEMPLATE_PARAM_CHARS) -> str:
    """Text for a template variable: no line breaks, tabs or runs of spaces, at most `limit` units."""
    return shorten(" ".join(text.replace(RLM, "").split()), limit)

"""Cutting texts to Telegram's limits: between lines first, then between words, right-to-left kept RTL."""

from __future__ import annotations

from lessons.i18n import RLM

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> tuple[str, str]:
    """The longest clean head of `text` within `limit`, and the rest.

    The cut falls at a line break when one fits, else at the last space of the first line (a right-to-left
    line cut this way starts its rest with a right-to-left mark again), and only inside a word longer than
    `limit`.
    """
    text = text.lstrip("\n")
    if units(text) <= limit:
        return text, ""
    end = _fitting(text, limit)
    if (line_break := text.rfind("\n", 0, end + 1)) > 0:
        return text[:line_break].rstrip("\n"), text[line_break + 1 :]
    space = next((i for i in range(end, 0, -1) if text[i].isspace()), 0)
    head, rest = (text[:space], text[space:].lstrip(" \t")) if space else (text[:end], text[end:])
    if text.startswith(RLM) and not rest.startswith(RLM):
        rest = RLM + rest
    return head.rstrip(), rest


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` units each, none blank."""
    pieces: list[str] = []
    rest = text
    while rest.strip():
        head, rest = cut(rest, limit)
        if head.strip():
            pieces.append(head)
    return pieces


def _fitting(text: str, limit: int) -> int:
    """The number of characters of `text` whose length stays within `limit` units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return index
    return len(text)

"""Cutting texts to Telegram's limits, and reading Telegram updates as our messages."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.telegram.adapter import to_incoming, update_id_of
from bot.telegram.text import cut, split_text, units
from lessons.i18n import RLM

KEY = b"key"


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("short", 10, ["short"]),
        ("one two three four", 9, ["one two", "three", "four"]),
        ("line one\nline two\nline three", 18, ["line one\nline two", "line three"]),
        ("\n\nblank lines\n\n\nare not sent\n\n", 12, ["blank lines", "are not sent"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),  # a word longer than the limit: the only cut inside one
        (f"{RLM}واحد جوج ثلاثة ربعة", 10, [f"{RLM}واحد جوج", f"{RLM}ثلاثة", f"{RLM}ربعة"]),
        ("😀😀😀 x", 5, ["😀😀", "😀 x"]),  # emoji count twice, as Telegram counts UTF-16 units
    ],
)
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces
    assert all(units(p) <= limit for p in pieces)


def test_cut_prefers_a_line_break_and_keeps_the_rest_exact() -> None:
    text = f"{RLM}سطر أول\n{RLM}سطر ثاني طويل شوية"
    head, rest = cut(text, 15)
    assert (head, rest) == (f"{RLM}سطر أول", f"{RLM}سطر ثاني طويل شوية")
    assert cut("fits", 1024) == ("fits", "")


def test_split_text_survives_any_text() -> None:
    text = ("word " * 3000) + "\n" + (RLM + "كلمة " * 2000) + "x" * 5000
    pieces = split_text(text, 4096)
    assert all(0 < units(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace(RLM, "").replace(" ", "").replace("\n", "") == text.replace(
        RLM, ""
    ).replace(" ", "").replace("\n", "")


def _update(**content: Any) -> Update:
    chat = {"id": 42, "type": content.pop("chat_type", "private"), "first_name": "Amina"}
    user = {"id": 42, "is_bot": False, "first_name": "Amina", "last_name": "B", "language_code": "fr"}
    kind = content.pop("kind", "message")
    message = {"message_id": 7, "date": 0, "chat": chat, "from": user, **content}
    return Update.de_json({"update_id": 900, kind: message}, None)  # type: ignore[arg-type]


def _file(**extra: Any) -> dict[str, Any]:
    return {"file_id": "F", "file_unique_id": "U", "file_size": 1234, **extra}


@pytest.mark.parametrize(
    ("content", "kind", "media"),
    [
        ({"voice": _file(duration=3, mime_type="audio/ogg")}, "voice", ("F", 1234, "audio/ogg", 3)),
        ({"audio": _file(duration=9)}, "audio", ("F", 1234, None, 9)),
        ({"video_note": _file(length=240, duration=5)}, "video_note", ("F", 1234, None, 5)),
        ({"document": _file(mime_type="audio/mpeg")}, "document", ("F", 1234, "audio/mpeg", None)),
        ({"photo": [_file(width=90, height=90), _file(file_id="BIG", width=900, height=900)]}, "photo",
         ("BIG", 1234, None, None)),
    ],
)  # fmt: skip
def test_media_become_incoming_media(content: dict[str, Any], kind: str, media: tuple[object, ...]) -> None:
    incoming = to_incoming(_update(caption="cap", **content), KEY)
    assert incoming is not None and incoming.kind == "media" and incoming.text == "cap"
    assert incoming.media is not None and incoming.media.kind == kind
    assert (incoming.media.ref, incoming.media.size, incoming.media.mime, incoming.media.duration) == media
    assert (incoming.name, incoming.locale, incoming.chat_id) == ("Amina B", "fr", "42")


def test_delivery_ids_hold_no_user_id_and_name_the_update() -> None:
    incoming = to_incoming(_update(text="salam"), KEY)
    assert incoming is not None and incoming.kind == "text"
    assert incoming.message_id.startswith("900:") and "42" not in incoming.message_id.partition(":")[2]
    assert update_id_of(incoming.message_id) == 900
    edited = to_incoming(_update(kind="edited_message", text="salam!", edit_date=1), KEY)
    assert edited is not None and (edited.kind, edited.unsupported, edited.text) == (
        "unsupported",
        "edited",
        "",
    )
    assert to_incoming(_update(text="x"), b"other key") != incoming


def test_taps_on_one_keyboard_share_a_delivery_id() -> None:
    def tap(query_id: str, data: str) -> Update:
        message = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "?"}
        query = {"id": query_id, "from": {"id": 42, "is_bot": False, "first_name": "A"}, "chat_instance": "c",
                 "data": data, "message": message}  # fmt: skip
        return Update.de_json({"update_id": int(query_id), "callback_query": query}, None)  # type: ignore[arg-type]

    first, second, other = (
        to_incoming(tap(q, d), KEY) for q, d in (("1", "next"), ("2", "next"), ("3", "ask"))
    )
    assert first is not None and second is not None and other is not None
    assert first.message_id == second.message_id == other.message_id  # one keyboard answers once
    assert (first.kind, first.text) == ("button", "next") and update_id_of(first.message_id) is None


def test_what_is_not_for_us() -> None:
    assert to_incoming(_update(text="hi", chat_type="group"), KEY) is None
    assert to_incoming(_update(new_chat_title="x"), KEY) is None
    venue = {"location": {"latitude": 1, "longitude": 2}, "title": "Souk", "address": "Fès"}
    assert to_incoming(_update(venue=venue, location=venue["location"]), KEY).unsupported == "venue"  # type: ignore[union-attr]
    animation = _file(width=1, height=1, duration=1)
    incoming = to_incoming(_update(animation=animation, document=_file()), KEY)
    assert incoming is not None and incoming.unsupported == "animation"

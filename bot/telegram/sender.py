"""Our `Outgoing` messages as Bot API calls: plain text (no parse mode), inline keyboards, media sent once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram.store import Store
from bot.telegram.text import CAPTION_LIMIT, cut, split_text
from lessons.messages import Choice, MediaKind, Outgoing, Undeliverable

log = logging.getLogger(__name__)
UPLOAD_LIMIT = 50 * 1024 * 1024
"""Bots may upload files up to 50 MB."""
CALLBACK_DATA_LIMIT = 64
"""Bytes of `callback_data` Telegram keeps."""
Markup = InlineKeyboardMarkup | None


def keyboard(choices: Sequence[Choice]) -> Markup:
    """One inline button per choice: three to a row when the labels are short, two when medium, else one."""
    buttons = []
    for choice in choices:
        if len(choice.data.encode()) > CALLBACK_DATA_LIMIT:
            log.error("button data over %d bytes left out: %.20s…", CALLBACK_DATA_LIMIT, choice.data)
            continue
        buttons.append(InlineKeyboardButton(choice.label, callback_data=choice.data))
    if not buttons:
        return None
    longest = max(len(c.label) for c in choices)
    width = 3 if longest <= 10 else 2 if longest <= 20 else 1
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


class TelegramSender:
    """Sends one `Outgoing` as a few Bot API calls; the keyboard rides on the last of them."""

    def __init__(self, bot: Bot, store: Store, reusable: Path) -> None:
        self.bot = bot
        self.store = store
        self.reusable = reusable.resolve()
        """Files under this folder (the course packs) are uploaded once, then sent by Telegram's file id."""
        self.failures = 0
        """Sends that raised so far: the delivery loop retries later when this grows."""
        self._file_ids: dict[str, str] = {}
        """File ids known to this process, in front of the table (a lesson's video goes to every learner)."""

    async def send(self, message: Outgoing) -> None:
        """Send the media (captioned), the rest of the text, then the voice note; raise when a call fails."""
        try:
            await self._send(message)
        except Forbidden as exc:  # blocked by the learner, or the account is gone
            raise Undeliverable(f"Forbidden: {exc.message}") from None
        except (TelegramError, OSError):
            self.failures += 1
            raise

    async def _send(self, message: Outgoing) -> None:
        chat, markup, text = int(message.chat_id), keyboard(message.choices), message.text
        media = message.media_path()
        if media is not None and message.media_kind is not None:
            caption, text = cut(text, CAPTION_LIMIT)
            last = not text.strip() and not message.voice
            if await self._file(chat, message.media_kind, media, caption, markup if last else None):
                markup = None if last else markup
            else:
                text = f"{caption}\n{text}" if text.strip() else caption
        chunks = split_text(text)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1 and not message.voice
            await self.bot.send_message(chat, chunk, reply_markup=markup if last else None)
        if message.voice:
            await self._file(chat, "voice", Path(message.voice), None, markup)

    async def _file(
        self, chat: int, kind: MediaKind, path: Path, caption: str | None, markup: Markup
    ) -> bool:
        """Send a file by its cached id, else upload it; False (and nothing sent) when it is too big."""
        key = self._key(path)
        if key is not None and (file_id := self._cached(key)) is not None:
            try:
                await self._call(chat, kind, file_id, caption, markup)
                return True
            except BadRequest:
                log.warning("cached Telegram file id for %s refused; uploading again", path.name)
                self._forget(key)
        size = (await asyncio.to_thread(path.stat)).st_size
        if size > UPLOAD_LIMIT:
            log.error("%s is %d bytes, over Telegram's upload limit: sent as text only", path.name, size)
            return False
        data = await asyncio.to_thread(path.read_bytes)
        sent = await self._call(chat, kind, InputFile(data, filename=path.name), caption, markup)
        if key is not None and (new_id := _file_id(sent)):
            self._remember(key, new_id)
        return True

    async def _call(
        self, chat: int, kind: MediaKind, file: InputFile | str, caption: str | None, markup: Markup
    ) -> Message:
        if kind == "photo":
            return await self.bot.send_photo(chat, file, caption=caption, reply_markup=markup)
        if kind == "document":
            return await self.bot.send_document(chat, file, caption=caption, reply_markup=markup)
        if kind == "voice":
            return await self.bot.send_voice(chat, file, caption=caption, reply_markup=markup)
        if kind == "audio":
            return await self.bot.send_audio(chat, file, caption=caption, reply_markup=markup)
        return await self.bot.send_video(
            chat, file, caption=caption, reply_markup=markup, supports_streaming=True
        )

    def _key(self, path: Path) -> str | None:
        """The cache key of a course file (changes when the file does); None for files never reused."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.reusable):
            return None
        stat = resolved.stat()
        return f"{resolved.relative_to(self.reusable)}:{stat.st_size}:{stat.st_mtime_ns}"[-300:]

    def _cached(self, key: str) -> str | None:
        if key not in self._file_ids:
            file_id = self.store.file_id(key)
            if file_id is None:
                return None
            self._file_ids[key] = file_id
        return self._file_ids[key]

    def _remember(self, key: str, file_id: str) -> None:
        self._file_ids[key] = file_id
        self.store.remember_file(key, file_id)

    def _forget(self, key: str) -> None:
        self._file_ids.pop(key, None)
        self.store.forget_file(key)


def _file_id(message: Message) -> str | None:
    """Telegram's id for the file a message carries (the largest size of a photo)."""
    attachment: object = message.effective_attachment
    if isinstance(attachment, Sequence):
        attachment = attachment[-1] if attachment else None
    file_id = getattr(attachment, "file_id", None)
    return file_id if isinstance(file_id, str) else None

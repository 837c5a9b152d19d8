"""Downloading a learner's file from Telegram: sizes checked before downloading, the file URL never logged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.logs import redact
from lessons.messages import IncomingMedia, MediaTooLarge


class DownloadFailed(Exception):
    """Telegram did not give us the file; the message says why without the file URL (it holds the token)."""


class TelegramFetcher:
    """getFile, then the download, refusing anything over `max_bytes` (Telegram's bot limit is 20 MB)."""

    def __init__(self, bot: Bot, max_bytes: int) -> None:
        self.bot = bot
        self.max_bytes = max_bytes

    async def fetch(self, media: IncomingMedia, dest: Path) -> None:
        """Save the file at `dest`; `MediaTooLarge` when the update, getFile or Telegram call it too big."""
        self._check(media.size)
        try:
            file = await self.bot.get_file(media.ref)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise MediaTooLarge("over the bot download limit") from None
            raise DownloadFailed(redact(exc.message)) from None
        except TelegramError as exc:
            raise DownloadFailed(f"getFile: {type(exc).__name__}: {redact(exc.message)}") from None
        self._check(file.file_size)
        try:
            await file.download_to_drive(dest)
        except TelegramError as exc:
            await asyncio.to_thread(dest.unlink, missing_ok=True)
            raise DownloadFailed(f"download: {type(exc).__name__}: {redact(exc.message)}") from None

    def _check(self, size: int | None) -> None:
        if size is not None and size > self.max_bytes:
            raise MediaTooLarge(f"{size} bytes")

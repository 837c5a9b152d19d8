"""Media both ways: downloading what users send (within WhatsApp's limits) and choosing how to upload ours."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from bot.whatsapp.graph import GraphClient
from bot.whatsapp.limits import MEDIA_BYTES, MEDIA_TYPES, WHATSAPP_TYPE
from lessons.messages import IncomingMedia, MediaKind, MediaTooLarge

VOICE_KINDS = frozenset({"voice", "audio", "video_note"})


class WhatsAppFetcher:
    """Downloads a user's file: id → `GET /{media-id}` → the short-lived URL, with the bearer token."""

    def __init__(self, client: GraphClient, max_audio_bytes: int) -> None:
        self.client = client
        self.max_audio_bytes = max_audio_bytes

    def limit(self, kind: MediaKind) -> int:
        """The most bytes we take for this kind: WhatsApp's own limit, and ours for audio."""
        limit = MEDIA_BYTES[WHATSAPP_TYPE[kind]]
        return min(limit, self.max_audio_bytes) if kind in VOICE_KINDS else limit

    async def fetch(self, media: IncomingMedia, dest: Path) -> None:
        """Save the file at `dest`; `MediaTooLarge` before any download when the declared size is over."""
        info = await self.client.media_info(media.ref)
        limit = self.limit(media.kind)
        if info.file_size is not None and info.file_size > limit:
            raise MediaTooLarge(f"{info.file_size} bytes, limit {limit}")
        await self.client.download(info, dest, limit)


def upload_type(kind: MediaKind | None, path: Path) -> tuple[str, str]:
    """The WhatsApp message type and MIME type for a file; what WhatsApp cannot play goes as a document."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    wa_type = WHATSAPP_TYPE[kind] if kind else _type_of(mime)
    if wa_type in MEDIA_TYPES and mime not in MEDIA_TYPES[wa_type]:
        wa_type = "document"
    if wa_type == "document" and mime not in MEDIA_TYPES["document"]:
        mime = (
            "text/plain"  # our documents are data exports (JSON); WhatsApp takes text, PDF and office files
        )
    return wa_type, mime


def _type_of(mime: str) -> str:
    major = mime.split("/", 1)[0]
    return {"audio": "audio", "video": "video", "image": "image"}.get(major, "document")

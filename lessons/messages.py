"""Our own message types: what every channel adapter turns platform updates into, and back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

MediaKind = Literal["voice", "audio", "video_note", "video", "photo", "document"]
IncomingKind = Literal["text", "button", "media", "unsupported"]


@dataclass(frozen=True)
class IncomingMedia:
    """A file the user sent; `ref` is what the channel's fetcher needs to download it."""

    kind: MediaKind
    ref: str
    size: int | None = None
    mime: str | None = None
    duration: float | None = None


@dataclass(frozen=True)
class Incoming:
    """One message from a user, whatever the channel."""

    channel: str
    chat_id: str
    message_id: str
    """The platform's id for this delivery (update_id, wamid…): a second delivery is recognised by it."""
    kind: IncomingKind
    text: str = ""
    """The text, a caption, or a button's data."""
    media: IncomingMedia | None = None
    unsupported: str = ""
    """What it was when we cannot use it (sticker, location, contact, poll…)."""
    name: str = ""
    locale: str | None = None
    """The platform's idea of the user's language, a hint only."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, kept in the inbound log."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incoming:
        """Rebuild from the inbound log."""
        media = data.get("media")
        return cls(**{**data, "media": IncomingMedia(**media) if media else None})


@dataclass(frozen=True)
class Choice:
    """A button: what it says and what comes back when pressed."""

    label: str
    data: str


FAREWELL = "farewell"
"""Meta key of the last message to someone just erased: it answers the message they sent (so it is inside any
reply window), and its outbox row is erased once it is delivered or given up."""


@dataclass(frozen=True)
class Outgoing:
    """One message to send: text (already translated), optional choices, media and spoken version."""

    chat_id: str
    text: str
    lang: str
    choices: tuple[Choice, ...] = ()
    media: str | None = None
    """Path of a file to show with the text."""
    media_kind: MediaKind | None = None
    voice: str | None = None
    """Path of an OGG/Opus voice note saying the text."""
    rtl: bool = False
    meta: dict[str, str] = field(default_factory=dict)
    """Channel hints, e.g. `template` for messages that may go outside a conversation window."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, kept in the outbox."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Outgoing:
        """Rebuild from the outbox."""
        data = dict(raw)
        data["choices"] = tuple(Choice(**c) for c in data.get("choices", ()))
        return cls(**data)

    def media_path(self) -> Path | None:
        """The media file as a path."""
        return Path(self.media) if self.media else None


class Sender(Protocol):
    """Delivers our messages on one channel."""

    async def send(self, message: Outgoing) -> None:
        """Send one message; raise on a failure worth retrying."""
        ...


class MediaFetcher(Protocol):
    """Downloads a user's file from one channel."""

    async def fetch(self, media: IncomingMedia, dest: Path) -> None:
        """Save the file at `dest`; raise `MediaTooLarge` or `OSError`-like errors."""
        ...


class MediaTooLarge(Exception):
    """A file is over the channel's download limit."""


class Undeliverable(Exception):
    """The platform will never take this message (blocked, outside its window, invalid): fail it, no retry."""

"""What one unit of work knows while it handles a message, and what a flow is: the types every part shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from lessons.languages import Lang
from lessons.messages import Incoming, MediaTooLarge, Outgoing
from progress.models import Answer, Enrolment, User
from progress.notify import language_of
from speech.audio import AudioError

if TYPE_CHECKING:
    from bot.conversation.service import Service

VOICE_KINDS = frozenset({"voice", "audio", "video_note"})
EXPECTED_ERRORS: tuple[type[Exception], ...] = (MediaTooLarge, AudioError)
"""Failures that retrying cannot mend (too big, bad audio): answered at once."""


@dataclass
class Pending(Exception):
    """Slow work the unit of work needs first; it is done outside the transaction, then the unit retried."""

    key: str
    run: Callable[[], Awaitable[object]]
    durable: bool = True
    """Count each try in the inbound log (downloads, transcription); pure in-process work needs no count."""


def parse_command(text: str) -> tuple[str, str] | None:
    """`/start@maalem_bot CODE` → ("start", "CODE"), `/` → ("", ""); None when the text is no command."""
    text = text.strip()
    if not text.startswith("/"):
        return None
    name, arg = [*text[1:].split(maxsplit=1), "", ""][:2]
    return name.split("@")[0].lower(), arg.strip()


@dataclass
class Context:
    """What one unit of work knows while it handles a message."""

    session: Session
    inbound_id: int
    message: Incoming
    user: User
    work: dict[str, object]
    replies: list[Outgoing] = field(default_factory=list)
    enrolments: dict[str, Enrolment | None] = field(default_factory=dict)
    """Enrolments looked up in this unit of work, by course id (they stay live ORM objects)."""
    answer: Answer | None = None
    """The answer row a voice note made in this unit of work, graded once transcribed."""
    failed: str | None = None
    """Why the message ends for a person to look at (slow work failed every try)."""

    @property
    def lang(self) -> Lang:
        """The user's language (the default until chosen)."""
        return language_of(self.user, Lang.DARIJA)

    @property
    def command(self) -> tuple[str, str] | None:
        """The command a text message is, with its argument; None for anything else."""
        return parse_command(self.message.text) if self.message.kind == "text" else None


class Flow(Protocol):
    """A conversation beside the learner's journey; it may raise `Pending` for slow work like the service."""

    def wants(self, service: Service, ctx: Context) -> bool:
        """Whether this flow handles the message (e.g. the user is a master who is teaching)."""
        ...

    def handle(self, service: Service, ctx: Context) -> None:
        """Handle it inside the unit of work: change state, queue replies with `service.say`."""
        ...

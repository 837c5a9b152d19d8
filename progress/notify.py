"""Messages a user did not ask for (a grade, a reminder, a master's reply), queued on their latest channel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.i18n import Catalog
from lessons.languages import RTL, Lang
from lessons.messages import Choice, MediaKind, Outgoing
from progress.models import ChannelIdentity, OutboundMessage, User

_CODES = frozenset(lang.value for lang in Lang)


def language_of(user: User | None, default: Lang) -> Lang:
    """The user's chosen language, or `default` until they choose (or when there is no user)."""
    code = user.language if user is not None else None
    return Lang(code) if code in _CODES else default


class Notifier:
    """Puts a catalogue message in the outbox for a user, in their language; the caller commits."""

    def __init__(
        self,
        catalog: Catalog,
        default_language: Lang,
        *,
        certificates: Path,
        base_url: str,
    ) -> None:
        self.catalog = catalog
        self.default_language = default_language
        self.certificates = certificates
        """Where certificate PDFs are written."""
        self.base_url = base_url
        """The public address of the web app, for links and QR codes."""

    def notify(
        self,
        session: Session,
        user_id: int,
        key: str,
        params: Mapping[str, str | int] | None = None,
        *,
        kind: str = "notice",
        choices: tuple[Choice, ...] = (),
        voice: str | None = None,
        media: str | None = None,
        media_kind: MediaKind | None = None,
    ) -> Outgoing | None:
        """Queue the message; None when the user has no channel left.

        `kind` travels in `meta` so a channel can choose how to send it (a WhatsApp template, say); `voice`
        is a voice note sent with it (a master's spoken reply), `media` a file (a certificate).
        """
        identity = session.scalar(
            select(ChannelIdentity)
            .where(ChannelIdentity.user_id == user_id)
            .order_by(ChannelIdentity.last_inbound_at.desc().nulls_last())
        )
        user = session.get(User, user_id)
        if identity is None or user is None:
            return None
        lang = language_of(user, self.default_language)
        out = Outgoing(
            identity.external_id,
            self.catalog.t(lang, key, params, form=user.address_form),
            lang.value,
            choices,
            media=media,
            media_kind=media_kind,
            voice=voice,
            rtl=lang in RTL,
            meta={"kind": kind, "key": key},
        )
        session.add(
            OutboundMessage(
                user_id=user_id, channel=identity.channel, chat_id=out.chat_id, payload=out.to_json()
            )
        )
        return out

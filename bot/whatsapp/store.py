"""What the WhatsApp channel keeps: delivery statuses, numbered menus, uploaded media ids; the window."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.whatsapp import CHANNEL
from progress.models import ChannelIdentity, DeliveryStatus, MediaUpload, NumberedMenu, utcnow

STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
"""A status only replaces one of lower rank: callbacks arrive out of order, and a failure is final."""
MEDIA_ID_LIFETIME = timedelta(days=29)
"""Uploaded media ids live 30 days on WhatsApp; older ones are uploaded again."""


def message_key(wamid: str) -> str:
    """What we keep of a wamid: its hash (a wamid encodes the phone number), still unique per message."""
    return "h:" + hashlib.sha256(wamid.encode()).hexdigest()


class Store:
    """Database access for the channel; every row about a person is tied to the user and erased with them."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def identity(self, chat_id: str) -> tuple[int | None, datetime | None]:
        """The user behind a WhatsApp number and when they last wrote to us."""
        with self.sessions() as session:
            row = session.execute(
                select(ChannelIdentity.user_id, ChannelIdentity.last_inbound_at).where(
                    ChannelIdentity.channel == CHANNEL, ChannelIdentity.external_id == chat_id
                )
            ).first()
        return (row[0], row[1]) if row else (None, None)

    def record_status(
        self,
        wamid: str,
        status: str,
        user_id: int | None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> bool:
        """Keep a delivery status unless a later one is already known; True when it changed anything."""
        rank = STATUS_RANK[status]
        key = message_key(wamid)
        values = {"status": status, "rank": rank, "error_code": error_code, "error_title": error_title}
        for _ in range(2):
            with self.sessions() as session:
                changed = session.execute(
                    update(DeliveryStatus)
                    .where(
                        DeliveryStatus.channel == CHANNEL,
                        DeliveryStatus.platform_id == key,
                        DeliveryStatus.rank < rank,
                    )
                    .values(**values, updated_at=utcnow())
                )
                if changed.rowcount:  # type: ignore[attr-defined]
                    session.commit()
                    return True
                known = session.scalar(
                    select(DeliveryStatus.id).where(
                        DeliveryStatus.channel == CHANNEL, DeliveryStatus.platform_id == key
                    )
                )
                if known is not None:
                    return False
                session.add(DeliveryStatus(channel=CHANNEL, platform_id=key, user_id=user_id, **values))
                try:
                    session.commit()
                except IntegrityError:  # the same status arrived twice at once: compare again
                    session.rollback()
                    continue
                return True
        return False

    def set_menu(self, user_id: int, choices: tuple[str, ...]) -> None:
        """Remember the numbered menu just shown (or forget it when the choices were shown as buttons)."""
        with self.sessions() as session:
            session.execute(
                delete(NumberedMenu).where(NumberedMenu.user_id == user_id, NumberedMenu.channel == CHANNEL)
            )
            if choices:
                session.add(NumberedMenu(user_id=user_id, channel=CHANNEL, choices=list(choices)))
            session.commit()

    def menu_choice(self, chat_id: str, number: int) -> str | None:
        """The data of choice `number` of the numbered menu last shown on this chat, if there is one."""
        with self.sessions() as session:
            choices = session.scalar(
                select(NumberedMenu.choices)
                .join(ChannelIdentity, ChannelIdentity.user_id == NumberedMenu.user_id)
                .where(
                    ChannelIdentity.channel == CHANNEL,
                    ChannelIdentity.external_id == chat_id,
                    NumberedMenu.channel == CHANNEL,
                )
            )
        return str(choices[number - 1]) if choices and 1 <= number <= len(choices) else None

    def media_id(self, media_key: str) -> str | None:
        """The media id of a file uploaded before and still valid."""
        with self.sessions() as session:
            return session.scalar(
                select(MediaUpload.platform_file_id).where(
                    MediaUpload.channel == CHANNEL,
                    MediaUpload.media_key == media_key,
                    MediaUpload.created_at > utcnow() - MEDIA_ID_LIFETIME,
                )
            )

    def remember_media(self, media_key: str, media_id: str) -> None:
        """Keep a new media id for the file (replacing an expired one)."""
        with self.sessions() as session:
            session.execute(
                delete(MediaUpload).where(MediaUpload.channel == CHANNEL, MediaUpload.media_key == media_key)
            )
            session.add(MediaUpload(channel=CHANNEL, media_key=media_key, platform_file_id=media_id))
            try:
                session.commit()
            except IntegrityError:  # uploaded twice at once: either id works
                session.rollback()

"""What the Telegram channel keeps: the file ids of media uploaded once, and where polling resumes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.adapter import BUTTON_PREFIX, CHANNEL
from progress.models import InboundMessage, MediaUpload


class Store:
    """Database access for the channel (the sender and the poller touch no rows themselves)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def file_id(self, media_key: str) -> str | None:
        """Telegram's id for a file sent before."""
        with self.sessions() as session:
            return session.scalar(
                select(MediaUpload.platform_file_id).where(
                    MediaUpload.channel == CHANNEL, MediaUpload.media_key == media_key
                )
            )

    def remember_file(self, media_key: str, file_id: str) -> None:
        """Keep a file's id (sent twice at once: the first id is as good)."""
        with self.sessions() as session:
            session.add(MediaUpload(channel=CHANNEL, media_key=media_key, platform_file_id=file_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()

    def forget_file(self, media_key: str) -> None:
        """Drop a file id Telegram no longer knows."""
        with self.sessions() as session:
            session.execute(
                delete(MediaUpload).where(MediaUpload.channel == CHANNEL, MediaUpload.media_key == media_key)
            )
            session.commit()

    def newest_message(self, since: datetime) -> str | None:
        """The delivery id of the latest message (not button) received since `since`, by arrival."""
        with self.sessions() as session:
            return session.scalar(
                select(InboundMessage.platform_id)
                .where(
                    InboundMessage.channel == CHANNEL,
                    InboundMessage.received_at >= since,
                    InboundMessage.platform_id.not_like(f"{BUTTON_PREFIX}%"),
                )
                .order_by(InboundMessage.id.desc())
                .limit(1)
            )

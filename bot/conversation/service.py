"""The conversation service: one unit of work per incoming message, the same for every channel. It ties the
inbound log, the unit of work, the router and the flows together; each lives in its own module."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.inbound import InboundLog
from bot.conversation.journey import Journey
from bot.conversation.onboarding import Onboarding
from bot.conversation.router import Router, learner_routes
from bot.conversation.turn import Flow, Tools
from bot.conversation.unit import UnitOfWork
from bot.conversation.voice import VoiceAnswers
from lessons.assessment import Assessor
from lessons.content import Library
from lessons.i18n import Catalog
from lessons.languages import Lang
from lessons.messages import Incoming, MediaFetcher, Outgoing
from progress.notify import Notifier
from progress.secret_key import secret_key
from speech.types import Speaker, Transcriber

log = logging.getLogger(__name__)


class Service:
    """Turns an incoming message into state changes and replies, exactly once."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        library: Library,
        catalog: Catalog,
        assessor: Assessor,
        data_dir: Path,
        base_url: str,
        default_language: Lang = Lang.DARIJA,
        max_text_chars: int = 2000,
        fetchers: Mapping[str, MediaFetcher] | None = None,
        transcriber: Transcriber | None = None,
        speaker: Speaker | None = None,
        secret: str | None = None,
    ) -> None:
        self.assessor = assessor
        self.fetchers = dict(fetchers or {})
        """By channel, as `build_app` hands them in."""
        self.notifier = Notifier(
            catalog, default_language, certificates=data_dir / "certificates", base_url=base_url
        )
        self.flows: list[Flow] = []
        """Extra conversations (a master teaching) that take a message before the learner's journey."""
        tools = Tools(
            library,
            catalog,
            self.notifier,
            data_dir,
            default_language,
            max_text_chars,
            self.fetchers,
            transcriber,
            speaker,
            secret_key(secret, data_dir),
        )
        journey = Journey(assessor)
        routes = learner_routes(Onboarding(library, catalog), journey, VoiceAnswers(journey))
        self.inbound = InboundLog(sessions)
        self.unit = UnitOfWork(sessions, self.inbound, tools, Router(routes, self.flows).dispatch)

    def record(self, message: Incoming) -> int | None:
        """Save a received message; None when this delivery was seen before."""
        return self.record_all([message])[0]

    def record_all(self, messages: Sequence[Incoming]) -> list[int | None]:
        """Save received messages in one transaction: each one's id, or None for a delivery seen before."""
        return self.inbound.record_all(messages)

    async def handle(self, message: Incoming) -> list[Outgoing]:
        """Record and process a message; the replies are also left in the outbox for the channel to send."""
        inbound_id = self.record(message)
        if inbound_id is None:
            log.info("duplicate delivery on %s ignored", message.channel)
            return []
        return await self.process(inbound_id, message)

    async def resume(self) -> list[Outgoing]:
        """Process every message saved but not yet handled (after a crash or restart), oldest first."""
        replies: list[Outgoing] = []
        for inbound_id, payload in self.inbound.received():
            try:
                message = Incoming.from_json(payload)
            except Exception as exc:  # a row no message can be read from (erased, or an older shape)
                self.inbound.give_up(inbound_id, exc)
                continue
            replies += await self.process(inbound_id, message)
        return replies

    async def process(self, inbound_id: int, message: Incoming) -> list[Outgoing]:
        """Handle a recorded message in its unit of work (see `UnitOfWork.process`)."""
        return await self.unit.process(inbound_id, message)

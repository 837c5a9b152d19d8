"""The one wiring point: everything is built from settings and handed in; no module-level globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.components import grading_trust, model_options
from bot.conversation.certificate_name import CertificateNameFlow
from bot.conversation.progress_flow import ProgressFlow
from bot.conversation.service import Service
from bot.conversation.teach import TeachFlow
from bot.outbox import Outbox
from bot.settings import Settings
from lessons.assessment import Assessor
from lessons.combined import build_assessor
from lessons.content import Library, load_library
from lessons.drafting import drafter_for
from lessons.i18n import Catalog
from lessons.messages import MediaFetcher, Sender
from lessons.packs import Shelf
from lessons.rubric import RubricMatcher
from progress.certificates import public_url_warning
from progress.dashboard.deps import DashboardDeps
from progress.db import DatabaseUnavailable, make_engine, session_factory, upgrade
from progress.decisions import LessonDecisions
from progress.notify import Notifier
from progress.reference import sync_reference
from progress.schedule import DEFAULT_FILE
from speech.audio import AudioLimits
from speech.routing import load_routed
from speech.tts import CACHE_FOLDER
from speech.types import ModelError, Speaker, Transcriber
from speech.voices import load_speaker

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a channel needs, built once."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    library: Library
    catalog: Catalog
    service: Service
    outbox: Outbox
    shelf: Shelf
    decisions: LessonDecisions

    @property
    def notifier(self) -> Notifier:
        """Queues messages users did not ask for (grades, reminders, replies)."""
        return self.service.notifier

    def dashboard_deps(self) -> DashboardDeps:
        """The dashboard's and the sweeps' narrow view of the app."""
        key = self.settings.web_secret_key
        return DashboardDeps(
            sessions=self.sessions,
            library=self.library,
            catalog=self.catalog,
            notifier=self.notifier,
            decisions=self.decisions,
            nudge=self.outbox.flush,
            data_dir=self.settings.data_dir,
            base_url=self.settings.public_base_url(),
            public_url_missing=public_url_warning(self.settings.public_url) is not None,
            secret_key=key.get_secret_value() if key else None,
            timezone=self.settings.timezone,
            calendar=self.settings.content_dir / DEFAULT_FILE,
            grading=grading_trust(self.settings),
            question_overdue_days=self.settings.question_overdue_days,
        )

    def close(self) -> None:
        """Release the database."""
        self.engine.dispose()


@dataclass(frozen=True)
class Components:
    """The models `build_app` is handed for voice and grading."""

    assessor: Assessor
    transcriber: Transcriber | None
    speaker: Speaker | None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `build_app`."""
        return {"assessor": self.assessor, "transcriber": self.transcriber, "speaker": self.speaker}


def load_components(settings: Settings) -> Components:
    """Load what the settings ask for; a voice model that cannot load leaves voice notes kept for later."""
    limits = AudioLimits(max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds)
    try:
        transcriber = load_routed(
            settings.transcriber,
            settings.whisper_model,
            settings.whisper_models,
            settings.models_dir,
            workers=settings.transcription_workers,
            limits=limits,
        )
    except ModelError as error:
        log.warning("voice notes will be kept but not understood: %s", error)
        transcriber = None
    if transcriber is not None and transcriber.warning:
        log.warning("%s", transcriber.warning)
    speaker = load_speaker(
        settings.speaker,
        settings.data_dir / CACHE_FOLDER,
        piper_voice=settings.piper_voice,
        piper_voices=settings.piper_voices,
        models_dir=settings.models_dir,
    )
    assessor = build_assessor(settings.assessor, model_options(settings))
    return Components(assessor, transcriber, speaker)


class ChannelEdges(Protocol):
    """A chat channel's edges, made before the app: its fetcher now, its sender once the database is open."""

    @property
    def name(self) -> str:
        """The channel's name in messages and the outbox."""

    @property
    def fetcher(self) -> MediaFetcher:
        """Downloads what its users send."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop its sender runs on, when not its callers' (the outbox sends there)."""

    def connect(self, sessions: sessionmaker[Session], catalog: Catalog) -> Sender:
        """The channel's sender, on the app's database and catalogue."""


def prepare_data_dir(path: Path) -> None:
    """Create the data folder, private to this user, or explain plainly why it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DatabaseUnavailable(
            f"the data folder {path} is not writable ({exc.strerror}); "
            "set MAALEM_DATA_DIR to a folder you own"
        ) from exc


def build_app(
    settings: Settings,
    *,
    assessor: Assessor | None = None,
    transcriber: Transcriber | None = None,
    speaker: Speaker | None = None,
    senders: Mapping[str, Sender] | None = None,
    fetchers: Mapping[str, MediaFetcher] | None = None,
    channels: Sequence[ChannelEdges] = (),
) -> App:
    """Open (and migrate) the database, load content, and assemble the service with each channel's edges."""
    prepare_data_dir(settings.data_dir)
    url = settings.resolved_database_url()
    try:
        upgrade(url)
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot open the database: {exc.orig}") from exc
    engine = make_engine(url, busy_timeout=settings.db_busy_timeout)
    sessions = session_factory(engine)
    library = load_library(settings.content_dir)
    shelf = Shelf(settings.data_dir / "published")
    shelf.load(library)  # masters' courses approved by trainers join the shipped ones
    with sessions() as session:
        sync_reference(session, library)
    catalog = Catalog()
    senders = {**(senders or {}), **{edges.name: edges.connect(sessions, catalog) for edges in channels}}
    fetchers = {**(fetchers or {}), **{edges.name: edges.fetcher for edges in channels}}
    service = Service(
        sessions=sessions,
        library=library,
        catalog=catalog,
        assessor=assessor or RubricMatcher(),
        data_dir=settings.data_dir,
        base_url=settings.public_base_url(),
        default_language=settings.default_language,
        max_text_chars=settings.max_text_chars,
        fetchers=fetchers,
        transcriber=transcriber,
        speaker=speaker,
        secret=key.get_secret_value() if (key := settings.web_secret_key) else None,
    )
    service.flows.append(TeachFlow(shelf, drafter_for(service.assessor)))
    service.flows.append(ProgressFlow())
    service.flows.append(CertificateNameFlow())
    loops = {edges.name: loop for edges in channels if (loop := edges.loop) is not None}
    outbox = Outbox(sessions, senders, speaker, loops)
    outbox.recover()
    decisions = LessonDecisions(sessions, shelf, library, service.notifier)
    return App(settings, engine, sessions, library, catalog, service, outbox, shelf, decisions)

"""SQLAlchemy 2.0 typed models: people, their progress, their answers, and the message logs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from lessons.assessment import Assessment


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def shown_name(preferred: str | None, platform: str) -> str:
    """A person's name as others see it: the one they asked to be called by, else their chat app's ("" if
    neither)."""
    return (preferred or "").strip() or platform.strip()


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Give the zone back."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class AssessmentJSON(TypeDecorator[Assessment]):
    """An `Assessment` stored as its JSON shape (`Assessment.to_json`); older rows' shape reads too."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Assessment | None, dialect: Any) -> dict[str, Any] | None:
        """The stored shape."""
        return value.to_json() if value is not None else None

    def process_result_value(self, value: dict[str, Any] | None, dialect: Any) -> Assessment | None:
        """The typed assessment back."""
        return Assessment.from_json(value) if value is not None else None


class InboundStatus(StrEnum):
    """Where a message in the inbound log is: waiting to be handled, handled, or given up for a person."""

    RECEIVED = "received"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    """Where a reply in the outbox is: waiting, claimed by a flush, delivered, or given up."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ReviewStatus(StrEnum):
    """Where an answer waiting for a person is: open, decided (the machine's grade kept or turned), or left
    behind by a better answer."""

    OPEN = "open"
    ACCEPTED = "accepted"
    OVERRIDDEN = "overridden"
    SUPERSEDED = "superseded"


E = TypeVar("E", bound=StrEnum)


class StatusColumn(TypeDecorator[E]):
    """A status stored as its string; read back as its enum (and refused when it is none of them)."""

    impl = String(16)
    cache_ok = True

    def __init__(self, kind: type[E]) -> None:
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        """The value, checked against the enum."""
        return None if value is None else self.kind(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        """The enum member."""
        return None if value is None else self.kind(value)


class Base(DeclarativeBase):
    """Base of every table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, Assessment: AssessmentJSON}


class Role(StrEnum):
    """What a person does in Maalem."""

    APPRENTICE = "apprentice"
    MASTER = "master"
    TRAINER = "trainer"
    ADMIN = "admin"


class Region(Base):
    """A region, mirrored from content for foreign keys and scoping."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Cooperative(Base):
    """A cooperative or training centre, mirrored from content."""

    __tablename__ = "cooperatives"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))


class User(Base):
    """A person: apprentice, master, trainer or admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.APPRENTICE)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    """The name the learner chose to have printed on their certificates; their platform name until then."""
    preferred_name: Mapped[str | None] = mapped_column(String(200))
    """How the person asked to be called (onboarding); their platform name when unset."""
    address_form: Mapped[str | None] = mapped_column(String(1))
    """How messages address them where the language has gendered forms: "f", "m", or None (the base form)."""
    language: Mapped[str | None] = mapped_column(String(8))
    stage: Mapped[str] = mapped_column(String(24), default="language")
    """Onboarding stage: language, consent, guardian, name, address, region, craft, cooperative, ready."""
    is_minor: Mapped[bool | None] = mapped_column(Boolean)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    craft_code: Mapped[str | None] = mapped_column(String(48))
    cooperative_code: Mapped[str | None] = mapped_column(ForeignKey("cooperatives.code"))
    current_course_id: Mapped[str | None] = mapped_column(String(48))
    spoken_feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pending: Mapped[str | None] = mapped_column(String(24))
    """A confirmation the user was asked for (e.g. forget)."""
    login: Mapped[str | None] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    """Dashboard sessions carry it; bumped on logout and on a new password, which refuses older cookies."""
    timezone: Mapped[str | None] = mapped_column(String(48))
    """An IANA zone for reminders and streaks; the server's default (Africa/Casablanca) when unset."""
    author_id: Mapped[str | None] = mapped_column(String(48))
    """For a master: their author id in the course packs, so their weekly digest covers their courses."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        """The name others see them by (`shown_name`)."""
        return shown_name(self.preferred_name, self.display_name)

    __table_args__ = (
        Index("ix_users_scope", "region_code", "cooperative_code"),
        Index("ix_users_cooperative", "cooperative_code"),
        Index("ix_users_active", "last_active_at", "id", "role", "stage", "reminders_paused", "timezone"),
        # covers the reminder sweep's selection (no table reads) and the active / at-risk counts
    )


class ChannelIdentity(Base):
    """One person's account on one channel (a Telegram chat, a WhatsApp number)."""

    __tablename__ = "channel_identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    last_inbound_at: Mapped[datetime | None] = mapped_column()
    user: Mapped[User] = relationship(back_populates="identities")
    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class Consent(Base):
    """A consent given (or withdrawn), by the learner or their guardian."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    by_guardian: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRefusal(Base):
    """All that is kept of someone who refused consent: a keyed hash of their chat identity, to ask again."""

    __tablename__ = "consent_refusals"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    """A learner's place in a course."""

    __tablename__ = "enrolments"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(48))
    lesson_id: Mapped[str] = mapped_column(String(48))
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    asking: Mapped[bool] = mapped_column(Boolean, default=False)
    lesson_done: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_enrolments_course", "course_id"),
        Index(
            "ix_enrolments_funnel",
            "course_id",
            "lesson_id",
            "step_index",
            "lesson_done",
            "completed_at",
            "updated_at",
        ),
        # covers the funnels: counted from the index alone, in its order
    )


class StepProgress(Base):
    """A finished step."""

    __tablename__ = "step_progress"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(48))
    lesson_id: Mapped[str] = mapped_column(String(48))
    step_id: Mapped[str] = mapped_column(String(48))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "lesson_id", "step_id"),
        Index("ix_step_progress_completed", "completed_at"),
    )


class Answer(Base):
    """An answer to a checkpoint, typed or spoken, with its grade and who gave it."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"), unique=True
    )
    course_id: Mapped[str] = mapped_column(String(48))
    lesson_id: Mapped[str] = mapped_column(String(48))
    step_id: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text, default="")
    audio_path: Mapped[str | None] = mapped_column(String(300))
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_confidence: Mapped[float | None] = mapped_column(Float)
    assessment: Mapped[Assessment | None] = mapped_column()
    """The machine's verdict (None before grading)."""
    passed: Mapped[bool | None] = mapped_column(Boolean)
    graded_by: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        Index("ix_answers_user", "user_id", "created_at"),
        Index("ix_answers_created", "created_at"),
    )

    @property
    def machine_passed(self) -> bool:
        """Whether the machine passed this answer (what a person accepts or overrides)."""
        return self.assessment is not None and self.assessment.passed


class ReviewItem(Base):
    """An answer a person must decide on (the AI was unsure, or the learner kept failing)."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[ReviewStatus] = mapped_column(
        StatusColumn(ReviewStatus), default=ReviewStatus.OPEN, index=True
    )
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_passed: Mapped[bool | None] = mapped_column(Boolean)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()


class Question(Base):
    """A question a learner asked the master at a step."""

    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(String(48))
    lesson_id: Mapped[str] = mapped_column(String(48))
    step_id: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text)
    audio_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column()
    answer_text: Mapped[str | None] = mapped_column(Text)
    """The master's words as typed (None for a voice answer)."""
    answer_audio_path: Mapped[str | None] = mapped_column(String(300))
    """The master's voice answer, kept with the master's other audio."""
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InboundMessage(Base):
    """Every message received, keyed by the platform's id so a second delivery is recognised."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[InboundStatus] = mapped_column(StatusColumn(InboundStatus), default=InboundStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (UniqueConstraint("channel", "platform_id"), Index("ix_inbound_status", "status"))


class OutboundMessage(Base):
    """A reply waiting to be sent, saved with the state change that caused it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[OutboxStatus] = mapped_column(StatusColumn(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (Index("ix_outbox_status", "status", "id"),)


class MediaUpload(Base):
    """A platform's id for a media file already uploaded once, reused on later sends."""

    __tablename__ = "media_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    media_key: Mapped[str] = mapped_column(String(300))
    platform_file_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("channel", "media_key"),)


class Job(Base):
    """Durable slow work (transcription, grading): a restart resumes what is pending."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (Index("ix_jobs_status", "status", "id"),)


class DeliveryStatus(Base):
    """What a platform last told us about a message we sent (sent, delivered, read, failed), by rank."""

    __tablename__ = "delivery_statuses"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(128))
    """The platform's message id, hashed when it carries a phone number (a WhatsApp wamid does)."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    """Later states outrank earlier ones, so callbacks arriving out of order cannot move a message back."""
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("channel", "platform_id"),
        Index("ix_delivery_statuses_status", "status", "updated_at"),
    )


class NumberedMenu(Base):
    """The choices last offered to a user as numbered text, so that a typed number presses that button."""

    __tablename__ = "numbered_menus"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    choices: Mapped[list[str]] = mapped_column(JSON)
    """Each choice's data, in the order shown (number 1 first)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("user_id", "channel"),)


class Certificate(Base):
    """A course completed, as printed on the learner's certificate; its code is checked publicly."""

    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(48))
    learner_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(300))
    master_name: Mapped[str] = mapped_column(String(200))
    cooperative_name: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    """Set when a person later failed an answer the certificate rested on; cleared if it is earned again."""
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)


class ReviewCard(Base):
    """A passed checkpoint asked again later, at intervals that grow with each success."""

    __tablename__ = "review_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(48))
    lesson_id: Mapped[str] = mapped_column(String(48))
    step_id: Mapped[str] = mapped_column(String(48))
    successes: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column()
    asked_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "lesson_id", "step_id"),
        Index("ix_review_cards_due", "due_at"),
    )


class ReminderClaim(Base):
    """A reminder, review or digest claimed before it is sent: one row per (user, kind, period), ever."""

    __tablename__ = "reminder_claims"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("user_id", "kind", "period"),)


class ActivityDay(Base):
    """Answers and finished steps per local day, region, cooperative and course, rolled up by a sweep."""

    __tablename__ = "activity_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    cooperative_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    """Empty when the learner has none (an empty string, not NULL, so the key stays unique)."""
    course_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[int] = mapped_column(Integer, default=0)


class SweepMark(Base):
    """How far a periodic sweep has read a growing table (the last answer id turned into review cards)."""

    __tablename__ = "sweep_marks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class MasterProfile(Base):
    """A master artisan as credited in course packs; a one-time invitation links their chat account to it."""

    __tablename__ = "master_profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[str] = mapped_column(String(48), unique=True)
    """Their id among a course's authors (kept when the account is erased: published work stays credited)."""
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(120))
    craft_code: Mapped[str | None] = mapped_column(String(48))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    language: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of the one-time code; cleared once used."""
    invite_expires_at: Mapped[datetime | None] = mapped_column()
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    licence: Mapped[str | None] = mapped_column(String(32))
    """The licence they chose for their lessons, asked once."""
    consented_at: Mapped[datetime | None] = mapped_column()
    """When they agreed to publish their recordings under `licence`."""
    linked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeachSession(Base):
    """A master's teaching conversation, kept between messages so a session left half-way resumes."""

    __tablename__ = "teach_sessions"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any] | None] = mapped_column()
    """The recording in progress (`lessons.teach.TeachState`); None when none is."""
    replying_to: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))
    """An apprentice's answer the master's next voice note replies to."""
    replying_question: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    """An apprentice's question the master's next text or voice note answers."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthoredCourse(Base):
    """A course masters record in the chat; it is published as a pack once a lesson is approved."""

    __tablename__ = "authored_courses"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    craft_code: Mapped[str] = mapped_column(String(48))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    master_id: Mapped[int | None] = mapped_column(
        ForeignKey("master_profiles.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[dict[str, Any]] = mapped_column()
    """Per language: {"text": …, "by": master | llm | copy | trainer}; machine drafts wait for a trainer."""
    language: Mapped[str] = mapped_column(String(8))
    """The language the master recorded in."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthoredLesson(Base):
    """A lesson a master recorded: waiting for a trainer, approved (published) or sent back."""

    __tablename__ = "authored_lessons"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("authored_courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(48))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, Any]] = mapped_column()
    master_id: Mapped[int | None] = mapped_column(ForeignKey("master_profiles.id", ondelete="SET NULL"))
    licence: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    """submitted, approved or rejected."""
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        Index("ix_authored_lessons_status", "status", "submitted_at"),
    )


class AuthoredStep(Base):
    """One recorded step: media, captions, checkpoint, and its author, licence, date and consent."""

    __tablename__ = "authored_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("authored_lessons.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(48))
    author_id: Mapped[str] = mapped_column(String(48))
    media_kind: Mapped[str] = mapped_column(String(8))
    media_path: Mapped[str] = mapped_column(String(300))
    voice_path: Mapped[str | None] = mapped_column(String(300))
    """The master's own voice note explaining the step."""
    caption: Mapped[dict[str, Any]] = mapped_column()
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column()
    """{"question": texts, "drafted_by": …, "key_points": [{"id", "phrasing": texts, "hint": texts}]}."""
    licence: Mapped[str] = mapped_column(String(32))
    consented_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("lesson_id", "position"),)

"""Certificates: the rule that earns, holds and withdraws them, the name to print, and sending them once.

The PDF itself is drawn by `progress.certificate_pdf`."""

from __future__ import annotations

import secrets
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.course import Course
from lessons.languages import Lang, pick
from lessons.messages import Choice
from progress.certificate_pdf import certificate_pdf
from progress.models import (
    Answer,
    Certificate,
    Enrolment,
    ReviewItem,
    ReviewStatus,
    StepProgress,
    User,
    utcnow,
)
from progress.notify import Notifier, language_of

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a code read aloud or typed is not mistaken."""
CODE_LENGTH = 10
NAME_LENGTH = (2, 80)
NAME_MARKS = frozenset(" -'’.")
"""Besides letters of any script (and their combining marks), what a printed name may hold."""
NAME_WORDS = 6
"""A reply of more words than this is no answer to the name question (a sentence, a checkpoint's answer)."""
NAME_QUESTION = "certname"
"""`User.pending` while the name question is the last one asked."""


def new_code() -> str:
    """A fresh random verification code, as `XXXXX-XXXXX`."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_code(text: str) -> str:
    """A code as typed (lower case, O for 0, I or L for 1, no dash) in its canonical form."""
    raw = text.strip().upper().replace("-", "").replace(" ", "")
    raw = raw.translate(str.maketrans("OIL", "011"))
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == CODE_LENGTH else raw


def learner_name(user: User) -> str:
    """The name printed for a learner: the one they chose, else the one their chat app gave ("" if none)."""
    return (user.certificate_name or "").strip() or user.display_name.strip()


def valid_name(text: str) -> str | None:
    """A name as typed, tidied to print; None unless it is 2 to 80 characters of letters, spaces, - ' or ."""
    name = " ".join(text.split())
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        return None
    if not any(c.isalpha() for c in name):
        return None
    if any(unicodedata.category(c)[0] not in "LM" and c not in NAME_MARKS for c in name):
        return None
    return name


def offered_names(user: User) -> dict[str, str]:
    """The names offered as buttons for the certificate, by button data: the one they asked to be called by,
    then their chat app's (each when valid, once)."""
    offered: dict[str, str] = {}
    for data, raw in (("certname:preferred", user.preferred_name), ("certname:platform", user.display_name)):
        name = valid_name(raw or "")
        if name is not None and name not in offered.values():
            offered[data] = name
    return offered


def looks_like_name(text: str) -> bool:
    """Whether a reply is meant as a name, valid or not: a few words with letters, no question."""
    words = text.split()
    return 0 < len(words) <= NAME_WORDS and any(c.isalpha() for c in text) and not {"?", "؟"} & set(text)


def waiting_for_name(session: Session, library: Library, user: User) -> bool:
    """Whether a certificate waits only for the learner to say the name to print."""
    if user.certificate_name is not None:
        return False
    return any(earned(session, user.id, course) is True for course in _enrolled(session, library, user))


def _enrolled(session: Session, library: Library, user: User) -> list[Course]:
    ids = session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == user.id))
    return [library.courses[i] for i in ids if i in library.courses]


def deliver_earned(session: Session, notifier: Notifier, library: Library, user: User) -> None:
    """`deliver_if_earned` for every course the learner is enrolled in."""
    for course in _enrolled(session, library, user):
        deliver_if_earned(session, notifier, library, user, course)


def deliver_if_earned(
    session: Session, notifier: Notifier, library: Library, user: User, course: Course
) -> Certificate | None:
    """Issue and send the certificate the first time it is earned; first ask the learner the name to print
    (their chat app's name offered as a button), which makes it the question a reply answers. The
    certificate when issued by this call."""
    if user.certificate_name is None:
        if earned(session, user.id, course) is True:
            user.pending = NAME_QUESTION
            choices = tuple(Choice(name, data) for data, name in offered_names(user).items())
            notifier.notify(session, user.id, "cert.ask_name", choices=choices)
        return None
    issued = award_if_earned(session, library, user, course)
    if issued is not None:
        send_certificate(session, notifier, library, issued)
    return issued


def earned(session: Session, user_id: int, course: Course) -> bool | None:
    """Whether the course is earned: True, False, or None while a person has yet to decide.

    Each checkpoint stands on its latest answer that a person decided, that passed, or that waits for a
    person (a machine's "not yet" is only a try): earned when every one passed and every other step was
    done; held (None) when the rest passed and some wait; not earned when any failed or was never passed.
    """
    done = set(
        session.execute(
            select(StepProgress.lesson_id, StepProgress.step_id).where(
                StepProgress.user_id == user_id, StepProgress.course_id == course.id
            )
        ).tuples()
    )
    latest: dict[tuple[str, str], bool | None] = {}
    rows = session.execute(
        select(Answer.lesson_id, Answer.step_id, Answer.passed, Answer.graded_by, ReviewItem.status)
        .outerjoin(ReviewItem, ReviewItem.answer_id == Answer.id)
        .where(Answer.user_id == user_id, Answer.course_id == course.id)
        .order_by(Answer.id)
    ).tuples()
    for lesson_id, step_id, passed, graded_by, review in rows:
        if passed or graded_by == "human" or review == ReviewStatus.OPEN:
            latest[(lesson_id, step_id)] = None if review == ReviewStatus.OPEN else bool(passed)
    waiting = False
    for lesson in course.lessons:
        for step in lesson.steps:
            key = (lesson.id, step.id)
            if step.checkpoint is None:
                if key not in done:
                    return False
                continue
            standing = latest.get(key, False)
            if standing is False:
                return False
            waiting = waiting or standing is None
    return None if waiting else True


def award_if_earned(session: Session, library: Library, user: User, course: Course) -> Certificate | None:
    """Issue (or issue again, once withdrawn) the certificate if it is earned: the certificate only when
    it was issued by this call, so that the caller sends it once. Held until the learner chose a name."""
    if earned(session, user.id, course) is not True or not (user.certificate_name or "").strip():
        return None
    existing = _certificate_of(session, user.id, course.id)
    if existing is None:
        return issue_certificate(session, library, user, course)
    if existing.withdrawn_at is None:
        return None
    existing.withdrawn_at, existing.issued_at = None, utcnow()
    existing.learner_name = learner_name(user)[:200]
    return existing


def send_certificate(
    session: Session, notifier: Notifier, library: Library, certificate: Certificate
) -> None:
    """Queue the certificate's PDF to its learner, in their language (once: when it is issued)."""
    path = certificate_pdf(
        certificate,
        notifier.certificates,
        base_url=notifier.base_url,
        catalog=notifier.catalog,
        library=library,
    )
    lang = language_of(session.get(User, certificate.user_id), notifier.default_language)
    course = library.courses.get(certificate.course_id)
    title = pick(dict(course.title), lang)[0] if course else certificate.course_title
    params = {"course": title, "code": certificate.code}
    notifier.notify(
        session, certificate.user_id, "progress.certificate", params, media=str(path), media_kind="document"
    )


def withdraw_if_failed(session: Session, user_id: int, course: Course) -> Certificate | None:
    """Withdraw the certificate when the course is no longer earned; the certificate if withdrawn now."""
    existing = _certificate_of(session, user_id, course.id)
    if existing is None or existing.withdrawn_at is not None or earned(session, user_id, course) is not False:
        return None
    existing.withdrawn_at = utcnow()
    return existing


def _certificate_of(session: Session, user_id: int, course_id: str) -> Certificate | None:
    return session.scalar(
        select(Certificate).where(Certificate.user_id == user_id, Certificate.course_id == course_id)
    )


def public_url_warning(public_url: str | None) -> str | None:
    """Why certificates would point nowhere: their QR codes need the public address of the web app."""
    if not public_url:
        return (
            "certificates are issued but MAALEM_PUBLIC_URL is not set: their QR codes and verify links "
            "point to this machine's local address, which nobody else can open"
        )
    return None


def issue_certificate(session: Session, library: Library, user: User, course: Course) -> Certificate:
    """The learner's certificate for `course`, created on first call with the names as they are today."""
    existing = _certificate_of(session, user.id, course.id)
    if existing is not None:
        return existing
    coop = library.cooperatives.get(user.cooperative_code or "")
    master = next(a.name for a in course.authors if a.id == course.master)
    certificate = Certificate(
        code=new_code(),
        user_id=user.id,
        course_id=course.id,
        learner_name=learner_name(user)[:200],
        course_title=pick(dict(course.title), Lang.FRENCH)[0][:300],
        master_name=master[:200],
        cooperative_name=coop.name[:200] if coop else None,
        issued_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(certificate)
    except IntegrityError:  # the same course completed concurrently: keep the first
        return session.scalars(
            select(Certificate).where(Certificate.user_id == user.id, Certificate.course_id == course.id)
        ).one()
    return certificate


def find_certificate(session: Session, code: str) -> Certificate | None:
    """The certificate with this code, however it was typed."""
    return session.scalar(select(Certificate).where(Certificate.code == normalize_code(code)))

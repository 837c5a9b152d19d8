"""Masters: invitations (a one-time code linking a chat to a master profile) and profiles.

A trainer invites a master (`maalem users invite-master`); the master sends the code from their chat, and
their account becomes the profile's: they can teach from then on. A trainer who teaches gets a profile on
first use.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.languages import Lang
from progress.authoring import slugify, unique
from progress.models import MasterProfile, Role, User, utcnow

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code is read aloud and typed on a phone."""
INVITE_LENGTH = 10
INVITE_CODE = re.compile(rf"^[{INVITE_ALPHABET}]{{{INVITE_LENGTH}}}$")
INVITE_DAYS = 14
AUTHORS = frozenset({Role.MASTER, Role.TRAINER, Role.ADMIN})
"""Who may record lessons."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def invite_master(
    session: Session,
    *,
    name: str,
    craft: str | None,
    region: str | None,
    language: Lang,
    city: str | None = None,
    author_id: str | None = None,
    invited_by: int | None = None,
    days: int = INVITE_DAYS,
) -> tuple[MasterProfile, str]:
    """A master profile (new, or the one credited as `author_id`) and a one-time code linking a chat to it."""
    profile = (
        session.scalar(select(MasterProfile).where(MasterProfile.author_id == author_id))
        if author_id
        else None
    )
    if profile is None:
        taken = set(session.scalars(select(MasterProfile.author_id)))
        profile = MasterProfile(
            author_id=author_id or unique(slugify(name, "master"), taken),
            name=name,
            city=city,
            craft_code=craft,
            region_code=region,
            language=language.value,
        )
        session.add(profile)
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    profile.invite_hash = _hash(code)
    profile.invite_expires_at = utcnow() + timedelta(days=days)
    profile.invited_by = invited_by
    session.flush()
    return profile, code


def find_invite(session: Session, code: str) -> MasterProfile | None:
    """The profile a valid, unexpired one-time code links to."""
    if not INVITE_CODE.match(code.strip().upper()):
        return None
    profile = session.scalar(select(MasterProfile).where(MasterProfile.invite_hash == _hash(code)))
    if profile is None or profile.invite_expires_at is None or profile.invite_expires_at < utcnow():
        return None
    return profile


def redeem_invite(session: Session, profile: MasterProfile, user: User) -> None:
    """Link `user`'s chat account to the master profile: they can teach from now on; the code is spent."""
    if profile.user_id is not None and profile.user_id != user.id:
        previous = session.get(User, profile.user_id)
        if previous is not None and previous.role == Role.MASTER:
            previous.role, previous.author_id = Role.APPRENTICE, None
    profile.user_id, profile.invite_hash, profile.linked_at = user.id, None, utcnow()
    if user.role not in AUTHORS:
        user.role = Role.MASTER
    user.author_id = profile.author_id
    user.display_name = profile.name
    user.language = user.language or profile.language
    user.craft_code = user.craft_code or profile.craft_code
    user.region_code = user.region_code or profile.region_code
    user.stage = "consent"  # a master agrees to their voice and video being kept, as apprentices do


def profile_of(session: Session, user: User) -> MasterProfile | None:
    """The master profile linked to this account."""
    return session.scalar(select(MasterProfile).where(MasterProfile.user_id == user.id))


def ensure_profile(session: Session, user: User) -> MasterProfile:
    """The author's profile; a trainer who teaches gets one on first use, credited under their name."""
    profile = profile_of(session, user)
    if profile is None:
        taken = set(session.scalars(select(MasterProfile.author_id)))
        base = slugify(user.display_name, f"trainer-{user.id}")
        profile = MasterProfile(
            author_id=unique(base, taken),
            name=user.display_name or f"Trainer {user.id}",
            craft_code=user.craft_code,
            region_code=user.region_code,
            language=user.language or Lang.DARIJA.value,
            user_id=user.id,
            linked_at=utcnow(),
        )
        session.add(profile)
        session.flush()
        user.author_id = profile.author_id
    return profile

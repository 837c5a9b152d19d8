"""Trainer and admin accounts: argon2 password hashes, creation with a scope, and login checks."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.languages import Lang
from progress.models import ChannelIdentity, Cooperative, Region, Role, User

MIN_PASSWORD = 10
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
"""OWASP's argon2id settings (19 MiB, 2 passes): about 80 ms a check on a small 2-core server."""
_DUMMY = _hasher.hash("not a real password, for constant-time misses")


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def add_trainer(
    session: Session,
    login: str,
    password: str,
    *,
    name: str = "",
    admin: bool = False,
    region: str | None = None,
    cooperative: str | None = None,
    chat: tuple[str, str] | None = None,
    language: Lang = Lang.FRENCH,
) -> User:
    """Create (or update) a dashboard account: an admin, a regional or a cooperative trainer.

    `chat` is a (channel, chat id) where the weekly digest goes, in `language`; a person already talking to
    the bot there is given the account rather than a second identity. The caller commits.
    """
    login = login.strip().lower()
    if not login or len(login) > 120:
        raise AccountError("the login must be 1 to 120 characters")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    if admin == bool(region or cooperative) or (region and cooperative):
        raise AccountError("give exactly one of: --admin, --region CODE, --cooperative CODE")
    if region and session.get(Region, region) is None:
        raise AccountError(f"unknown region {region!r} (see content/regions.yaml)")
    coop = session.get(Cooperative, cooperative) if cooperative else None
    if cooperative and coop is None:
        raise AccountError(f"unknown cooperative {cooperative!r} (see content/cooperatives.yaml)")
    user = session.scalar(select(User).where(User.login == login))
    if user is None and chat is not None:
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == chat[0], ChannelIdentity.external_id == chat[1]
            )
        )
        user = identity.user if identity else None
    if user is None:
        user = User(stage="ready")
        session.add(user)
    user.login = login
    user.password_hash = hash_password(password)
    end_sessions(user)
    user.role = Role.ADMIN if admin else Role.TRAINER
    user.display_name = name or user.display_name or login
    user.language = language.value
    user.cooperative_code = coop.code if coop else None
    user.region_code = coop.region_code if coop else region
    session.flush()
    if chat is not None and not any(
        i.channel == chat[0] and i.external_id == chat[1] for i in user.identities
    ):
        session.add(ChannelIdentity(user_id=user.id, channel=chat[0], external_id=chat[1]))
    return user


def end_sessions(user: User) -> None:
    """Refuse every dashboard session this account opened so far (logout, new password)."""
    user.session_generation = (user.session_generation or 0) + 1


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The trainer or admin with these credentials, else None (taking as long either way)."""
    user = session.scalar(
        select(User).where(User.login == login.strip().lower(), User.role.in_([Role.TRAINER, Role.ADMIN]))
    )
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user

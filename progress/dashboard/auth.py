"""Dashboard sessions in a signed cookie and CSRF tokens (signed with `progress.secret_key`)."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field, fields, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from lessons.languages import Lang

COOKIE = "maalem_dashboard"
MAX_AGE = 12 * 3600
"""A session lasts a working day from login, however much it is used; then the trainer logs in again."""


def _new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class WebSession:
    """What the cookie carries: who is logged in, their CSRF token and language."""

    csrf: str = field(default_factory=_new_token)
    lang: str = Lang.FRENCH.value
    user_id: int | None = None
    generation: int = 0
    """The account's session generation at login: a logout or a new password bumps it, ending this session."""
    since: float = 0.0
    """When the trainer logged in (Unix time): the session ends `MAX_AGE` later, renewed or not."""

    def login(self, user_id: int, generation: int) -> WebSession:
        """A new session for this user, with a new CSRF token (no fixation)."""
        return WebSession(lang=self.lang, user_id=user_id, generation=generation, since=time.time())

    def current(self, generation: int) -> bool:
        """Whether this session is of the account's current generation and still within its lifetime."""
        return self.generation == generation and 0 <= time.time() - self.since <= MAX_AGE

    def with_lang(self, lang: Lang) -> WebSession:
        """The same session in another language."""
        return replace(self, lang=lang.value)

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a submitted form carried this session's token."""
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def preferred_lang(accept_language: str) -> Lang:
    """The first language of the browser's list that the dashboard speaks, French otherwise."""
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()
        for lang in Lang:
            if code == lang.value or code.startswith(f"{lang.value}-"):
                return lang
    return Lang.FRENCH


_FIELDS = tuple(f.name for f in fields(WebSession))


class Sessions:
    """Reads and writes the signed session cookie."""

    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="maalem.dashboard.session")

    def load(self, request: Request) -> WebSession:
        """The request's session, or a fresh anonymous one when absent, tampered with or expired."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self.serializer.loads(raw, max_age=MAX_AGE)
                if isinstance(data, dict) and data.get("lang") in set(Lang):
                    return WebSession(**{k: data[k] for k in _FIELDS if k in data})
            except (BadSignature, TypeError):
                pass
        return WebSession(lang=preferred_lang(request.headers.get("accept-language", "")).value)

    def save(self, response: Response, session: WebSession, request: Request) -> None:
        """Set the cookie: HTTP only, same-site, secure when served over HTTPS."""
        response.set_cookie(
            COOKIE,
            self.serializer.dumps(asdict(session)),
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

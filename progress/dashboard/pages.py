"""What every dashboard page shares: rendering, the logged-in trainer, error pages, local times.

Server-rendered (Jinja2), no script, in the trainer's language (French, Arabic right to left, and the others
of the catalogue). A trainer sees only their region or cooperative: anything else is "not found", whatever
the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from lessons.i18n import LANGUAGE_NAMES
from lessons.languages import RTL, Lang
from progress.dashboard.auth import Sessions, WebSession
from progress.dashboard.deps import DashboardDeps
from progress.dashboard.errors import error_message
from progress.dashboard.labels import Labels
from progress.models import Role, User
from progress.rules import zone
from progress.scope import Scope
from progress.secret_key import secret_key

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Viewer:
    """The trainer looking at the dashboard."""

    session: WebSession
    user: User
    scope: Scope


class Dashboard:
    """Rendering and the logged-in trainer, over one app."""

    def __init__(self, deps: DashboardDeps) -> None:
        self.deps = deps
        self.sessions = Sessions(secret_key(deps.secret_key, deps.data_dir))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
        )
        self.tz = zone(deps.timezone)

    def render(
        self,
        request: Request,
        session: WebSession,
        template: str,
        *,
        status: int = 200,
        viewer: Viewer | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in the session's language, with the session cookie refreshed and security headers."""
        lang = Lang(session.lang)

        def t(key: str, **params: str | int) -> str:
            return self.deps.catalog.t(lang, key, params)

        html = self.env.get_template(template).render(
            t=t,
            lang=lang.value,
            rtl=lang in RTL,
            csrf=session.csrf,
            viewer=viewer,
            public_url_missing=self.deps.public_url_missing,
            labels=Labels(self.deps.library, lang),
            languages=LANGUAGE_NAMES,
            path=request.url.path,
            when=self.when,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
        self.sessions.save(response, session, request)
        return response

    def error_page(self, request: Request, status: int, headers: Mapping[str, str] | None) -> HTMLResponse:
        """An error as a page in the visitor's language, with a way back."""
        session = self.sessions.load(request)
        message = error_message(status)
        return self.render(
            request, session, "error.html", status=status, headers=dict(headers or {}), message=message
        )

    def when(self, moment: datetime | None) -> str:
        """A moment in the server's local time."""
        return f"{moment.astimezone(self.tz):%d/%m/%Y %H:%M}" if moment else "—"

    def viewer(self, request: Request, db: Session) -> Viewer:
        """The logged-in trainer, or a redirect to the login page."""
        session = self.sessions.load(request)
        user = db.get(User, session.user_id) if session.user_id else None
        if (
            user is None
            or user.role not in {Role.TRAINER, Role.ADMIN}
            or not session.current(user.session_generation)
        ):
            raise HTTPException(303, headers={"Location": f"{PREFIX}/login"})
        return Viewer(session, user, Scope.of(user, self.deps.library))


class Pages:
    """A group of pages over the dashboard."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.deps = dashboard.deps

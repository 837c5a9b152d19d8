"""Signing in and out, the dashboard's language, and its stylesheet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lessons.languages import Lang
from progress.accounts import authenticate, end_sessions
from progress.dashboard.auth import WebSession
from progress.dashboard.pages import HERE, PREFIX, Dashboard, Pages
from progress.models import User


def add_account_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the stylesheet, login, logout and language switch on the dashboard's router."""
    pages = AccountPages(dashboard)
    router.add_api_route(f"{PREFIX}/static/style.css", pages.style, methods=["GET"])
    router.add_api_route(f"{PREFIX}/login", pages.login_page, methods=["GET"])
    router.add_api_route(f"{PREFIX}/login", pages.login, methods=["POST"])
    router.add_api_route(f"{PREFIX}/logout", pages.logout, methods=["POST"])
    router.add_api_route(f"{PREFIX}/lang/{{code}}", pages.switch_lang, methods=["GET"])


class AccountPages(Pages):
    """The login form and what a session does: sign in, sign out, change language."""

    def style(self) -> Response:
        """The one stylesheet."""
        css = (HERE / "static" / "style.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    def login_page(self, request: Request) -> HTMLResponse:
        """The login form."""
        return self.dashboard.render(request, self.dashboard.sessions.load(request), "login.html", error=None)

    def login(
        self,
        request: Request,
        login: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        """Check the credentials; on success a fresh session and the overview.

        A login or an address with too many recent failures is refused (429) without checking the password,
        and so is any login while all the password-check slots are taken (503): both say when to retry.
        """
        session = self.dashboard.sessions.load(request)
        if not session.csrf_ok(csrf):
            return self.dashboard.render(request, session, "login.html", status=403, error="dash.csrf_failed")
        throttle = self.deps.login_throttle
        address = request.client.host if request.client else ""
        if wait := throttle.retry_after(login, address):
            return self.dashboard.render(
                request,
                session,
                "login.html",
                status=429,
                error="dash.login_throttled",
                headers={"Retry-After": str(wait)},
            )
        with throttle.slot() as free:
            if not free:
                return self.dashboard.render(
                    request,
                    session,
                    "login.html",
                    status=503,
                    error="dash.login_busy",
                    headers={"Retry-After": "1"},
                )
            with self.deps.sessions() as db:
                user = authenticate(db, login, password)
                db.commit()
        if user is None:
            throttle.failed(login, address)
            return self.dashboard.render(
                request, session, "login.html", status=401, error="dash.login_failed"
            )
        throttle.succeeded(login, address)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        self.dashboard.sessions.save(response, session.login(user.id, user.session_generation), request)
        return response

    def logout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        """End the session: this cookie and every copy of it (the account's session generation moves on)."""
        session = self.dashboard.sessions.load(request)
        if not session.csrf_ok(csrf):
            raise HTTPException(403)
        with self.deps.sessions() as db:
            user = db.get(User, session.user_id) if session.user_id else None
            if user is not None and session.current(user.session_generation):
                end_sessions(user)
                db.commit()
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        self.dashboard.sessions.save(response, WebSession(lang=session.lang), request)
        return response

    def switch_lang(self, request: Request, code: str, next: str = f"{PREFIX}/") -> Response:
        """Change the dashboard's language and go back where the trainer was."""
        if code not in set(Lang):
            raise HTTPException(404)
        target = next if next.startswith((f"{PREFIX}/", "/verify/")) else f"{PREFIX}/"
        response = RedirectResponse(target, status_code=303)
        self.dashboard.sessions.save(
            response, self.dashboard.sessions.load(request).with_lang(Lang(code)), request
        )
        return response

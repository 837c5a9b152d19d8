"""Error pages for people: a dashboard route's 403, 404 or failure is a page in the trainer's language.

Other routes (webhooks, `/healthz`) keep FastAPI's JSON; a busy database keeps the web app's 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)
ErrorPage = Callable[[Request, int, Mapping[str, str] | None], Response]
"""Renders the page for a request and a status (with the error's headers)."""


def error_message(status: int) -> str:
    """The catalogue key saying what went wrong, by status."""
    if status == 403:
        return "dash.error_forbidden"
    return "dash.error_failed" if status >= 500 else "dash.error_not_found"


def missing() -> Response:
    """Any other address under the dashboard: not found, as a page."""
    raise HTTPException(404)


def error_pages(page: ErrorPage) -> type[APIRoute]:
    """A route class whose errors are answered by `page`; redirects (the login's 303) pass through."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except HTTPException as exc:
                    if exc.status_code < 400:
                        raise
                    return page(request, exc.status_code, exc.headers)
                except RequestValidationError:
                    return page(request, 422, None)
                except OperationalError:
                    raise
                except Exception as exc:
                    failed = type(exc).__name__
                    log.error("%s %s failed: %s", request.method, request.url.path, failed)  # noqa: TRY400 (no values)
                    return page(request, 500, None)

            return handle

    return PageRoute

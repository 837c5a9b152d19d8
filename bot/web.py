"""The one ASGI web app: channel webhooks and the trainers' dashboard are routers mounted on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app import App
from progress.db import BUSY_RETRY_AFTER

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
"""Webhook bodies are small JSON documents; anything bigger is refused before it is read whole."""


class BodyLimit:
    """Pure ASGI middleware: answers 413 as soon as a request body passes `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the bytes actually received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"request body too large"})


class Background:
    """Runs processing after a webhook has answered, keeping a reference so tasks are not lost."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start `coro`; its failure is logged, never raised into the request."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()):
            log.error("background processing failed: %r", exc)

    async def drain(self) -> None:
        """Wait for everything started so far (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


Startup = Callable[[], Awaitable[None]]


def create_web_app(
    app: App,
    routers: Iterable[APIRouter] = (),
    on_startup: Iterable[Startup] = (),
    on_shutdown: Iterable[Startup] = (),
) -> FastAPI:
    """The web app with the given routers; `/healthz` answers when the database does."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for start in on_startup:
            await start()
        yield
        for stop in on_shutdown:
            await stop()

    web = FastAPI(title="Maalem", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    web.state.maalem = app

    @web.get("/healthz")
    def healthz() -> dict[str, str]:
        with app.sessions() as session:
            session.connection()
        return {"status": "ok"}

    @web.exception_handler(OperationalError)
    def busy(_: Request, exc: OperationalError) -> Response:
        """The database is locked or unreachable: 503, try again soon (never the statement or its values)."""
        log.warning("database busy or unavailable: %s", type(exc.orig).__name__)
        return Response(status_code=503, headers={"Retry-After": str(BUSY_RETRY_AFTER)})

    for router in routers:
        web.include_router(router)
    web.add_middleware(BodyLimit)
    return web

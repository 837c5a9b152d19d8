"""The webhook: a router on our web app that checks Telegram's secret header and commits before answering."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.telegram.channel import TelegramChannel
from progress.db import BUSY_RETRY_AFTER

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
log = logging.getLogger(__name__)


def webhook_router(channel: TelegramChannel, secret: str, path: str = WEBHOOK_PATH) -> APIRouter:
    """POST `path`: 403 without the right secret; else the update is committed, answered, then processed."""
    if not secret:
        raise ValueError("a Telegram webhook needs MAALEM_TELEGRAM_WEBHOOK_SECRET")
    expected = secret.encode()
    router = APIRouter()

    @router.post(path)
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, channel.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            log.warning("Telegram webhook update refused: %s", type(exc).__name__)  # never its content
            update = None
        if update is None:
            return Response(status_code=400)
        try:  # committed here, off the event loop; a failure answers 5xx and Telegram delivers it again
            recorded = await asyncio.to_thread(channel.record_all, [update])
        except OperationalError as exc:
            log.warning("Telegram update not recorded, database busy: %s", type(exc.orig).__name__)
            return Response(status_code=503, headers={"Retry-After": str(BUSY_RETRY_AFTER)})
        channel.answer(recorded)
        return Response(status_code=200)

    return router

"""Telegram's rates: about one message a second per chat after a short burst, about 30 a second in all."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

CHAT_BURST = 3
"""Messages a chat may get at once before the per-chat pace applies (a step is often text, video, voice)."""


class SlidingWindow:
    """At most `rate` requests in any second, as Telegram counts them on arrival (a leaky bucket, like PTB's
    own limiter, lets nearly twice its rate through in the first second of a broadcast).

    Each request holds one of `rate` places from when it leaves until a second after its answer came, so
    however long requests take on the way, no second sees more than `rate` of them arrive.
    """

    def __init__(self, rate: float) -> None:
        size = max(1, math.floor(rate))
        self._period = size / rate
        self._places = asyncio.Semaphore(size)

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """Hold a place for one request (first come, first served)."""
        await self._places.acquire()
        try:
            yield
        finally:
            asyncio.get_running_loop().call_later(self._period, self._places.release)


class ChatRateLimiter(AIORateLimiter):
    """PTB's limiter (20/min per group, `retry_after` honoured), a chat pace and an overall sliding window."""

    def __init__(self, per_chat: float, *, overall: float = 30.0, max_retries: int = 2) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._per_chat = per_chat
        self._chats: dict[int, AsyncLimiter] = {}
        self._overall = SlidingWindow(overall) if overall else None

    async def process_request(  # noqa: PLR0917
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Wait for the chat's turn (private chats), then a place in the overall window (messages to any
        chat, as PTB counts them), then let PTB's limiter do the rest."""
        chat = data.get("chat_id")
        run = super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        if not self._per_chat or not str(chat).isdigit():
            return await self._counted(run, chat)
        async with self._chat(int(chat)):  # type: ignore[arg-type]
            return await self._counted(run, chat)

    async def _counted(self, run: Coroutine[Any, Any, Any], chat: object) -> Any:
        if not chat or self._overall is None:
            return await run
        async with self._overall.place():
            return await run

    def _chat(self, chat: int) -> AsyncLimiter:
        if len(self._chats) > 1024:  # forget chats that have been quiet long enough to be back at full burst
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        if chat not in self._chats:
            self._chats[chat] = AsyncLimiter(CHAT_BURST, CHAT_BURST / self._per_chat)
        return self._chats[chat]

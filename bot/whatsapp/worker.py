"""An event loop in its own thread, so that processing and sending never delay a webhook's acknowledgement."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.web import Background

T = TypeVar("T")


class Worker:
    """Runs coroutines on a private loop in a daemon thread; callers on any loop await their results.

    The webhook's loop only checks, records and answers; everything slower (the unit of work, downloads,
    Graph API calls) runs here, where the operating system, not our own code, shares the CPU between the two.
    """

    def __init__(self, name: str = "whatsapp-worker") -> None:
        self.loop = asyncio.new_event_loop()
        self.background = Background()
        """Tasks started with `spawn` (they live on the worker's loop)."""
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def current(self) -> bool:
        """Whether the caller already runs on the worker's loop."""
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start `coro` on the worker and return at once; a failure is logged there."""
        self.loop.call_soon_threadsafe(self.background.spawn, coro)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the worker and wait for its result (directly when already there)."""
        if self.current():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def drain(self) -> None:
        """Wait for everything spawned so far."""
        await self.run(self.background.drain())

    async def stop(self) -> None:
        """Finish what was spawned, then stop the thread."""
        await self.drain()
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join)
        self.loop.close()

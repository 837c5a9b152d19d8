"""A Maalem process that dies (`os._exit`, like `kill -9`) once an update is committed, before processing it.

Run by tests as `python -m tests.e2e.telegram_crash polling|webhook [UPDATE_JSON]` with `MAALEM_*` set:
- polling: receives by long polling and dies in processing, before confirming the update to Telegram;
- webhook: posts UPDATE_JSON to its own webhook, prints the status answered, then dies before processing.
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

from bot.app import build_app
from bot.settings import Settings
from bot.telegram.channel import Telegram, TelegramChannel
from bot.telegram.polling import poll
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_router
from bot.web import create_web_app

KILLED = 137


async def main(mode: str, update: str | None) -> None:
    """Receive one update the way `mode` does, and die before it is processed."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    telegram = Telegram(settings)
    app = build_app(settings, channels=[telegram])
    channel = TelegramChannel(app, telegram)
    answered = asyncio.Event()

    async def die(inbound_id: int, message: object) -> list[object]:
        await answered.wait()
        os._exit(KILLED)

    app.service.process = die  # type: ignore[method-assign,assignment]
    await channel.start()
    if mode == "polling":
        answered.set()
        await poll(channel, wait=5)
        return
    assert update is not None
    web = create_web_app(app, [webhook_router(channel, os.environ["MAALEM_TELEGRAM_WEBHOOK_SECRET"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://maalem") as client:
        response = await client.post(
            WEBHOOK_PATH,
            content=update,
            headers={SECRET_HEADER: os.environ["MAALEM_TELEGRAM_WEBHOOK_SECRET"]},
        )
    print(response.status_code, flush=True)
    answered.set()
    await asyncio.sleep(30)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))

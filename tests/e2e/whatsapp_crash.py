"""A Maalem process that dies (`os._exit`, like `kill -9`) once a WhatsApp delivery is committed and answered.

Run by tests as `python -m tests.e2e.whatsapp_crash BODY_JSON` with `MAALEM_WHATSAPP_*` set: it posts the
body, signed, to its own webhook, prints the status answered, then dies before processing the message.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import httpx

from bot.app import build_app
from bot.settings import Settings
from bot.web import create_web_app
from bot.whatsapp.channel import WhatsApp
from bot.whatsapp.webhook import PATH
from tests.e2e.whatsapp import sign

KILLED = 137


async def main(body: str) -> None:
    """Receive one delivery on the webhook, and die before it is processed."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    whatsapp = WhatsApp(settings)
    app = build_app(settings, channels=[whatsapp])
    webhook = whatsapp.webhook(app)
    answered = threading.Event()

    async def die(inbound_id: int, message: object) -> list[object]:
        await asyncio.to_thread(answered.wait)  # processing runs on the worker's loop
        os._exit(KILLED)

    app.service.process = die  # type: ignore[method-assign,assignment]
    web = create_web_app(app, [webhook.router()])
    raw = body.encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://maalem") as client:
        response = await client.post(PATH, content=raw, headers={"x-hub-signature-256": sign(raw)})
    print(response.status_code, flush=True)
    answered.set()
    await asyncio.sleep(30)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

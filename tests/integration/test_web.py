"""The shared web app: health check and the body size cap, before any router parses anything."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

from bot.app import App
from bot.web import MAX_BODY_BYTES, create_web_app


async def test_health_and_oversized_bodies_refused_before_parsing(app: App) -> None:
    parsed: list[int] = []
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        parsed.append(len(await request.body()))
        return {"size": parsed[-1]}

    web = create_web_app(app, [router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.post("/echo", content=b"x" * 10)).json() == {"size": 10}

        async def chunks():  # no Content-Length: counted as it arrives
            for _ in range(3):
                yield b"y" * (MAX_BODY_BYTES // 2)

        assert (await client.post("/echo", content=b"z" * (MAX_BODY_BYTES + 1))).status_code == 413
        assert (await client.post("/echo", content=chunks())).status_code == 413
    assert parsed == [10]

"""A local fake of the WhatsApp Cloud (Graph) API: records every call, serves media, enforces the limits.

It answers like Graph: `POST /{phone-number-id}/messages` (with the real limits on buttons, lists and texts,
and errors in Graph's shape), `POST /{phone-number-id}/media`, `GET /{media-id}` with a short-lived download
URL, the download itself (bearer token required), and `GET /{phone-number-id}`. Tests script failures with
`fail_next`, slow sends with `hold_next`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VERSION = "v21.0"
URL_LIFETIME = 300.0
"""Seconds a media download URL works, like Graph's five minutes."""
LIMITS = {"text": 4096, "body": 1024, "button": 20, "row": 24, "description": 72, "caption": 1024}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] = field(default_factory=dict)
    file: bytes | None = None
    wamid: str = ""
    """The id the fake gave a message it accepted."""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Media:
    """A file a user "sent": its bytes and what the metadata claims."""

    content: bytes
    mime: str
    file_size: int


def graph_error(status: int, code: int, message: str) -> JSONResponse:
    """An error in Graph's shape."""
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"details": message},
        }
    }
    return JSONResponse(body, status_code=status)


class ReadyServer(uvicorn.Server):
    """uvicorn, telling when it listens (`await ready.wait()`)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start, then say so."""
        await super().startup(sockets)
        self.ready.set()


class FakeGraphAPI:
    """The fake server; `await start()` serves it on 127.0.0.1 at a free port; `url` is the base to set."""

    def __init__(self, token: str = "EAAGfake" + "Tok3n" * 30, phone_number_id: str = "1055550001") -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.calls: list[Call] = []
        self.media: dict[str, Media] = {}
        self.uploads: dict[str, bytes] = {}
        self.failures: deque[tuple[int, int, str]] = deque()
        self.holds: deque[asyncio.Event] = deque()
        self._accepted = asyncio.Condition()
        self._ids = itertools.count(1)
        self._server: ReadyServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0
        self.app = Starlette(
            routes=[
                Route(f"/{VERSION}/{{number}}/messages", self._messages, methods=["POST"]),
                Route(f"/{VERSION}/{{number}}/media", self._upload, methods=["POST"]),
                Route(f"/{VERSION}/{{object_id}}", self._object, methods=["GET"]),
                Route("/download/{media_id}", self._download, methods=["GET"]),
            ]
        )

    @property
    def url(self) -> str:
        """The Graph base URL (with its version) to put in `MAALEM_WHATSAPP_API_URL`."""
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    async def start(self) -> None:
        """Serve in the running event loop until `stop()`."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = ReadyServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        await self._server.ready.wait()

    async def stop(self) -> None:
        """Stop serving."""
        if self._server and self._task:
            self._server.should_exit = True
            await self._task

    def add_media(self, content: bytes, mime: str, *, file_size: int | None = None) -> str:
        """Make a file available as if a user had sent it; `file_size` is what the metadata will claim."""
        media_id = f"{next(self._ids):06d}"
        self.media[media_id] = Media(content, mime, len(content) if file_size is None else file_size)
        return media_id

    def fail_next(self, status: int, code: int, message: str, times: int = 1) -> None:
        """Make the next `times` sends fail with this Graph error."""
        self.failures.extend([(status, code, message)] * times)

    def hold_next(self) -> asyncio.Event:
        """Make the next send wait (a slow upload, say) until the returned event is set."""
        gate = asyncio.Event()
        self.holds.append(gate)
        return gate

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every message accepted for delivery (refused ones and read receipts left out), in order."""
        return [c.json for c in self.calls if c.wamid and c.json]

    def wamids(self, wa_id: str) -> list[str]:
        """The ids of the messages accepted for one user, in order."""
        return [c.wamid for c in self.calls if c.wamid and c.json and c.json["to"] == wa_id]

    def to(self, wa_id: str) -> list[dict[str, Any]]:
        """The messages delivered to one user."""
        return [m for m in self.sent if m["to"] == wa_id]

    async def sent_to(self, wa_id: str, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` messages in all were delivered to one user; they are returned."""
        async with asyncio.timeout(within), self._accepted:
            await self._accepted.wait_for(lambda: len(self.to(wa_id)) >= count)
        return self.to(wa_id)

    def read_receipts(self) -> list[str]:
        """The wamids marked as read."""
        return [c.json["message_id"] for c in self.calls if c.json and c.json.get("status") == "read"]

    def count(self, suffix: str, method: str = "POST") -> int:
        """How many calls to paths ending with `suffix`."""
        return sum(1 for c in self.calls if c.method == method and c.path.endswith(suffix))

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def _messages(self, request: Request) -> Response:
        payload = await request.json()
        if self.holds and payload.get("status") != "read":
            await self.holds.popleft().wait()
        self.calls.append(Call("POST", request.url.path, json=payload))
        if not self._authorised(request):
            return graph_error(401, 190, "Error validating access token")
        if request.path_params["number"] != self.phone_number_id:
            return graph_error(400, 100, "Unsupported post request: unknown phone number id")
        if payload.get("status") == "read":
            return JSONResponse({"success": True})
        if self.failures:
            status, code, message = self.failures.popleft()
            return graph_error(status, code, message)
        if problem := self._invalid(payload):
            return graph_error(400, 131009, f"Parameter value is not valid: {problem}")
        wamid = f"wamid.fake{next(self._ids):08d}"
        self.calls[-1].wamid = wamid
        async with self._accepted:
            self._accepted.notify_all()
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload["to"], "wa_id": payload["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    def _invalid(self, payload: dict[str, Any]) -> str:
        """What breaks WhatsApp's rules in a message, or an empty string."""
        if payload.get("messaging_product") != "whatsapp" or not payload.get("to"):
            return "envelope"
        kind = payload.get("type")
        body = payload.get(kind) if isinstance(kind, str) else None
        if not isinstance(body, dict):
            return f"no {kind} object"
        if kind == "text":
            return "" if 0 < len(body.get("body", "")) <= LIMITS["text"] else "text body length"
        if kind in {"image", "video", "audio", "document"}:
            if body.get("id") not in self.uploads:
                return "unknown media id"
            return "caption" if len(body.get("caption", "")) > LIMITS["caption"] else ""
        if kind == "template":
            params = [p["text"] for c in body.get("components", []) for p in c.get("parameters", [])]
            return "template parameter" if not body.get("name") or any("\n" in p for p in params) else ""
        if kind == "interactive":
            return self._invalid_interactive(body)
        return f"type {kind}"

    @staticmethod
    def _invalid_interactive(body: dict[str, Any]) -> str:
        text = body.get("body", {}).get("text", "")
        if not 0 < len(text) <= LIMITS["body"]:
            return "interactive body length"
        action = body.get("action", {})
        if body.get("type") == "button":
            buttons = action.get("buttons", [])
            titles = [b["reply"]["title"] for b in buttons]
            if not 0 < len(buttons) <= 3 or len(set(titles)) < len(titles):
                return "buttons count or duplicate titles"
            return "button title" if any(not 0 < len(t) <= LIMITS["button"] for t in titles) else ""
        if body.get("type") == "list":
            rows = [r for s in action.get("sections", []) for r in s.get("rows", [])]
            if not 0 < len(rows) <= 10 or not 0 < len(action.get("button", "")) <= LIMITS["button"]:
                return "list rows or button"
            if any(
                len(r["title"]) > LIMITS["row"] or len(r.get("description", "")) > LIMITS["description"]
                for r in rows
            ):
                return "row title or description"
            return ""
        return "interactive type"

    async def _upload(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("file")
        content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        self.calls.append(Call("POST", request.url.path, form=fields, file=content))
        if not self._authorised(request):
            return graph_error(401, 190, "Error validating access token")
        if fields.get("messaging_product") != "whatsapp" or not fields.get("type") or not content:
            return graph_error(400, 100, "Invalid upload")
        media_id = f"up{next(self._ids):06d}"
        self.uploads[media_id] = content
        return JSONResponse({"id": media_id})

    async def _object(self, request: Request) -> Response:
        object_id = request.path_params["object_id"]
        self.calls.append(Call("GET", request.url.path))
        if not self._authorised(request):
            return graph_error(401, 190, "Error validating access token")
        if object_id == self.phone_number_id:
            return JSONResponse(
                {
                    "verified_name": "Maalem",
                    "display_phone_number": "+212 5 22 00 00 00",
                    "quality_rating": "GREEN",
                    "id": object_id,
                }
            )
        media = self.media.get(object_id)
        if media is None:
            return graph_error(404, 100, "Unsupported get request")
        expires = int(time.time() + URL_LIFETIME)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"http://127.0.0.1:{self.port}/download/{object_id}?expires={expires}",
                "mime_type": media.mime,
                "sha256": hashlib.sha256(media.content).hexdigest(),
                "file_size": media.file_size,
                "id": object_id,
            }
        )

    async def _download(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.calls.append(Call("GET", request.url.path))
        media = self.media.get(media_id)
        if not self._authorised(request):
            return Response(status_code=401)
        if media is None or int(request.query_params.get("expires", "0")) < time.time():
            return Response(status_code=404)
        return Response(media.content, media_type=media.mime)

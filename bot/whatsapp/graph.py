"""A small Graph API client for the WhatsApp Cloud API: messages, media, retries with backoff, a send rate."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from bot.whatsapp.errors import Action, GraphError
from bot.whatsapp.worker import Worker
from lessons.messages import MediaTooLarge

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_PAUSE = 60.0
"""The longest a single backoff waits, whatever the server asks."""


@dataclass(frozen=True)
class MediaInfo:
    """What `GET /{media-id}` says about a file a user sent; the URL works for a few minutes."""

    url: str
    mime_type: str
    file_size: int | None
    sha256: str | None


class RateLimiter:
    """Spaces calls so that at most `rate` start per second."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next call may start."""
        async with self._lock:
            now = asyncio.get_running_loop().time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


class GraphClient:
    """Calls the Graph API for one business phone number; the token travels in a header, never in a URL."""

    def __init__(
        self,
        base_url: str,
        token: str,
        phone_number_id: str,
        *,
        send_rate: float = 60.0,
        retries: int = 4,
        backoff: float = 1.0,
        timeout: float = 30.0,
        worker: Worker | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.retries = retries
        self.backoff = backoff
        self._token = token
        self.limiter = RateLimiter(send_rate)
        self.worker = worker
        """Where every request runs (its loop owns the connections), whichever loop the caller is on."""
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._on_worker(self.http.aclose())

    async def _on_worker(self, coro: Coroutine[Any, Any, T]) -> T:
        return await self.worker.run(coro) if self.worker else await coro

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        params: dict[str, str] | None = None,
        limited: bool = False,
    ) -> dict[str, Any]:
        """One API call, retried with exponential backoff while the error is temporary; `limited` counts it
        against the send rate."""
        request = self._call(method, path, body=body, data=data, files=files, params=params, limited=limited)
        return await self._on_worker(request)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        params: dict[str, str] | None = None,
        limited: bool = False,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            if limited:
                await self.limiter.wait()
            try:
                response = await self.http.request(
                    method, path, json=body, data=data, files=files, params=params
                )
            except httpx.TransportError as exc:
                error = GraphError(0, None, f"network: {type(exc).__name__}")
            else:
                answer = _json(response.content)
                if response.is_success:
                    return answer
                retry_after = response.headers.get("retry-after")
                error = GraphError.from_response(
                    response.status_code, answer, retry_after, secret=self._token
                )
            if error.action is not Action.RETRY or attempt == self.retries:
                raise error
            pause = min(MAX_PAUSE, max(error.retry_after or 0.0, self.backoff * 2**attempt))
            attempt += 1
            log.warning("Graph API %s (try %d), retrying in %.2f s", error, attempt, pause)
            await asyncio.sleep(pause)

    async def send(self, payload: dict[str, Any]) -> str:
        """Send one message (`payload` without the envelope); returns its wamid."""
        envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        answer = await self.call("POST", f"/{self.phone_number_id}/messages", body=envelope, limited=True)
        messages = answer.get("messages")
        return str(messages[0]["id"]) if isinstance(messages, list) and messages else ""

    async def mark_read(self, wamid: str) -> None:
        """Show the user's message as read (blue ticks)."""
        payload = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        await self.call("POST", f"/{self.phone_number_id}/messages", body=payload, limited=True)

    async def upload(self, path: Path, mime: str) -> str:
        """Upload a file for sending; returns its media id (valid for 30 days)."""
        content = await asyncio.to_thread(path.read_bytes)
        answer = await self.call(
            "POST",
            f"/{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (path.name, content, mime)},
        )
        return str(answer["id"])

    async def media_info(self, media_id: str) -> MediaInfo:
        """Where to download a user's file, its type and (usually) its size."""
        answer = await self.call("GET", f"/{media_id}")
        size = answer.get("file_size")
        return MediaInfo(
            url=str(answer["url"]),
            mime_type=str(answer.get("mime_type", "")),
            file_size=int(size) if isinstance(size, int | str) and str(size).isdigit() else None,
            sha256=str(answer["sha256"]) if answer.get("sha256") else None,
        )

    async def download(self, info: MediaInfo, dest: Path, max_bytes: int) -> None:
        """Save the file at `dest`, refusing more than `max_bytes` and a file whose checksum is wrong."""
        await self._on_worker(self._download(info, dest, max_bytes))

    async def _download(self, info: MediaInfo, dest: Path, max_bytes: int) -> None:
        if urlsplit(info.url).scheme != urlsplit(self.base_url).scheme:
            raise GraphError(0, None, "media URL on an unexpected scheme; the token is not sent there")
        chunks: list[bytes] = []
        seen = 0
        async with self.http.stream("GET", info.url) as response:
            if not response.is_success:
                body = _json(await response.aread())
                raise GraphError.from_response(response.status_code, body, secret=self._token)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaTooLarge(declared)
            async for chunk in response.aiter_bytes():
                seen += len(chunk)
                if seen > max_bytes:
                    raise MediaTooLarge(f"over {max_bytes}")
                chunks.append(chunk)
        content = b"".join(chunks)
        digest = hashlib.sha256(content)
        if info.sha256 and info.sha256 not in {
            digest.hexdigest(),
            base64.b64encode(digest.digest()).decode(),
        }:
            raise GraphError(0, None, "downloaded media does not match its sha256")
        await asyncio.to_thread(_write, dest, content)

    async def phone_number(self) -> dict[str, Any]:
        """What Graph knows of our business number (name, display number, quality)."""
        fields = "verified_name,display_phone_number,quality_rating,code_verification_status,throughput"
        return await self.call("GET", f"/{self.phone_number_id}", params={"fields": fields})


def _write(dest: Path, content: bytes) -> None:
    """Write a whole file or nothing (a crash leaves no half file under the final name)."""
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(content)
    part.replace(dest)


def _json(content: bytes) -> dict[str, Any]:
    """A response body as a JSON object, or an empty one."""
    try:
        body = json.loads(content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

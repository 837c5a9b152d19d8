"""A local fake of the Telegram Bot API (aiohttp on 127.0.0.1): queues updates, records calls, serves files.

It speaks what python-telegram-bot sends (form-encoded, multipart uploads and JSON bodies) and answers like
Telegram: `{"ok": true, "result": …}` or an error with `error_code`, `description` and
`parameters.retry_after`.
`FakeChat` plays a Telegram user: it builds the updates a real client would cause.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")
TOKEN = "123456789:AAFakeTokenForTests_only-0123456789abcdef"
"""Shaped like a real token (so the log redaction would recognise it)."""
DOWNLOAD_LIMIT = 20 * 1024 * 1024
JSON_FIELDS = frozenset(
    {"reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities"}
)
SENDS = frozenset({"sendMessage", "sendVideo", "sendPhoto", "sendDocument", "sendVoice", "sendAudio"})
UPLOADS = {"sendVideo": "video", "sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice",
           "sendAudio": "audio"}  # fmt: skip


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Sent:
    """A message the bot sent, as the learner sees it."""

    message_id: int
    chat_id: int
    method: str
    text: str
    """The text, or the caption of a media message."""
    keyboard: list[list[dict[str, str]]]
    kind: str = "text"
    file_id: str | None = None
    uploaded: bool = False
    """True when the file came with the request, False when sent by an earlier file id."""
    at: float = 0.0

    @property
    def buttons(self) -> list[str]:
        """The callback data of every button still shown."""
        return [button["callback_data"] for row in self.keyboard for button in row]


@dataclass
class Failure:
    """An error to answer the next call of a method with."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeFile:
    """A file Telegram holds: uploaded by the bot or sent by a user."""

    data: bytes
    size: int
    path: str


class FakeTelegram:
    """The fake server; start it, point PTB's `base_url`/`base_file_url` at `api_url`/`file_url`."""

    def __init__(self, token: str = TOKEN, first_update_id: int = 500_000) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.sent: dict[int, list[Sent]] = defaultdict(list)
        self.files: dict[str, FakeFile] = {}
        self.downloads: list[str] = []
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.pending: list[dict[str, Any]] = []
        """Updates not yet confirmed by a getUpdates offset past them."""
        self.handed_out: dict[int, float] = {}
        """When each update id was first returned by getUpdates."""
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    # ---------------------------------------------------------------- running

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_post("/_test/push", self._control_push)
        app.router.add_get("/_test/wait", self._control_wait)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        """Stop listening (waiting long polls are let go)."""
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The `base_url` for PTB (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """The `base_file_url` for PTB."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---------------------------------------------------------------- what tests do

    def number(self, update: dict[str, Any]) -> dict[str, Any]:
        """Give an update the next `update_id` unless it has one (a second delivery keeps its id)."""
        update.setdefault("update_id", next(self._update_ids))
        return update

    async def push(self, *updates: dict[str, Any]) -> list[dict[str, Any]]:
        """Queue updates (numbered when new); a waiting getUpdates returns them."""
        for update in updates:
            self.pending.append(self.number(update))
        async with self._changed:
            self._changed.notify_all()
        return list(updates)

    async def confirmed(self, within: float = 10.0) -> None:
        """Wait until every queued update has been confirmed by the bot's next getUpdates."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: not self.pending)

    async def sent_to(self, chat_id: int, count: int, within: float = 10.0) -> list[Sent]:
        """Wait until the bot has sent `count` messages to `chat_id` in all; they are returned."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.sent[chat_id]) >= count)
        return self.sent[chat_id]

    def fail(self, method: str, status: int = 429, *, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` (or `download`s) with an error."""
        description = {
            429: f"Too Many Requests: retry after {retry_after}",
            502: "Bad Gateway",
            403: "Forbidden: bot was blocked by the user",
        }.get(status, "Bad Request")
        for _ in range(times):
            self.failures[method].append(Failure(status, description, retry_after))

    def add_file(self, data: bytes, kind: str = "voice", size: int | None = None) -> str:
        """Hold a file a user sent; `size` may claim more than `data` (a huge file without the bytes)."""
        file_id = f"user-{kind}-{next(self._file_ids)}"
        self.files[file_id] = FakeFile(
            data, len(data) if size is None else size, f"{kind}/file_{file_id}.oga"
        )
        return file_id

    def calls_to(self, method: str) -> list[Call]:
        """Every call of `method`, in order."""
        return [call for call in self.calls if call.method == method]

    # ---------------------------------------------------------------- the Bot API

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, uploads = await _params(request)
        self.calls.append(Call(method, {**params, **dict.fromkeys(uploads, "<upload>")}, time.monotonic()))
        if self.failures[method]:
            failure = self.failures[method].popleft()
            extra = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            return _error(failure.status, failure.description, extra)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params, uploads)
        except BadRequest as exc:
            return _error(400, f"Bad Request: {exc}")
        if method in SENDS:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Maalem",
            "username": "maalem_bot",
        }

    async def _deleteWebhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        return True

    async def _setWebhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        return True

    async def _setMyCommands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        return True

    async def _answerCallbackQuery(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        return True

    async def _getUpdates(self, params: dict[str, Any], uploads: dict[str, bytes]) -> list[dict[str, Any]]:
        offset = int(params["offset"]) if params.get("offset") is not None else None
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            if offset is not None:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
                self._changed.notify_all()
            if not self.pending and timeout:
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: bool(self.pending) or self._closing)
                except TimeoutError:
                    pass
            batch = self.pending[:limit]
        now = time.monotonic()
        for update in batch:
            self.handed_out.setdefault(update["update_id"], now)
        return batch

    async def _sendMessage(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        text = str(params["text"])
        if not text.strip() or len(text.encode("utf-16-le")) // 2 > 4096:
            raise BadRequest("message text is empty or too long")
        return self._deliver("sendMessage", params, text, "text", None, False)

    async def _sendVideo(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return self._send_file("sendVideo", params, uploads)

    async def _sendPhoto(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return self._send_file("sendPhoto", params, uploads)

    async def _sendDocument(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return self._send_file("sendDocument", params, uploads)

    async def _sendVoice(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return self._send_file("sendVoice", params, uploads)

    async def _sendAudio(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        return self._send_file("sendAudio", params, uploads)

    async def _editMessageReplyMarkup(
        self, params: dict[str, Any], uploads: dict[str, bytes]
    ) -> dict[str, Any]:
        chat, message_id = int(params["chat_id"]), int(params["message_id"])
        for sent in self.sent[chat]:
            if sent.message_id == message_id:
                sent.keyboard = (params.get("reply_markup") or {}).get("inline_keyboard", [])
                return self._message(sent)
        raise BadRequest("message to edit not found")

    async def _getFile(self, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise BadRequest("invalid file_id")
        held = self.files[file_id]
        if held.size > DOWNLOAD_LIMIT:
            raise BadRequest("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": held.size,
            "file_path": held.path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        if self.failures["download"]:
            return web.Response(status=self.failures["download"].popleft().status)
        held = next((f for f in self.files.values() if f.path == path), None)
        if held is None:
            return web.Response(status=404)
        return web.Response(body=held.data, content_type="application/octet-stream")

    # ---------------------------------------------------------------- control, for a bot in another process

    async def _control_push(self, request: web.Request) -> web.Response:
        """POST a JSON list of updates to queue; answers their update ids."""
        updates = await self.push(*await request.json())
        return web.json_response([u["update_id"] for u in updates])

    async def _control_wait(self, request: web.Request) -> web.Response:
        """GET `?chats=1,2&after=T`: once each chat got a message sent after monotonic time T, when each did,
        and when every update was handed out."""
        chats = [int(chat) for chat in request.query["chats"].split(",")]
        after = float(request.query["after"])

        def first(chat: int) -> float | None:
            return next((s.at for s in self.sent.get(chat, ()) if s.at >= after), None)

        async with asyncio.timeout(60), self._changed:
            await self._changed.wait_for(lambda: all(first(chat) is not None for chat in chats))
        return web.json_response({"handed_out": self.handed_out, "replied": {c: first(c) for c in chats}})

    # ---------------------------------------------------------------- helpers

    def _send_file(self, method: str, params: dict[str, Any], uploads: dict[str, bytes]) -> dict[str, Any]:
        kind = UPLOADS[method]
        caption = str(params.get("caption") or "")
        if len(caption.encode("utf-16-le")) // 2 > 1024:
            raise BadRequest("message caption is too long")
        if kind in uploads:
            file_id = f"{kind}-{next(self._file_ids)}"
            self.files[file_id] = FakeFile(uploads[kind], len(uploads[kind]), f"{kind}/{file_id}")
            return self._deliver(method, params, caption, kind, file_id, True)
        file_id = str(params.get(kind, ""))
        if file_id not in self.files:
            raise BadRequest("wrong file identifier/HTTP URL specified")
        return self._deliver(method, params, caption, kind, file_id, False)

    def _deliver(
        self, method: str, params: dict[str, Any], text: str, kind: str, file_id: str | None, uploaded: bool
    ) -> dict[str, Any]:
        if "parse_mode" in params:
            raise BadRequest("this fake expects plain text only")
        chat = int(params["chat_id"])
        keyboard = (params.get("reply_markup") or {}).get("inline_keyboard", [])
        sent = Sent(
            next(self._message_ids), chat, method, text, keyboard, kind, file_id, uploaded, time.monotonic()
        )
        self.sent[chat].append(sent)
        return self._message(sent)

    def _message(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private", "first_name": "Learner"},
            "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Maalem"},
        }
        file = {"file_id": sent.file_id, "file_unique_id": f"u{sent.file_id}"}
        if sent.kind == "text":
            message["text"] = sent.text
        else:
            message["caption"] = sent.text
            message[sent.kind] = {
                "video": {**file, "width": 640, "height": 360, "duration": 5},
                "photo": [{**file, "width": 640, "height": 480}],
                "document": {**file, "file_name": "file"},
                "voice": {**file, "duration": 2, "mime_type": "audio/ogg"},
                "audio": {**file, "duration": 2},
            }[sent.kind]
        if sent.keyboard:
            message["reply_markup"] = {"inline_keyboard": sent.keyboard}
        return message

    @contextmanager
    def in_thread(self) -> Iterator[FakeTelegram]:
        """Serve from an event loop of its own in a thread (benchmarks: the bot's loop is left to the bot)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        self._thread_loop = loop
        asyncio.run_coroutine_threadsafe(self.start(), loop).result()
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.close(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    def across(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run one of this fake's coroutines on its thread's loop (`.result()`, or `asyncio.wrap_future`)."""
        assert self._thread_loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._thread_loop)


class BadRequest(Exception):
    """Answered as HTTP 400 with `Bad Request: <message>`."""


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parameters of any encoding PTB uses, JSON-typed fields decoded, and uploaded files' bytes."""
    params: dict[str, Any] = {}
    uploads: dict[str, bytes] = {}
    if request.content_type == "application/json":
        params = await request.json()
    elif request.can_read_body:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                uploads[name] = value.file.read()
            else:
                params[name] = json.loads(value) if name in JSON_FIELDS else value
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params, uploads


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


class FakeChat:
    """A Telegram user in a private chat with the bot: makes the updates their taps and messages cause."""

    def __init__(
        self, fake: FakeTelegram, chat_id: int, first_name: str = "Amina", language: str = "fr"
    ) -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": language}
        self._message_ids = itertools.count(1)

    @property
    def seen(self) -> list[Sent]:
        """Everything the bot sent to this chat, in order."""
        return self.fake.sent[self.chat_id]

    def message(self, **content: Any) -> dict[str, Any]:
        """An update with a new message (`text=…`, `voice={…}`, `sticker={…}`…)."""
        return {"message": self._message(**content)}

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.user["first_name"]},
            "from": self.user,
            **content,
        }

    def edit(self, original: dict[str, Any], text: str) -> dict[str, Any]:
        """An update editing an earlier message's text."""
        return {"edited_message": {**original["message"], "text": text, "edit_date": int(time.time())}}

    def tap(self, data: str) -> dict[str, Any]:
        """An update tapping the newest button with this data still shown."""
        for sent in reversed(self.seen):
            if data in sent.buttons:
                return self.tap_on(sent, data)
        offered = [b for sent in self.seen for b in sent.buttons]
        raise AssertionError(f"no button {data!r} shown; shown: {offered}")

    def tap_on(self, sent: Sent, data: str) -> dict[str, Any]:
        """An update tapping a button of a given message (tapped again, it makes a second, distinct query)."""
        return {
            "callback_query": {
                "id": f"q{next(self._message_ids)}-{self.chat_id}",
                "from": self.user,
                "chat_instance": str(self.chat_id),
                "data": data,
                "message": self.fake._message(sent),
            }
        }

    def voice(self, data: bytes, *, size: int | None = None, duration: int = 3) -> dict[str, Any]:
        """An update with a voice note (OGG/Opus bytes the fake serves for download)."""
        file_id = self.fake.add_file(data, "voice", size)
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        if size is not None:
            voice["file_size"] = size
        return self.message(voice=voice)


async def serve_forever() -> None:
    """Serve until killed, printing the port first (`python -m tests.fakes.telegram_api`)."""
    fake = FakeTelegram()
    await fake.start()
    print(fake.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve_forever())

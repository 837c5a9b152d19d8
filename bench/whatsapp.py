"""WhatsApp webhook acknowledgement time under a sustained rate of messages, while a long transcription runs.

Real HTTP on loopback: a load process posts signed Cloud API deliveries to uvicorn serving our app; the fake
Graph API (in its own process) takes the replies. One learner's voice note starts a transcription that keeps a
worker thread busy for `--transcription` seconds (CPU in native code like Whisper, CPU in Python holding the
GIL, or sleeping) while the others' messages arrive. Goal: p99 acknowledgement ≤ 250 ms, every message
recorded and answered.

Run: `.venv/bin/python -m bench.whatsapp [--rate 20] [--seconds 20] [--transcription 30]`
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.table import median, percentile, table
from bench.turns import ONBOARDING
from bot.app import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from bot.whatsapp.channel import WhatsApp
from lessons.languages import Lang
from progress.models import DeliveryStatus, InboundMessage, InboundStatus, OutboundMessage, OutboxStatus
from speech.tts import EspeakSpeaker
from speech.types import Transcript
from tests.e2e.whatsapp import APP_SECRET, VERIFY_TOKEN, delivery, message, sign, text
from tests.fakes.graph_api import FakeGraphAPI, ReadyServer
from tests.integration.journeys import right_answer

VOICE_LEARNER = "212611111111"
JOURNEY = (*ONBOARDING, *["next", "repeat"] * 20)
"""What each simulated learner taps after saying hello (buttons as WhatsApp reports them)."""


class BusyTranscriber:
    """Stands in for Whisper on a long voice note: keeps its worker thread busy, then returns a transcript."""

    def __init__(self, seconds: float, mode: str) -> None:
        self.seconds = seconds
        self.mode = mode
        self.started = threading.Event()
        self.finished = threading.Event()

    def hears(self, language: str | None) -> bool:
        """Every language."""
        return True

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """Burn `seconds` in the chosen way."""
        self.started.set()
        end = time.monotonic() + self.seconds
        matrix = np.random.default_rng(0).random((300, 300))
        while time.monotonic() < end:
            if self.mode == "native":  # BLAS releases the GIL, as CTranslate2 and torch do
                matrix = matrix @ matrix
                matrix /= np.abs(matrix).max()
            elif self.mode == "python":  # the worst case: pure Python holding the GIL
                sum(i * i for i in range(20_000))
            else:
                time.sleep(0.05)
        self.finished.set()
        return Transcript("on taille au menqach", language or "fr", self.seconds, 0.9)


def _interactive(wa_id: str, data: str, wamid: str | None = None) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": data, "title": data[:20]}}
    return message(wa_id, "interactive", reply, wamid)


def _script(learner: int, step: int) -> dict[str, Any]:
    """Message `step` of learner `learner`: hello, then the journey's taps (wamids unique to the load)."""
    wa_id, wamid = f"2126200{learner:05d}", f"wamid.load-{learner}-{step}"
    if step == 0:
        return text(wa_id, "Bonjour", wamid)
    return _interactive(wa_id, JOURNEY[(step - 1) % len(JOURNEY)], wamid)


def load(url: str, phone_number_id: str, rate: float, seconds: float, learners: int, out: Any) -> None:
    """In its own process: post `rate` signed deliveries a second for `seconds` (open loop); send timings."""

    async def main() -> list[tuple[float, int]]:
        results: list[tuple[float, int]] = []
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

            async def post(entry: dict[str, Any]) -> None:
                raw = json.dumps(delivery(phone_number_id, [entry])).encode()
                started = time.perf_counter()
                response = await http.post(
                    "/whatsapp/webhook", content=raw, headers={"x-hub-signature-256": sign(raw)}
                )
                results.append((time.perf_counter() - started, response.status_code))

            tasks = []
            start = time.perf_counter()
            for n in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(post(_script(n % learners, n // learners))))
            await asyncio.gather(*tasks)
        return results

    out.send(asyncio.run(main()))


@dataclass
class Outcome:
    """One scenario's measurements."""

    latencies: list[float]
    refused: int
    recorded: int
    answered: int
    sent: int
    """Graph API messages we recorded as accepted; -1 when the fake counted otherwise."""
    voice_answered: bool | None
    """Whether the voice note was transcribed and answered (None: no voice note in this scenario)."""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_fake(conn: Any) -> None:
    """In its own process: the fake Graph API, answering the bench's requests on `conn` until told to stop."""

    async def main() -> None:
        fake = FakeGraphAPI()
        await fake.start()
        conn.send((fake.url, fake.token, fake.phone_number_id))
        while (request := await asyncio.to_thread(conn.recv))[0] != "stop":
            conn.send(fake.add_media(*request[1:]) if request[0] == "media" else len(fake.sent))
        await fake.stop()
        conn.send(None)

    asyncio.run(main())


class FakeProcess:
    """The fake Graph API in a child process: Meta is not in our process, so it must not take our CPU time."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve_fake, args=(child,), daemon=True)
        self.process.start()
        self.url, self.token, self.phone_number_id = self.conn.recv()

    def ask(self, *request: object) -> Any:
        """Send a request ("media", bytes, mime → id; "sent" → messages accepted; "stop") and wait."""
        self.conn.send(request)
        return self.conn.recv()

    def stop(self) -> None:
        """Stop the server and the process."""
        self.ask("stop")
        self.process.join()


async def post(http: httpx.AsyncClient, phone_number_id: str, entry: dict[str, Any]) -> None:
    """Post one signed delivery and insist it is accepted."""
    raw = json.dumps(delivery(phone_number_id, [entry])).encode()
    response = await http.post("/whatsapp/webhook", content=raw, headers={"x-hub-signature-256": sign(raw)})
    response.raise_for_status()


async def settled(app: App, transcriber: BusyTranscriber | None, deadline: float) -> None:
    """Wait until every message is processed and every reply sent (and the transcription is over)."""
    while time.monotonic() < deadline:
        with app.sessions() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.status == InboundStatus.RECEIVED)
            )
            unsent = session.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status != "sent")
            )
        if not waiting and not unsent and (transcriber is None or transcriber.finished.is_set()):
            return
        await asyncio.sleep(0.2)


async def scenario(args: argparse.Namespace, mode: str | None) -> Outcome:
    """Serve the app, start a transcription (unless `mode` is None), run the load, check nothing was lost."""
    fake = FakeProcess()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            whatsapp_token=SecretStr(fake.token),
            whatsapp_phone_number_id=fake.phone_number_id,
            whatsapp_app_secret=SecretStr(APP_SECRET),
            whatsapp_verify_token=SecretStr(VERIFY_TOKEN),
            whatsapp_api_url=fake.url,
            whatsapp_send_rate=200,
        )
        transcriber = BusyTranscriber(args.transcription, mode) if mode else None
        whatsapp = WhatsApp(settings)
        app = build_app(settings, channels=[whatsapp], transcriber=transcriber)
        webhook = whatsapp.webhook(app)
        web = create_web_app(app, [webhook.router()])
        gc.freeze()  # as `maalem run` does
        port = free_port()
        server = ReadyServer(
            uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        await server.ready.wait()
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            index, _ = right_answer(app.library.courses["zellige"], 0, Lang.FRENCH)
            await post(http, fake.phone_number_id, text(VOICE_LEARNER, "Bonjour"))  # also warms the server up
            for data in (*ONBOARDING, *["next"] * index):
                await post(http, fake.phone_number_id, _interactive(VOICE_LEARNER, data))
                await webhook.drain()
            if transcriber:
                voice = (
                    EspeakSpeaker(Path(tmp) / "tts")
                    .speak("on taille les pièces au menqach", "fr")
                    .read_bytes()
                )
                media_id = await asyncio.to_thread(fake.ask, "media", voice, "audio/ogg")
                media = {"id": media_id, "mime_type": "audio/ogg", "voice": True}
                await post(http, fake.phone_number_id, message(VOICE_LEARNER, "audio", media))
                await asyncio.to_thread(transcriber.started.wait)
            before = await asyncio.to_thread(_count_inbound, app)
            receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False)
            process = multiprocessing.get_context("spawn").Process(
                target=load, args=(url, fake.phone_number_id, args.rate, args.seconds, args.learners, sender)
            )
            process.start()
            results: list[tuple[float, int]] = await asyncio.to_thread(receiver.recv)
            await asyncio.to_thread(process.join)
            await settled(app, transcriber, time.monotonic() + args.transcription + 120)
        outcome = _outcome(app, await asyncio.to_thread(fake.ask, "sent"), results, before, transcriber)
        server.should_exit = True
        await serving
        await webhook.drain()
        await whatsapp.aclose()
        app.close()
        await asyncio.to_thread(fake.stop)
    return outcome


def _count_inbound(app: App) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(InboundMessage)) or 0)


def _outcome(
    app: App,
    accepted: int,
    results: list[tuple[float, int]],
    before: int,
    transcriber: BusyTranscriber | None,
) -> Outcome:
    with app.sessions() as session:
        inbound = session.scalars(select(InboundMessage).order_by(InboundMessage.id).offset(before)).all()
        answered = set(
            session.scalars(
                select(OutboundMessage.inbound_id).where(
                    OutboundMessage.status == OutboxStatus.SENT,
                    OutboundMessage.inbound_id.in_([m.id for m in inbound]),
                )
            )
        )
        sent = int(session.scalar(select(func.count()).select_from(DeliveryStatus)) or 0)
        voice = session.scalar(
            select(InboundMessage)
            .where(InboundMessage.chat_id == VOICE_LEARNER)
            .order_by(InboundMessage.id.desc())
        )
        voice_replies = session.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.inbound_id == (voice.id if voice else None),
                OutboundMessage.status == OutboxStatus.SENT,
            )
        )
    return Outcome(
        latencies=[latency for latency, _ in results],
        refused=sum(1 for _, status in results if status != 200),
        recorded=sum(1 for m in inbound if m.status == InboundStatus.DONE),
        answered=len(answered),
        sent=sent if accepted == sent else -1,
        voice_answered=None if transcriber is None else transcriber.finished.is_set() and bool(voice_replies),
    )


def main() -> None:
    """Parse arguments, run the scenarios, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=20.0, help="inbound messages per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load lasts")
    parser.add_argument("--learners", type=int, default=40, help="distinct learners writing")
    parser.add_argument("--transcription", type=float, default=30.0, help="seconds the transcription takes")
    parser.add_argument(
        "--modes",
        default="none,native,python",
        help="comma-separated: none (no transcription), native, python, sleep",
    )
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        outcome = asyncio.run(scenario(args, None if mode == "none" else mode))
        lat = outcome.latencies
        label = "no transcription" if mode == "none" else f"{args.transcription:.0f} s transcription ({mode})"
        rows.append(
            [
                label,
                len(lat),
                f"{median(lat) * 1000:.1f}",
                f"{percentile(lat, 99) * 1000:.1f}",
                f"{max(lat) * 1000:.1f}",
                outcome.refused,
                f"{outcome.recorded}/{len(lat)}",
                f"{outcome.answered}/{len(lat)}",
                outcome.sent if outcome.sent >= 0 else "MISMATCH",
                {None: "-", True: "yes", False: "NO"}[outcome.voice_answered],
            ]
        )
    print(
        f"WhatsApp webhook on uvicorn (loopback), {args.rate:g} messages/s for {args.seconds:g} s from "
        f"{args.learners} learners; goal p99 ≤ 250 ms, nothing lost"
    )
    headers = ["scenario", "messages", "ack median ms", "ack p99 ms", "ack max ms", "non-200"]
    print(table([*headers, "recorded", "answered", "Graph sends", "voice answered"], rows))


if __name__ == "__main__":
    main()

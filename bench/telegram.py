"""Text turns through the real python-telegram-bot client and our service, next to a bare PTB echo bot.

Both bots long-poll the same fake Bot API, run in a process of its own so it takes no time from the bot's.
Handling time is measured by the fake: from handing the update out (getUpdates) to receiving the first reply.
CPU time is the bot process's own (`process_time`), so it counts neither the fake's work nor time the machine
gave to others. The two bots take turns for a few rounds, so a machine that gets slower or faster during the
run weighs on both alike; each bot's best round is compared (on a shared machine noise only ever adds time),
beside the percentiles of all rounds pooled. Neither bot is rate limited (the limiter would measure Telegram's
rules, not our cost).

Run: `.venv/bin/python -m bench.telegram [--learners 40] [--rounds 5] [--profile]`
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.table import median, percentile, table
from bench.turns import ONBOARDING
from bot.app import build_app
from bot.settings import Settings
from bot.telegram.adapter import CHANNEL
from bot.telegram.channel import Telegram, TelegramChannel
from bot.telegram.polling import poll
from lessons.languages import Lang
from lessons.messages import Incoming
from tests.fakes.telegram_api import TOKEN

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Fake:
    """The fake Bot API in its own process, driven over its control endpoints."""

    url: str
    client: httpx.AsyncClient

    async def turns(self, texts: dict[int, str]) -> tuple[list[float], float]:
        """Send one text per chat at once; per-update handling times and the wall time until all replied."""
        start = time.monotonic()
        ids = (
            await self.client.post("/_test/push", json=[_text(chat, text) for chat, text in texts.items()])
        ).json()
        query = {"chats": ",".join(map(str, texts)), "after": start}
        log = (await self.client.get("/_test/wait", params=query, timeout=120)).json()
        wall = time.monotonic() - start
        handed = [log["handed_out"][str(i)] for i in ids]
        return [log["replied"][str(chat)] - out for chat, out in zip(texts, handed, strict=True)], wall


@asynccontextmanager
async def fake_server() -> Any:
    """Start `tests.fakes.telegram_api` as a process; stop it after."""
    process = subprocess.Popen(  # noqa: ASYNC220 (one start, before anything is measured)
        [sys.executable, "-m", "tests.fakes.telegram_api"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    url = f"http://127.0.0.1:{process.stdout.readline().strip()}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        try:
            yield Fake(url, client)
        finally:
            process.kill()
            process.wait()


def _text(chat: int, text: str) -> dict[str, Any]:
    message = {"message_id": int(time.monotonic_ns() % 2**31), "date": int(time.time()), "text": text}
    user = {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "fr"}
    return {"message": {**message, "chat": {"id": chat, "type": "private"}, "from": user}}


async def measure(fake: Fake, chats: list[int], texts: list[str]) -> dict[str, list[float]]:
    """Each text a turn per chat: one chat at a time (latency), then all chats at once (throughput)."""
    half = len(chats) // 2
    cpu = time.process_time()
    sequential: list[float] = []
    for chat in chats[:half]:
        for text in texts:
            times, _ = await fake.turns({chat: text})
            sequential += times
    burst: list[float] = []
    walls: list[float] = []
    for text in texts:
        times, wall = await fake.turns(dict.fromkeys(chats[half:], text))
        burst += times
        walls.append(wall)
    cpu = time.process_time() - cpu
    return {"one at a time": sequential, "all at once": burst, "walls": walls, "cpu": [cpu / len(chats) / 2]}


async def ours(
    fake: Fake, learners: int, profile: cProfile.Profile | None, first_chat: int = 20_000
) -> dict[str, list[float]]:
    """Learners at a checkpoint answer by text, wrong then right, through PTB, our service and the outbox."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            telegram_token=SecretStr(TOKEN),
            telegram_api_url=f"{fake.url}/bot",
            telegram_file_url=f"{fake.url}/file/bot",
            telegram_chat_rate=0,
            telegram_send_rate=0,
        )
        telegram = Telegram(settings)
        app = build_app(settings, channels=[telegram])
        channel = TelegramChannel(app, telegram)
        await channel.start()
        course = app.library.courses["zellige"]
        lesson = course.lessons[0]
        at = next(i for i, s in enumerate(lesson.steps) if s.checkpoint)
        checkpoint = lesson.steps[at].checkpoint
        assert checkpoint is not None
        right = " ; ".join(kp.phrasings[Lang.FRENCH][0] for kp in checkpoint.key_points)
        chats = [first_chat + n for n in range(learners)]
        for chat in chats:  # set up straight through the service: not measured
            for n, data in enumerate(("Bonjour", *ONBOARDING, *["next"] * at)):
                kind = "text" if n == 0 else "button"
                await app.service.handle(Incoming(CHANNEL, str(chat), f"setup-{chat}-{n}", kind, data))
        await channel.delivery.flush()
        poller = asyncio.create_task(poll(channel, wait=10))
        if profile:
            profile.enable()
        results = await measure(fake, chats, ["je ne sais pas", right])
        if profile:
            profile.disable()
        poller.cancel()
        await channel.stop()
        app.close()
    return results


async def echo(fake: Fake, learners: int, first_chat: int = 40_000) -> dict[str, list[float]]:
    """A bare python-telegram-bot echo bot: the Updater's polling, one handler, `reply_text`."""

    async def reply(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, reply))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        await application.start()
        results = await measure(fake, [first_chat + n for n in range(learners)], ["je ne sais pas", "x"])
        await application.updater.stop()
        await application.stop()
    return results


def rate(results: dict[str, list[float]]) -> float:
    """Updates per second, all chats at once."""
    return len(results["all at once"]) / sum(results["walls"])


@dataclass
class Bot:
    """One bot's rounds."""

    name: str
    rounds: list[dict[str, list[float]]]

    def pooled(self, phase: str) -> list[float]:
        """Handling times of every round."""
        return [t for r in self.rounds for t in r[phase]]

    def best(self) -> tuple[float, float, float]:
        """The best round's p95 (one at a time), updates/s and CPU per update: a shared machine only adds."""
        return (
            min(percentile(r["one at a time"], 95) for r in self.rounds),
            max(rate(r) for r in self.rounds),
            min(r["cpu"][0] for r in self.rounds),
        )

    def rows(self) -> list[list[object]]:
        """Table rows: pooled latency per phase, then the best round's figures."""
        p95, per_second, cpu = self.best()
        out: list[list[object]] = []
        for phase in ("one at a time", "all at once"):
            samples = self.pooled(phase)
            latency = [f"{median(samples) * 1000:.1f}", f"{percentile(samples, 95) * 1000:.1f}"]
            out.append([self.name, phase, len(samples), *latency])
        out[0] += [f"{p95 * 1000:.1f}", "", f"{cpu * 1000:.2f}"]
        out[1] += ["", f"{per_second:.0f}", ""]
        return out


async def run(learners: int, rounds: int, profile: cProfile.Profile | None) -> list[list[object]]:
    """Both bots in turn, each round against fresh fakes."""
    mine, bare = Bot("maalem", []), Bot("PTB echo", [])
    for n in range(rounds):
        for bot in (mine, bare)[:: 1 if n % 2 == 0 else -1]:
            async with fake_server() as fake:
                if bot is mine:
                    result = await ours(fake, learners, profile, first_chat=20_000 + 1000 * n)
                else:
                    result = await echo(fake, learners, first_chat=40_000 + 1000 * n)
            bot.rounds.append(result)
    pooled_p95 = percentile(mine.pooled("one at a time"), 95) / percentile(bare.pooled("one at a time"), 95)
    (p95, per_second, cpu), (echo_p95, echo_per_second, echo_cpu) = mine.best(), bare.best()
    return [
        *mine.rows(),
        *bare.rows(),
        [
            "ours / echo",
            "cost per update",
            "",
            "",
            f"{pooled_p95:.1f}×",
            f"{p95 / echo_p95:.1f}×",
            f"{echo_per_second / per_second:.1f}× (1/rate)",
            f"{cpu / echo_cpu:.1f}×",
        ],
    ]


PROFILED = (
    ("bot/telegram/channel.py", "receive_all", "updates → Incoming, committed (Service.record_all)"),
    ("telegram/_bot.py", "get_updates", "getUpdates: HTTP and PTB parsing"),
    ("bot/conversation/service.py", "process", "Service.process: the whole unit of work"),
    ("bot/conversation/unit.py", "_transaction", "  its transaction (grading by the rubric included)"),
    ("bot/conversation/unit.py", "_slow", "  grading outside the transaction"),
    ("lessons/rubric.py", "assess", "    the rubric matcher"),
    ("bot/outbox.py", "flush", "Outbox.flush: claim, send, mark sent"),
    ("bot/outbox.py", "_sent", "  marking each message sent (one commit each)"),
    ("bot/telegram/sender.py", "send", "  TelegramSender.send: Bot API calls"),
)


def where_time_goes(profile: cProfile.Profile, turns: int) -> list[list[object]]:
    """CPU time per measured turn in the functions that matter (cProfile: time on the stack, not waiting)."""
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    out = []
    for path, name, what in PROFILED:
        cumulative = sum(v[3] for (file, _, func), v in stats.items() if file.endswith(path) and func == name)
        out.append([what, f"{cumulative / turns * 1000:.2f}"])
    return out


def main() -> None:
    """Parse arguments, run, print the table (and where our time goes, when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5, help="turns each bot takes (alternating)")
    parser.add_argument("--profile", action="store_true", help="profile our bot's measured turns (cProfile)")
    args = parser.parse_args()
    profile = cProfile.Profile() if args.profile else None
    result = asyncio.run(run(args.learners, args.rounds, profile))
    print(
        f"Text turns on Telegram (fake Bot API in its own process), {args.learners} chats per bot and round, "
        f"{args.rounds} rounds"
    )
    headers = [
        "bot",
        "turns",
        "count",
        "median ms",
        "p95 ms",
        "best round: p95 ms",
        "updates/s",
        "CPU ms/update",
    ]
    print(table(headers, result))
    if profile:
        print("\nWhere our time goes, CPU ms per text turn (under cProfile, which slows everything ~2×)")
        print(table(["step", "ms/turn"], where_time_goes(profile, 2 * args.learners * args.rounds)))


if __name__ == "__main__":
    main()

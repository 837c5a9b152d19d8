"""Text turns per second through the conversation service on SQLite, with median and p95 time per turn.

Run: `.venv/bin/python -m bench.turns [--learners 50]`
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.table import median, percentile, table
from bot.app import build_app
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from lessons.languages import Lang

ONBOARDING = (
    "lang:fr",
    "consent:adult",
    "name:skip",
    "address:skip",
    "region:fes-meknes",
    "craft:zellige",
    "cooperative:skip",
    "course:zellige",
)


async def _timed(samples: list[float], coro_factory: object) -> None:
    start = time.perf_counter()
    await coro_factory()  # type: ignore[operator]
    samples.append(time.perf_counter() - start)


async def run(learners: int) -> list[list[object]]:
    """Onboard `learners`, walk each through lesson one, and time every kind of turn."""
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp)), senders={CHANNEL: (sender := MemorySender())})
        course = app.library.courses["zellige"]
        lesson = course.lessons[0]
        checkpoint_at = next(i for i, s in enumerate(lesson.steps) if s.checkpoint)
        checkpoint = lesson.steps[checkpoint_at].checkpoint
        assert checkpoint is not None
        right = " ; ".join(kp.phrasings[Lang.FRENCH][0] for kp in checkpoint.key_points)
        kinds: dict[str, list[float]] = {"first message": [], "button": [], "text answer": []}
        wall = time.perf_counter()
        for n in range(learners):
            user = MemoryUser(app, sender, f"bench-{n}")
            await _timed(kinds["first message"], lambda u=user: u.say("Bonjour"))
            for action in ONBOARDING:
                await _timed(kinds["button"], lambda u=user, a=action: u.press(a))
            for _ in range(checkpoint_at):
                await _timed(kinds["button"], lambda u=user: u.press("next"))
            await _timed(kinds["text answer"], lambda u=user: u.say("je ne sais pas"))
            await _timed(kinds["text answer"], lambda u=user, r=right: u.say(r))
        wall = time.perf_counter() - wall
        app.close()
    every = [t for samples in kinds.values() for t in samples]
    rows = [
        [kind, len(s), f"{len(s) / sum(s):.0f}", f"{median(s) * 1000:.2f}", f"{percentile(s, 95) * 1000:.2f}"]
        for kind, s in [*kinds.items(), ("all turns", every)]
    ]
    rows.append(["wall clock", len(every), f"{len(every) / wall:.0f}", "", ""])
    return rows


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=50)
    args = parser.parse_args()
    rows = asyncio.run(run(args.learners))
    print(f"Conversation service, SQLite, {args.learners} learners, in-memory channel")
    print(table(["turn", "count", "turns/s", "median ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()

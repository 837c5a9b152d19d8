"""Progress at scale: 100,000 learners and 1,000,000 answers; dashboard pages and the reminder sweep.

Seeds SQLite (and PostgreSQL when its binaries are installed) with executemany / COPY, then measures the
overview and a filtered learners page through the real web app (median of several requests), the reminder
sweep's selection of every due learner (time, and the peak of Python memory while selecting: it must not grow
with the number of learners), and a whole sweep that claims and queues the reminders of a tenth of them.

Run: `.venv/bin/python -m bench.progress [--learners 100000] [--answers 1000000] [--no-postgres]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, Table, text

from bench.table import median, table
from bot.app import App, build_app
from bot.memory import CHANNEL, MemorySender
from bot.settings import Settings
from bot.web import create_web_app
from progress.accounts import add_trainer
from progress.dashboard import dashboard_router
from progress.models import Answer, ChannelIdentity, Enrolment, StepProgress, User
from progress.reminders import Sweeper
from progress.rollups import roll_up_activity
from progress.rules import zone
from progress.schedule import DEFAULT_FILE, load_calendar
from tests.postgres import postgres_server

PASSWORD = "bench password, long enough"
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
"""A Monday, 11:30 in Casablanca: a decent hour to write."""
CHUNK = 50_000


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stamp(moment: datetime, sqlite: bool) -> Any:
    """A UTC time as each driver takes it raw (SQLite: the text SQLAlchemy writes)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


def _load(engine: Engine, model: Any, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk load: executemany on SQLite (own connection, no fsync), COPY on PostgreSQL; returns the rows."""
    table_: Table = model.__table__
    count = 0
    if engine.dialect.name == "sqlite":
        with contextlib.closing(sqlite3.connect(str(engine.url.database))) as raw:
            raw.execute("PRAGMA synchronous=OFF")  # a benchmark's data: it need not survive a power cut
            sql = f"INSERT INTO {table_.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for chunk in _chunks(rows):
                raw.executemany(sql, chunk)
                count += len(chunk)
            raw.commit()
        return count
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table_.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def seed(app: App, learners: int, answers: int) -> float:
    """Learners in every region (a third in sample cooperatives), silent 3 to 16 days: all due a reminder."""
    engine = app.engine
    sqlite = engine.dialect.name == "sqlite"
    rng = random.Random(6)
    regions = sorted(app.library.regions)
    coops = sorted(app.library.cooperatives.values(), key=lambda c: c.code)
    courses = sorted(app.library.courses.values(), key=lambda c: c.id)
    steps = {c.id: [(lesson.id, s.id) for lesson in c.lessons for s in lesson.steps] for c in courses}
    checkpoints = {
        c.id: [(lesson.id, s.id) for lesson in c.lessons for s in lesson.steps if s.checkpoint]
        for c in courses
    }
    with engine.connect() as conn:
        first = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM users")).scalar_one()) + 1
    ids = range(first, first + learners)
    profile = []
    for uid in ids:
        coop = rng.choice(coops) if rng.random() < 1 / 3 else None
        region = coop.region if coop else rng.choice(regions)
        silent = timedelta(days=rng.uniform(3, 16))
        profile.append((uid, region, coop.code if coop else None, rng.choice(courses).id, silent))
    start = time.perf_counter()
    _load(
        engine,
        User,
        [
            "id",
            "role",
            "display_name",
            "language",
            "stage",
            "region_code",
            "cooperative_code",
            "craft_code",
            "current_course_id",
            "spoken_feedback",
            "reminders_paused",
            "created_at",
            "last_active_at",
        ],
        (
            (
                uid,
                "apprentice",
                f"learner {uid}",
                "ary" if uid % 2 else "fr",
                "ready",
                region,
                coop,
                "zellige",
                course,
                False,
                False,
                _stamp(NOW - timedelta(days=200), sqlite),
                _stamp(NOW - silent, sqlite),
            )
            for uid, region, coop, course, silent in profile
        ),
    )
    _load(
        engine,
        ChannelIdentity,
        ["user_id", "channel", "external_id"],
        ((uid, CHANNEL, f"chat-{uid}") for uid, *_ in profile),
    )
    positions = {}
    enrolment_rows = []
    for uid, _, _, course, silent in profile:
        reached = rng.randrange(len(steps[course]))
        positions[uid] = reached
        lesson_id = steps[course][reached][0]
        lesson_start = next(i for i, (lesson, _) in enumerate(steps[course]) if lesson == lesson_id)
        done_at = _stamp(NOW - silent, sqlite) if rng.random() < 0.1 else None
        started, updated = _stamp(NOW - timedelta(days=100), sqlite), _stamp(NOW - silent, sqlite)
        enrolment_rows.append(
            (uid, course, lesson_id, reached - lesson_start, 0, False, False, done_at, started, updated)
        )
    _load(
        engine,
        Enrolment,
        [
            "user_id",
            "course_id",
            "lesson_id",
            "step_index",
            "attempts",
            "asking",
            "lesson_done",
            "completed_at",
            "started_at",
            "updated_at",
        ],
        iter(enrolment_rows),
    )
    _load(
        engine,
        StepProgress,
        ["user_id", "course_id", "lesson_id", "step_id", "completed_at"],
        (
            (
                uid,
                course,
                *steps[course][n],
                _stamp(NOW - silent - timedelta(hours=positions[uid] - n), sqlite),
            )
            for uid, _, _, course, silent in profile
            for n in range(positions[uid])
        ),
    )
    per_learner = answers // learners

    def answer_rows() -> Iterator[tuple[Any, ...]]:
        for uid, _, _, course, silent in profile:
            for n in range(per_learner):
                lesson_id, step_id = checkpoints[course][n % len(checkpoints[course])]
                at = NOW - silent - timedelta(days=rng.uniform(0, 60))
                passed = rng.random() < 0.6
                yield (uid, course, lesson_id, step_id, "réponse", passed, "rubric", 0.8, _stamp(at, sqlite))

    _load(
        engine,
        Answer,
        [
            "user_id",
            "course_id",
            "lesson_id",
            "step_id",
            "text",
            "passed",
            "graded_by",
            "confidence",
            "created_at",
        ],
        answer_rows(),
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO review_items (answer_id, reason, status, created_at) "
                "SELECT id, 'uncertain', 'open', created_at FROM answers WHERE id % 97 = 0"
            )
        )
        if not sqlite:
            conn.execute(text("SELECT setval('users_id_seq', (SELECT MAX(id) FROM users))"))
        else:
            conn.execute(text("ANALYZE"))
    if not sqlite:  # as autovacuum would after a bulk load: statistics, and the map for index-only scans
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - start


async def _median_ms(client: httpx.AsyncClient, url: str, runs: int) -> float:
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        response = await client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return median(samples[1:]) * 1000  # the first request warms caches


async def pages(app: App, runs: int) -> list[tuple[str, float]]:
    """Median time of dashboard pages for an admin and a cooperative trainer."""
    with app.sessions() as session:
        add_trainer(session, "bench-admin", PASSWORD, admin=True)
        add_trainer(session, "bench-coop", PASSWORD, cooperative="FES-ZEL-01")
        session.commit()
    web = create_web_app(app, [dashboard_router(app.dashboard_deps())])
    results = []
    for login, label in (("bench-admin", "admin"), ("bench-coop", "cooperative trainer")):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://bench"
        ) as client:
            form = await client.get("/dashboard/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token
            await client.post(
                "/dashboard/login", data={"login": login, "password": PASSWORD, "csrf": token.group(1)}
            )
            results.append((f"overview ({label})", await _median_ms(client, "/dashboard/", runs)))
            filtered = "/dashboard/learners?region=fes-meknes&course=zellige&status=at_risk"
            results.append((f"learners, filtered ({label})", await _median_ms(client, filtered, runs)))
            page2 = await client.get(filtered)
            after = re.search(r"before=(\d+)", page2.text)
            if after:
                results.append(
                    (
                        f"learners, page 2 ({label})",
                        await _median_ms(client, f"{filtered}&before={after.group(1)}", runs),
                    )
                )
    return results


def sweep(app: App) -> list[tuple[str, str]]:
    """Selecting every due learner (time, peak memory), a tenth of them, then a whole sweep."""
    calendar = load_calendar(app.settings.content_dir / DEFAULT_FILE)
    narrow = calendar.model_copy(
        update={"normal": calendar.normal.model_copy(update={"inactive_days": [15]})}
    )
    out = []
    for label, used in (("all due", calendar), ("a tenth due", narrow)):
        sweeper = Sweeper(app.sessions, app.library, app.catalog, app.notifier, used)
        with app.sessions() as session:
            start = time.perf_counter()
            due = sum(len(batch) for batch in sweeper.due_reminders(session, NOW))
            elapsed = time.perf_counter() - start
            tracemalloc.start()
            sum(len(batch) for batch in sweeper.due_reminders(session, NOW))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        out.append(
            (
                f"reminder selection, {label}: {due:,} learners",
                f"{elapsed * 1000:.0f} ms, peak {peak / 2**20:.1f} MiB",
            )
        )
    sweeper = Sweeper(app.sessions, app.library, app.catalog, app.notifier, narrow)
    start = time.perf_counter()
    sent = sweeper.reminders(NOW)
    elapsed = time.perf_counter() - start
    out.append(
        (
            f"whole sweep, a tenth due: {sent:,} claimed and queued",
            f"{elapsed:.1f} s ({sent / elapsed:,.0f}/s)",
        )
    )
    start = time.perf_counter()
    again = sweeper.reminders(NOW)
    out.append((f"the same sweep again: {again} queued", f"{time.perf_counter() - start:.1f} s"))
    return out


def run(url: str | None, backend: str, learners: int, answers: int, runs: int) -> list[list[object]]:
    """Seed one backend and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=url)
        app = build_app(settings, senders={CHANNEL: MemorySender()})
        seconds = seed(app, learners, answers)
        rows: list[list[object]] = [
            [backend, f"seed {learners:,} learners, {answers:,} answers", f"{seconds:.1f} s"]
        ]
        start = time.perf_counter()
        read = roll_up_activity(app.sessions, zone(settings.timezone))
        rows.append(
            [backend, f"activity roll-up, first run: {read:,} rows", f"{time.perf_counter() - start:.1f} s"]
        )
        rows += [[backend, name, f"{ms:.0f} ms"] for name, ms in asyncio.run(pages(app, runs))]
        rows += [[backend, name, value] for name, value in sweep(app)]
        app.close()
    return rows


def main() -> None:
    """Parse arguments, run on SQLite then PostgreSQL, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="requests per page (median)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = run(None, "SQLite", args.learners, args.answers, args.runs)
    if not args.no_postgres:
        with postgres_server() as url:
            if url is None:
                print("(PostgreSQL not installed: SQLite only)")
            else:
                rows += run(url, "PostgreSQL", args.learners, args.answers, args.runs)
    print(table(["database", "measure", "result"], rows))


if __name__ == "__main__":
    main()

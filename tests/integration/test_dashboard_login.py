"""Dashboard login throttling: a growing lockout per login and per address, and bounded password checks."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from bot.app import App
from bot.memory import MemorySender
from bot.settings import Settings
from bot.web import create_web_app
from progress.dashboard.throttle import LoginThrottle
from progress.web import progress_parts
from tests.integration.dashboard_world import PASSWORD, add_trainers, csrf_of, login, world_app

Browser = Callable[[str], httpx.AsyncClient]


class Clock:
    """Monotonic time that the test moves on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(clock=clock)


@pytest.fixture
def app(settings: Settings, memory: MemorySender) -> Iterator[App]:
    """The app with its three trainers."""
    built = world_app(settings.model_copy(update={"db_busy_timeout": 1.0}), memory)
    add_trainers(built)
    yield built
    built.close()


@pytest.fixture
async def browser(app: App, throttle: LoginThrottle) -> AsyncIterator[Browser]:
    """Browsers (cookie-keeping clients) from any address, on one web app whose throttle runs on `clock`."""
    deps = dataclasses.replace(app.dashboard_deps(), login_throttle=throttle)
    web = create_web_app(app, progress_parts(deps).routers)
    opened: list[httpx.AsyncClient] = []

    def open_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=web, client=(address, 40000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://dash.test"))
        return opened[-1]

    yield open_from
    for client in opened:
        await client.aclose()


async def test_repeated_wrong_passwords_lock_the_login_for_a_growing_delay(
    browser: Browser, clock: Clock
) -> None:
    client = browser("10.0.0.1")
    for _ in range(5):
        assert (await login(client, "fes", "a wrong password")).status_code == 401
    locked = await login(client, "fes")
    assert locked.status_code == 429 and locked.headers["retry-after"] == "30"
    assert "Trop de tentatives incorrectes" in locked.text
    await client.get("/dashboard/lang/en")
    assert "Too many wrong attempts" in (await login(client, "FES ")).text  # the same login, however typed
    assert (await login(browser("10.0.0.2"), "fes")).status_code == 429  # from anywhere
    assert (await login(client, "admin")).status_code == 303  # other accounts are not locked
    clock.now += 31
    assert (await login(client, "fes", "still wrong")).status_code == 401
    assert (await login(client, "fes")).headers["retry-after"] == "60"  # each failure doubles the wait
    clock.now += 61
    assert (await login(client, "fes")).status_code == 303
    assert (await client.get("/dashboard/")).status_code == 200
    assert (await login(client, "fes", "wrong again")).status_code == 401  # a success starts the count over


async def test_many_failures_from_one_address_lock_that_address_only(browser: Browser, clock: Clock) -> None:
    guesser = browser("10.0.0.9")
    for n in range(20):
        assert (await login(guesser, f"guess-{n}", "a wrong password")).status_code == 401
    assert (await login(guesser, "admin", PASSWORD)).status_code == 429
    assert (await login(browser("10.0.0.10"), "admin", PASSWORD)).status_code == 303


async def test_password_checks_beyond_the_free_slots_are_refused_at_once(
    browser: Browser, throttle: LoginThrottle
) -> None:
    client = browser("10.0.0.1")
    with throttle.slot(), throttle.slot(), throttle.slot(), throttle.slot() as last:
        assert last
        busy = await login(client, "fes")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "Le serveur vérifie déjà beaucoup de connexions" in busy.text
    assert (await login(client, "fes")).status_code == 303


async def test_a_locked_database_is_answered_503_soon_not_after_a_long_wait(
    browser: Browser, app: App
) -> None:
    client = browser("10.0.0.1")
    await login(client, "fes")
    page = await client.get("/dashboard/")
    holder = sqlite3.connect(app.settings.data_dir / "maalem.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        start = time.monotonic()
        busy = await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert time.monotonic() - start < 3
    finally:
        holder.rollback()
        holder.close()
    assert (await client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})).status_code == 303

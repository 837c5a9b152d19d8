"""Shared fixtures: an app on a fresh SQLite file, the in-memory channel, and a guard against the network."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import App, build_app
from bot.memory import CHANNEL, MemorySender, MemoryUser
from bot.settings import Settings
from bot.terminal import LocalFileFetcher
from progress.db import make_engine
from tests.postgres import postgres_server

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def _loopback(address: Any) -> bool:
    if isinstance(address, tuple):
        host = address[0]
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"
    return True  # unix sockets


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a non-loopback address."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise RuntimeError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise RuntimeError(f"test tried to reach the network: {address}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for this test session; the tests that need it skip where none can run."""
    with postgres_server() as url:
        if url is None:
            pytest.skip("PostgreSQL is not installed here")
        yield url


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated from the developer's environment and `.env`."""
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("MAALEM_"):
            monkeypatch.delenv(name)
    return Settings(data_dir=tmp_path / "data", content_dir=CONTENT, models_dir=tmp_path / "models")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    """A fresh database on each backend (PostgreSQL when the machine has it)."""
    if request.param == "sqlite":
        yield settings.resolved_database_url()
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"test_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server.render_as_string(hide_password=False)).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def memory() -> MemorySender:
    """The in-memory channel's outbox view."""
    return MemorySender()


@pytest.fixture
def app(settings: Settings, memory: MemorySender) -> Iterator[App]:
    """The whole app on a fresh SQLite database, talking through the in-memory channel."""
    built = build_app(settings, senders={CHANNEL: memory}, fetchers={CHANNEL: LocalFileFetcher(20_000_000)})
    yield built
    built.close()


@pytest.fixture
def learner(app: App, memory: MemorySender) -> MemoryUser:
    """A new learner on the in-memory channel."""
    return MemoryUser(app, memory, "learner-1")

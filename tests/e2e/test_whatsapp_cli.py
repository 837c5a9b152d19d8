"""`maalem whatsapp check`, and `maalem run` serving the webhook: processes against the fake Graph API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from bot.cli import cli
from progress.models import InboundMessage, OutboundMessage
from tests.e2e.whatsapp import APP_SECRET, VERIFY_TOKEN, delivery, sign, text
from tests.fakes.graph_api import FakeGraphAPI

ROOT = Path(__file__).resolve().parents[2]
MAALEM = str(Path(sys.executable).parent / "maalem")
runner = CliRunner()
LEARNER = "212600000031"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphAPI]:
    """The fake Graph API, serving."""
    server = FakeGraphAPI()
    await server.start()
    yield server
    await server.stop()


def environment(fake: FakeGraphAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment configured for WhatsApp against the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAALEM_")}
    templates = {"reminder": {"name": "maalem_reminder", "language": "fr"}}
    return {
        **env,
        "MAALEM_DATA_DIR": str(tmp_path / "data"),
        "MAALEM_WHATSAPP_TOKEN": fake.token,
        "MAALEM_WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
        "MAALEM_WHATSAPP_APP_SECRET": APP_SECRET,
        "MAALEM_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "MAALEM_WHATSAPP_API_URL": fake.url,
        "MAALEM_WHATSAPP_TEMPLATES": json.dumps(templates),
        **extra,
    }


async def check(env: dict[str, str]) -> tuple[int, str, str]:
    """`maalem whatsapp check` in this process (in a thread: the fake serves on this loop)."""
    result = await asyncio.to_thread(runner.invoke, cli, ["whatsapp", "check"], env=env)
    return result.exit_code, result.stdout, result.stderr


async def test_check_reports_the_number_and_the_templates(fake: FakeGraphAPI, tmp_path: Path) -> None:
    code, out, err = await check(environment(fake, tmp_path))
    assert code == 0, err
    assert "Maalem" in out and "GREEN" in out
    assert "template for reminder: maalem_reminder (fr)" in out
    assert "template for digest: none" in out
    assert fake.count(f"/{fake.phone_number_id}", "GET") == 1


async def test_check_explains_a_refused_token_without_showing_it(fake: FakeGraphAPI, tmp_path: Path) -> None:
    env = environment(fake, tmp_path, MAALEM_WHATSAPP_TOKEN="EAAG" + "wrong" * 10)
    code, out, err = await check(env)
    assert code == 1
    assert "190" in err and "fix_account" in err
    assert "wrong" * 10 not in out + err


async def test_check_names_the_missing_settings(fake: FakeGraphAPI, tmp_path: Path) -> None:
    env = {k: v for k, v in environment(fake, tmp_path).items() if k != "MAALEM_WHATSAPP_APP_SECRET"}
    code, _, err = await check(env)
    assert code == 1 and "MAALEM_WHATSAPP_APP_SECRET" in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def maalem_run(env: dict[str, str], cwd: Path) -> AsyncIterator[httpx.AsyncClient]:
    """`maalem run` on a free port, and a client to it once it answers; stopped (and checked) after."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        MAALEM,
        "run",
        env={**env, "MAALEM_WEB_PORT": str(port)},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            yield http
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert env["MAALEM_WHATSAPP_TOKEN"] not in err.decode()


async def received(fake: FakeGraphAPI, wa_id: str) -> list[dict[str, Any]]:
    """What `wa_id` got, once something came (or after five seconds)."""
    with contextlib.suppress(TimeoutError):
        await fake.sent_to(wa_id, 1)
    return fake.to(wa_id)


async def test_run_serves_the_webhook_and_answers(fake: FakeGraphAPI, tmp_path: Path) -> None:
    async with maalem_run(environment(fake, tmp_path), tmp_path) as http:
        raw = json.dumps(delivery(fake.phone_number_id, [text(LEARNER, "Bonjour")])).encode()
        response = await http.post(
            "/whatsapp/webhook", content=raw, headers={"x-hub-signature-256": sign(raw)}
        )
        assert response.status_code == 200
        [welcome] = await received(fake, LEARNER)
    assert welcome["interactive"]["type"] == "list"


async def test_killed_after_commit_the_delivery_is_processed_once_after_restart(
    fake: FakeGraphAPI, tmp_path: Path
) -> None:
    env = environment(fake, tmp_path)
    body = json.dumps(delivery(fake.phone_number_id, [text(LEARNER, "Bonjour")]))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.whatsapp_crash",
        body,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 137
    assert out.decode().split() == ["200"]  # Meta was told it arrived: it will not deliver it again
    assert fake.sent == []  # it died before answering

    async with maalem_run(env, tmp_path):  # a fresh process on the same data
        [welcome] = await received(fake, LEARNER)
        await asyncio.sleep(0.5)  # time for a second answer, were there one
    assert welcome["interactive"]["type"] == "list" and len(fake.to(LEARNER)) == 1
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'maalem.db'}")
    with engine.connect() as connection:
        assert connection.scalars(select(InboundMessage.status)).all() == ["done"]
        assert connection.scalars(select(OutboundMessage.status)).all() == ["sent"]
    engine.dispose()

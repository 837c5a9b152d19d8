"""`maalem whatsapp check`, and `maalem run` serving the webhook: processes against the fake Graph API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import cli
from tests.e2e.whatsapp import APP_SECRET, VERIFY_TOKEN, delivery, sign, text
from tests.fakes.graph_api import FakeGraphAPI

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


async def test_run_serves_the_webhook_and_answers(fake: FakeGraphAPI, tmp_path: Path) -> None:
    port = free_port()
    env = environment(fake, tmp_path, MAALEM_WEB_PORT=str(port))
    process = await asyncio.create_subprocess_exec(
        MAALEM, "run", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            raw = json.dumps(delivery(fake.phone_number_id, [text(LEARNER, "Bonjour")])).encode()
            response = await http.post(
                "/whatsapp/webhook", content=raw, headers={"x-hub-signature-256": sign(raw)}
            )
            assert response.status_code == 200
            for _ in range(100):
                if fake.to(LEARNER):
                    break
                await asyncio.sleep(0.05)
        [welcome] = fake.to(LEARNER)
        assert welcome["interactive"]["type"] == "list"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert fake.token not in err.decode()

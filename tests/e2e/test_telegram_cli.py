"""`maalem run` with a Telegram token, and `maalem telegram set-webhook|delete-webhook`, on the fake."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.settings import Settings
from tests.e2e.telegram_world import SECRET
from tests.fakes.telegram_api import FakeChat, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake Bot API on a thread of its own (the command line runs its own event loop)."""
    with FakeTelegram().in_thread() as running:
        yield running


@pytest.fixture
def env(settings: Settings, fake: FakeTelegram) -> dict[str, str]:
    """`MAALEM_*` for a bot on the fake."""
    return {
        "MAALEM_DATA_DIR": str(settings.data_dir),
        "MAALEM_CONTENT_DIR": str(settings.content_dir),
        "MAALEM_TELEGRAM_TOKEN": fake.token,
        "MAALEM_TELEGRAM_API_URL": fake.api_url,
        "MAALEM_TELEGRAM_FILE_URL": fake.file_url,
        "MAALEM_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "MAALEM_TELEGRAM_CHAT_RATE": "0",
    }


def test_set_and_delete_the_webhook(fake: FakeTelegram, env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["telegram", "set-webhook", "https://maalem.example.org/"], env=env)
    assert result.exit_code == 0, result.output
    [call] = fake.calls_to("setWebhook")
    assert call.params["url"] == "https://maalem.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert runner.invoke(cli, ["telegram", "delete-webhook"], env=env).exit_code == 0
    assert len(fake.calls_to("deleteWebhook")) == 1
    no_secret = runner.invoke(
        cli, ["telegram", "set-webhook", "https://x"], env={**env, "MAALEM_TELEGRAM_WEBHOOK_SECRET": ""}
    )
    assert no_secret.exit_code == 1 and "WEBHOOK_SECRET" in no_secret.output


def test_run_polls_telegram_until_stopped(fake: FakeTelegram, env: dict[str, str]) -> None:
    update = fake.number(FakeChat(fake, 1001).message(text="Bonjour"))
    fake.across(fake.push(update)).result()
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "run"],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not fake.sent[1001] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "lang:fr" in fake.sent[1001][0].buttons
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors.decode()
    assert fake.token not in errors.decode()


def test_run_with_a_refused_token_says_so(fake: FakeTelegram, env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["run"], env={**env, "MAALEM_TELEGRAM_TOKEN": "1:wrong"})
    assert result.exit_code == 1 and "Telegram" in result.output

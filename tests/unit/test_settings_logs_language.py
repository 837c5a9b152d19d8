"""Settings, log redaction and language guessing."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.logs import RedactingFilter, redact
from bot.settings import Settings
from lessons.language_guess import guess_language
from lessons.languages import Lang

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def test_config_masks_secrets(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAALEM_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("MAALEM_DATABASE_URL", "postgresql://maalem:hunter2@db/maalem")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    assert TOKEN not in result.output and "hunter2" not in result.output
    assert '"telegram_token": "********"' in result.output
    assert "postgresql://********@db/maalem" in result.output


def test_dotenv_is_read(settings: Settings, tmp_path: object) -> None:
    with open(".env", "w") as env:
        env.write("MAALEM_DEFAULT_LANGUAGE=fr\n")
    assert Settings().default_language == Lang.FRENCH


def test_defaults_run_offline(settings: Settings) -> None:
    assert settings.resolved_database_url().startswith("sqlite:///")
    assert settings.telegram_token is None and settings.whatsapp_token is None


def test_logs_hide_tokens_and_phone_numbers(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter((TOKEN,)))
    with caplog.at_level(logging.INFO):
        logger.info("GET https://api.telegram.org/file/bot%s/voice/file_1.oga from +212 612345678", TOKEN)
    assert TOKEN not in caplog.text and "612345678" not in caplog.text
    assert "…78" in caplog.text
    assert redact("update 12345 ok") == "update 12345 ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("salam, bghit n3ref", Lang.DARIJA),
        ("سلام", Lang.DARIJA),
        ("بغيت نتعلم الزليج", Lang.DARIJA),
        ("أريد أن أتعلم الحرفة", Lang.ARABIC),
        ("Bonjour, je veux apprendre", Lang.FRENCH),
        ("Hello, I want to learn", Lang.ENGLISH),
        ("ⴰⵣⵓⵍ", Lang.TAMAZIGHT),
        ("Azul!", Lang.TAMAZIGHT),
        ("azul, tanmmirt", Lang.TAMAZIGHT),
        ("أزول", Lang.TAMAZIGHT),
    ],
)
def test_language_is_guessed_from_the_first_message(text: str, expected: Lang) -> None:
    assert guess_language(text, None, Lang.DARIJA) == expected


def test_platform_locale_breaks_ties() -> None:
    assert guess_language("ok", "fr-FR", Lang.DARIJA) == Lang.FRENCH
    assert guess_language("ok", None, Lang.DARIJA) == Lang.DARIJA

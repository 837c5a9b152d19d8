"""Settings, log redaction and language guessing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.cli import cli
from bot.logs import redact, setup_logging
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


@pytest.fixture
def app_logging() -> Iterator[None]:
    """The app's own logging set-up, with pytest's handlers put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_logs_hide_tokens_and_phone_numbers(app_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", (TOKEN,))
    logging.getLogger("test.redact").info(
        "GET https://api.telegram.org/file/bot%s/voice/file_1.oga from +212 612345678", TOKEN
    )
    err = capsys.readouterr().err
    assert TOKEN not in err and "612345678" not in err
    assert "…78" in err
    assert redact("update 12345 ok") == "update 12345 ok"


@pytest.mark.parametrize("logger", ["uvicorn.error", "apscheduler.executors.default", "maalem"])
def test_tracebacks_do_not_carry_personal_data(
    app_logging: None, capsys: pytest.CaptureFixture[str], logger: str
) -> None:
    """A failed insert's traceback, on the web server's or scheduler's logger, keeps no personal data."""
    setup_logging("INFO")
    engine = sa.create_engine("sqlite://")  # parameters shown: the formatter must not rely on hide_parameters
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE users (phone TEXT UNIQUE, name TEXT, answer TEXT)"))
        row = {"phone": "+212612345678", "name": "Fatima Zahra", "answer": "le dos est plus petit"}
        insert = sa.text("INSERT INTO users VALUES (:phone, :name, :answer)")
        db.execute(insert, row)
        try:
            db.execute(insert, row)
        except sa.exc.IntegrityError:
            logging.getLogger(logger).exception("insert failed")
    err = capsys.readouterr().err
    assert "IntegrityError" in err and "insert failed" in err
    for secret in ("612345678", "Fatima", "le dos"):
        assert secret not in err
    assert "[parameters hidden]" in err
    detail = "DETAIL:  Key (phone)=(+212612345678) already exists."
    assert redact(detail) == "DETAIL:  Key (phone)=(…) already exists."


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

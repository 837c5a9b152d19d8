"""Migrations build exactly the models' schema; SQLite has WAL and foreign keys; bad paths are explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.app import App, build_app
from bot.settings import Settings
from progress.db import DatabaseUnavailable, make_engine, upgrade
from progress.models import Base, OutboundMessage, OutboxStatus


def _matches_models(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_migrations_upgrade_an_empty_sqlite_database_to_the_models(tmp_path: Path) -> None:
    _matches_models(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_upgrade_an_empty_postgresql_database_to_the_models(postgres_url: str) -> None:
    _matches_models(postgres_url)


def test_sqlite_has_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_unwritable_data_folder_is_explained(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="MAALEM_DATA_DIR"):
        build_app(settings.model_copy(update={"data_dir": blocker / "data"}))


def test_database_errors_never_carry_the_values_written(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (phone TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO people VALUES (:phone)"), {"phone": "+212612345678"})
    with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
        conn.execute(text("INSERT INTO people VALUES (:phone)"), {"phone": "+212612345678"})
    assert "612345678" not in str(failed.value)  # tracebacks in logs would otherwise show the phone number


def test_a_status_reads_back_as_its_enum_and_a_misspelt_one_is_never_written(app: App) -> None:
    with app.sessions() as session:
        session.add(OutboundMessage(channel="memory", chat_id="c", payload={}))
        session.commit()
        assert session.scalars(select(OutboundMessage.status)).one() is OutboxStatus.PENDING
        session.add(OutboundMessage(channel="memory", chat_id="c", payload={}, status="pendng"))
        with pytest.raises(StatementError, match="OutboxStatus"):
            session.commit()

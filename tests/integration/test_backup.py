"""`maalem backup` and `maalem restore`: a journey continues on a fresh folder restored from a backup."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.settings import Settings
from tests.integration.test_cli import LEARNER_TO_FIRST_CHECKPOINT

runner = CliRunner()


def test_a_journey_continues_after_restoring_a_backup_into_a_fresh_folder(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = runner.invoke(cli, ["chat"], input=LEARNER_TO_FIRST_CHECKPOINT)
    assert started.exit_code == 0, started.output
    note = settings.data_dir / "audio" / "1" / "7.ogg"  # where a received voice note is kept
    note.parent.mkdir(parents=True)
    note.write_bytes(b"OggS voice")
    made = runner.invoke(cli, ["backup", str(tmp_path)])
    assert made.exit_code == 0, made.output
    found = re.search(r"backed up to (\S+)", made.stdout)
    assert found is not None
    archive = Path(found[1])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # voices and names: for the operator only

    fresh = tmp_path / "elsewhere"
    fresh.mkdir()
    monkeypatch.chdir(fresh)  # a new machine: its data folder does not exist yet
    restored = runner.invoke(cli, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert (fresh / "data" / "audio" / "1" / "7.ogg").read_bytes() == b"OggS voice"
    again = runner.invoke(cli, ["chat"], input="/progress\n")
    assert again.exit_code == 0, again.output
    assert "Choose your language" not in again.output  # the learner is known, in English, mid-course
    assert "4/19 steps" in again.output  # where the learner was before the backup

    twice = runner.invoke(cli, ["restore", str(archive)])
    assert twice.exit_code == 1
    assert "is not empty: restore into a new data folder" in twice.output


def test_restore_refuses_what_is_not_a_backup(settings: Settings, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    result = runner.invoke(cli, ["restore", str(bogus)])
    assert result.exit_code == 1
    assert "is not a Maalem backup" in result.output

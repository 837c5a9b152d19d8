"""Model management: what is here, fetching without internet, and a report from loading each model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from speech.models import (
    BASE_SHA256,
    RECOMMENDED,
    ModelError,
    bundled_base,
    bundled_whisper,
    list_models,
    pull,
    resolve_model,
    verify,
)

pytestmark = pytest.mark.timeout(300)


def test_list_models_shows_the_bundled_one_and_what_to_fetch(tmp_path: Path) -> None:
    entries = {entry.spec.name: entry for entry in list_models(tmp_path)}
    assert entries["whisper-tiny.en"].present
    assert (entries["whisper-tiny.en"].path / "model.bin").exists()
    assert {spec.name for spec in RECOMMENDED} <= entries.keys()
    assert entries["whisper-base"].present  # assembled by the set-up
    bundled = {"whisper-tiny.en", "whisper-base"}
    assert not any(entry.present for name, entry in entries.items() if name not in bundled)
    assert {spec.kind for spec in RECOMMENDED} == {"faster-whisper", "transformers", "llm"}
    (tmp_path / "whisper-small").mkdir()
    (tmp_path / "whisper-small" / "config.json").write_text("{}")
    assert next(e for e in list_models(tmp_path) if e.spec.name == "whisper-small").present


def test_pull_offline_fails_quickly_and_clearly(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"darija-whisper.*copy darija-whisper/"):
        pull("darija-whisper", tmp_path, progress=lambda _: None, endpoint="http://127.0.0.1:9")
    assert time.monotonic() - started < 30


def test_the_multilingual_default_is_assembled_once_and_checked() -> None:
    folder = bundled_base()
    assert (folder / "model.bin").stat().st_size == 145_217_532
    assert (folder / "model.bin.sha256").read_text() == BASE_SHA256
    assert {p.name for p in folder.iterdir()} >= {"config.json", "tokenizer.json", "vocabulary.txt"}
    stamp = (folder / "model.bin").stat().st_mtime_ns
    started = time.monotonic()
    assert bundled_base() == folder
    assert time.monotonic() - started < 0.1  # already checked: nothing read again
    assert (folder / "model.bin").stat().st_mtime_ns == stamp


def test_models_are_found_by_path_by_name_or_by_default(tmp_path: Path) -> None:
    assert resolve_model("faster-whisper", None, tmp_path) == bundled_base()
    assert resolve_model("faster-whisper", "whisper-tiny.en", tmp_path) == bundled_whisper()
    (tmp_path / "darija-whisper").mkdir()
    assert resolve_model("transformers", None, tmp_path) == tmp_path / "darija-whisper"
    assert (
        resolve_model("transformers", "ychafiqui/whisper-small-darija", tmp_path)
        == tmp_path / "darija-whisper"
    )
    assert resolve_model("faster-whisper", str(bundled_whisper()), tmp_path) == bundled_whisper()
    with pytest.raises(ModelError, match="pull whisper-small"):
        resolve_model("faster-whisper", "whisper-small", tmp_path)


@pytest.mark.slow
def test_verify_reports_each_model(tmp_path: Path) -> None:
    (tmp_path / "whisper-small").mkdir()
    (tmp_path / "whisper-small" / "config.json").write_text("{}")  # a broken download
    checks = {check.name: check for check in verify(tmp_path, speaker="piper")}
    assert checks.keys() == {"transcriber: faster-whisper", "whisper-small", "speaker: piper"}
    assert checks["transcriber: faster-whisper"].ok
    assert (
        "English only" not in checks["transcriber: faster-whisper"].detail
    )  # the default hears 99 languages
    assert not checks["whisper-small"].ok
    assert checks["whisper-small"].detail
    assert checks["speaker: piper"].ok
    assert [c.name for c in verify(tmp_path, transcriber="openai-whisper", speaker="none") if not c.ok] == [
        "transcriber: openai-whisper",
        "whisper-small",
    ]

"""Model management: what is here, fetching without internet, and a report from loading each model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lessons.llamacpp import load_scoring_lm
from lessons.model_file import BUNDLED_FILE, bundled_model, find_model
from speech.fetch import DOWNLOADS, pull
from speech.models import (
    BASE_SHA256,
    bundled_base,
    bundled_whisper,
    list_models,
    resolve_model,
    verify,
)
from speech.recipes import RECOMMENDED, find_spec
from speech.routing import load_routed
from speech.testing import hub_mirror
from speech.transcribe import FasterWhisper
from speech.types import ModelError

pytest_plugins = ("tests.speech_fixtures",)

pytestmark = pytest.mark.timeout(300)

QWEN_GGUF = "Qwen3-1.7B-Q4_K_M.gguf"


def test_list_models_shows_the_bundled_one_and_what_to_fetch(tmp_path: Path) -> None:
    entries = {entry.spec.name: entry for entry in list_models(tmp_path)}
    assert entries["whisper-tiny.en"].present
    assert (entries["whisper-tiny.en"].path / "model.bin").exists()
    assert {spec.name for spec in RECOMMENDED} <= entries.keys()
    assert entries["whisper-base"].present  # assembled by the set-up
    bundled = {"whisper-tiny.en", "whisper-base"}
    assert not any(entry.present for name, entry in entries.items() if name not in bundled)
    assert {spec.kind for spec in RECOMMENDED} == {"faster-whisper", "ctc", "llm", "gguf", "piper"}
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


def test_every_recipe_says_its_size_licence_and_what_it_can_and_cannot_do() -> None:
    for entry in list_models(Path("models")):
        spec = entry.spec
        assert spec.size and spec.licence and spec.can and spec.cannot, spec.name
        assert all(part in spec.describe() for part in (spec.size, spec.licence, spec.can, spec.cannot))
    assert [s.name for s in RECOMMENDED if not s.commercial] == ["mms-1b-all"]
    assert "non-commercial" in next(s for s in RECOMMENDED if s.name == "mms-1b-all").describe()
    assert {s.language for s in RECOMMENDED if s.kind == "piper"} == {"fr", "ar", "ary"}
    assert find_spec("rhasspy/piper-voices") is None  # two voices share it: only their names find them


def test_a_non_commercial_model_is_fetched_only_with_its_licence_accepted(tmp_path: Path) -> None:
    mirror = hub_mirror(tmp_path / "mirror", "facebook/mms-1b-all", {"config.json": b"{}"})
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=r"CC BY-NC 4\.0, which forbids commercial use.*--accept-licence"):
        pull("mms-1b-all", models, mirror=mirror)
    assert not models.exists()
    assert pull("mms-1b-all", models, mirror=mirror, accept_licence=True) == models / "mms-1b-all"
    assert (models / "mms-1b-all" / "config.json").read_bytes() == b"{}"


def test_a_model_needing_a_package_maalem_lacks_is_explained_not_fetched(tmp_path: Path) -> None:
    mirror = hub_mirror(tmp_path / "mirror", "facebook/omniASR-CTC-300M", {"model.pt": b"weights"})
    with pytest.raises(ModelError, match="needs the `omnilingual-asr` package"):
        pull("omnilingual-ctc-300m", tmp_path / "models", mirror=mirror, accept_licence=True)
    assert not (tmp_path / "models").exists()


def test_a_gguf_recipe_fetches_its_one_file_and_grading_loads_it_by_name(tmp_path: Path) -> None:
    real = bundled_model()  # SmolLM2's GGUF stands in for Qwen3's: same format, same loader
    assert real.name == BUNDLED_FILE
    mirror = hub_mirror(
        tmp_path / "mirror",
        "unsloth/Qwen3-1.7B-GGUF",
        {QWEN_GGUF: real, "Qwen3-1.7B-Q8_0.gguf": b"GGUF another size", "README.md": b"# Qwen3"},
    )
    models = tmp_path / "models"
    said: list[str] = []
    folder = pull("qwen3-1.7b", models, mirror=mirror, progress=said.append)
    assert [p.name for p in folder.iterdir()] == [QWEN_GGUF]
    assert said[-1] == f"done: {folder}"
    assert next(e for e in list_models(models) if e.spec.name == "qwen3-1.7b").present
    assert find_model("qwen3-1.7b", models) == folder / QWEN_GGUF  # MAALEM_LLM_MODEL=qwen3-1.7b
    assert load_scoring_lm("qwen3-1.7b", models_dir=models).encode("Marhaba")
    checks = {c.name: c for c in verify(models, speaker="none")}
    assert checks["qwen3-1.7b"].ok and "GGUF ok" in checks["qwen3-1.7b"].detail


@pytest.mark.slow
def test_the_darija_fine_tune_is_converted_to_ctranslate2_int8_and_hears_darija_notes(
    tmp_path: Path, transformers_folder: Path, voice_note: bytes
) -> None:
    files: dict[str, Path | bytes] = {p.name: p for p in transformers_folder.iterdir()}
    mirror = hub_mirror(tmp_path / "mirror", "ychafiqui/whisper-small-darija", files)
    models = tmp_path / "models"
    folder = pull("darija-whisper", models, mirror=mirror)
    assert folder == models / "darija-whisper"
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert not any(folder.glob("*.safetensors"))
    assert not any((models / DOWNLOADS).iterdir())  # the transformers download is gone once converted
    routed = load_routed("faster-whisper", None, {}, models, device="cpu")
    assert routed is not None
    darija = routed.model_for("ary")
    assert isinstance(darija, FasterWhisper) and darija.model_path == folder
    note = tmp_path / "note.ogg"
    note.write_bytes(voice_note)
    assert darija.transcribe(note, language="ary").duration > 1.0  # random weights: any words, no crash
    checks = {c.name: c for c in verify(models, speaker="none")}
    assert checks["darija-whisper"].ok, checks["darija-whisper"].detail

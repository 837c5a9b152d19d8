"""Our own speech types: the core never sees a vendor's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ModelError(Exception):
    """A model that cannot be found, fetched or loaded; the message says what to do."""


class LanguageNotHeard(Exception):
    """No model is set to hear this language: the note goes to a person instead."""

    def __init__(self, language: str) -> None:
        super().__init__(f"no speech model hears {language!r}")
        self.language = language


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What a voice note said, as far as the model could tell."""

    text: str
    language: str
    duration: float
    confidence: float
    """0..1, from the model's token probabilities; low values are flagged."""
    segments: tuple[Segment, ...] = field(default=())
    low_confidence: bool = False


class Transcriber(Protocol):
    """Turns an audio file into a `Transcript`."""

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """Transcribe `audio`; `language` is a hint, `glossary` the craft's words."""
        ...

    def hears(self, language: str | None) -> bool:
        """Whether a model is set to hear `language`; notes in others go to a person."""
        ...


class Speaker(Protocol):
    """Speaks a text into an OGG/Opus voice note."""

    def speak(self, text: str, language: str) -> Path:
        """Return the path of an OGG/Opus file saying `text`."""
        ...

    def speaks(self, language: str) -> bool:
        """Whether it has a voice for `language` (Tamazight has none today)."""
        ...

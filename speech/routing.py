"""Which model hears which language: the learner's chosen language decides, never a guess on a short clip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from speech.audio import DEFAULT_LIMITS, AudioLimits
from speech.models import TranscriberKind, folder_kind, open_transcriber, resolve_model
from speech.recipes import DARIJA_WHISPER, find_local
from speech.transcribe import Device, WhisperTranscriber
from speech.types import LanguageNotHeard, Transcript

NO_MODEL = "none"
DEFAULT_ROUTES: Mapping[str, str] = {"zgh": NO_MODEL}
"""No open Whisper model hears Tamazight well enough yet: its notes go to a person."""


@dataclass(frozen=True)
class RoutedTranscriber:
    """One model per language, loaded once each; a language routed to no model is refused, not guessed."""

    default: WhisperTranscriber
    routes: Mapping[str, WhisperTranscriber | None]

    def model_for(self, language: str | None) -> WhisperTranscriber | None:
        """The model that hears `language` (the default one for any language not routed)."""
        return self.routes.get(language, self.default) if language else self.default

    def hears(self, language: str | None) -> bool:
        """Whether some model is set to hear `language`."""
        return self.model_for(language) is not None

    @property
    def warning(self) -> str | None:
        """What operators should know: the default model's limits, and the languages nobody hears."""
        unheard = sorted(lang for lang, model in self.routes.items() if model is None)
        notes = [self.default.warning] if self.default.warning else []
        if unheard:
            notes.append(f"voice notes in {', '.join(unheard)} are not transcribed: they go to a person")
        return " ".join(notes) or None

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """Transcribe with the model of `language`; `LanguageNotHeard` when none is set for it."""
        model = self.model_for(language)
        if model is None:
            raise LanguageNotHeard(language or "")
        return model.transcribe(audio, language=language, glossary=glossary)


def routes_for(routes: Mapping[str, str], models_dir: Path) -> dict[str, str]:
    """The routing asked for on top of the defaults: Darija goes to the Darija fine-tune when it is here."""
    darija = {"ary": DARIJA_WHISPER} if find_local(DARIJA_WHISPER, models_dir) else {}
    return {**DEFAULT_ROUTES, **darija, **routes}


def load_routed(
    kind: TranscriberKind,
    model: str | None,
    routes: Mapping[str, str],
    models_dir: Path,
    *,
    workers: int = 1,
    device: Device = "auto",
    limits: AudioLimits = DEFAULT_LIMITS,
) -> RoutedTranscriber | None:
    """The default model plus one per routed language (each distinct model loaded once); None for "none"."""
    if kind == "none":
        return None
    path = resolve_model(kind, model, models_dir)
    default = open_transcriber(kind, path, workers=workers, device=device, limits=limits)
    loaded = {default.model_path: default}
    chosen: dict[str, WhisperTranscriber | None] = {}
    for language, name in routes_for(routes, models_dir).items():
        if name == NO_MODEL:
            chosen[language] = None
            continue
        path = resolve_model(kind, name, models_dir)
        route_kind = folder_kind(path) or kind  # a fetched folder says which backend runs it
        if path not in loaded:
            loaded[path] = open_transcriber(route_kind, path, workers=workers, device=device, limits=limits)
        chosen[language] = loaded[path]
    return RoutedTranscriber(default, chosen)

"""Which voice speaks which language: Piper voices where configured or pulled, espeak-ng for the others."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from speech.recipes import RECOMMENDED, find_local
from speech.tts import CachedSpeaker, EspeakSpeaker, GTTSSpeaker, PiperSpeaker, VoicePerLanguage
from speech.types import ModelError

SpeakerKind = Literal["espeak-ng", "piper", "gtts", "none"]
LocalSpeaker = CachedSpeaker | VoicePerLanguage
PULLED_VOICES = {spec.language: spec.name for spec in RECOMMENDED if spec.kind == "piper" and spec.language}
"""Per language, the Piper voice `maalem models pull` fetches (French, Arabic, Darija; no Tamazight)."""


def voice_file(path: Path) -> Path:
    """The `.onnx` voice at `path`, or the one inside a pulled voice's folder."""
    if not path.is_dir():
        return path
    voices = sorted(path.rglob("*.onnx"))
    if len(voices) != 1:
        raise ModelError(f"{path} holds {len(voices)} Piper voices (.onnx files), not one")
    return voices[0]


def piper_voice_files(configured: Mapping[str, str], models_dir: Path) -> dict[str, Path]:
    """Per language, its Piper voice file: the configured ones over those pulled into `models_dir`."""
    chosen = {}
    for language, name in {**PULLED_VOICES, **configured}.items():
        if found := find_local(name, models_dir):
            chosen[language] = voice_file(found)
        elif language in configured:
            raise ModelError(f"no Piper voice {name!r} for {language} (nor in {models_dir})")
    return chosen


def piper_speaker(
    cache_dir: Path, piper_voice: str | None, configured: Mapping[str, str], models_dir: Path
) -> VoicePerLanguage:
    """Piper voices per language (the one `piper_voice` for its languages; bundled English when none is set),
    espeak-ng for the languages they leave; a voice set for a language it cannot read is refused."""
    files = piper_voice_files(configured, models_dir)
    loaded: dict[Path | None, PiperSpeaker] = {}

    def load(path: Path | None) -> PiperSpeaker:
        if path not in loaded:
            loaded[path] = PiperSpeaker(cache_dir, path)
        return loaded[path]

    voices: dict[str, CachedSpeaker] = {}
    if piper_voice or not files:
        single = None if piper_voice is None else find_local(piper_voice, models_dir)
        if piper_voice and single is None:
            raise ModelError(f"no Piper voice {piper_voice!r} (nor in {models_dir})")
        default = load(single and voice_file(single))
        voices.update(dict.fromkeys(default.languages(), default))
    for language, path in files.items():
        voice = load(path)
        if not voice.speaks(language):
            raise ModelError(f"the Piper voice {path.name} reads {voice.language}, not {language}")
        voices[language] = voice
    return VoicePerLanguage(voices, EspeakSpeaker(cache_dir))


def load_speaker(
    kind: SpeakerKind,
    cache_dir: Path,
    *,
    piper_voice: str | None = None,
    piper_voices: Mapping[str, str] | None = None,
    models_dir: Path = Path("models"),
) -> LocalSpeaker | None:
    """The configured speaker (None for "none"); gTTS falls back to espeak-ng."""
    if kind == "none":
        return None
    if kind == "piper":
        return piper_speaker(cache_dir, piper_voice, piper_voices or {}, models_dir)
    espeak = EspeakSpeaker(cache_dir)
    return GTTSSpeaker(cache_dir, espeak) if kind == "gtts" else espeak

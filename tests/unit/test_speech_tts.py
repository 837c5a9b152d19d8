"""Text-to-speech: real espeak-ng and Piper voices as cached OGG/Opus voice notes; gTTS falls back offline."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from speech.audio import decode_audio
from speech.testing import relabelled_piper_voice, word_errors
from speech.transcribe import FasterWhisper
from speech.tts import EspeakSpeaker, GTTSSpeaker, PiperSpeaker, UnsupportedLanguage, VoicePerLanguage
from speech.types import ModelError
from speech.voices import load_speaker

pytest_plugins = ("tests.speech_fixtures",)

pytestmark = pytest.mark.timeout(120)

SENTENCES = {
    "fr": "Trempez les carreaux dans l'eau avant de les couper.",
    "ar": "انقع البلاط في الماء قبل قصه.",
    "ary": "خلّي الزليج فالما قبل ما تقطعو.",
    "en": "Soak the tiles in water before cutting them.",
}


def _opus_seconds(path: Path) -> float:
    """The duration of an OGG/Opus mono file, checked to be one, as our own decoder hears it."""
    data = path.read_bytes()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert (container.format.name, stream.codec_context.name, stream.codec_context.channels) == (
            "ogg",
            "opus",
            1,
        )
    return decode_audio(data).duration


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_espeak_speaks_each_language_as_a_voice_note(tmp_path: Path, language: str) -> None:
    path = EspeakSpeaker(tmp_path).speak(SENTENCES[language], language)
    assert path.parent == tmp_path
    assert 1.0 < _opus_seconds(path) < 10.0


def test_a_second_request_is_a_cache_hit(tmp_path: Path) -> None:
    speaker = EspeakSpeaker(tmp_path)
    first = speaker.speak(SENTENCES["fr"], "fr")
    made = first.stat().st_mtime_ns
    assert speaker.speak(SENTENCES["fr"], "fr") == first
    assert first.stat().st_mtime_ns == made
    assert (speaker.hits, speaker.misses) == (1, 1)
    assert speaker.speak(SENTENCES["fr"], "ar") != first  # the language is part of the key
    assert (
        EspeakSpeaker(tmp_path, words_per_minute=120).speak(SENTENCES["fr"], "fr") != first
    )  # so is the voice
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".ogg"] * 3


def test_darija_letters_for_g_and_v_are_spoken_not_dropped(tmp_path: Path) -> None:
    speaker = EspeakSpeaker(tmp_path)
    said, _ = speaker.synthesize("ڭال ليا نڤيڭي", "ary")  # Arabic phonemes have no ڭ or ڤ: read as ق and ف
    assert np.array_equal(said, speaker.synthesize("قال ليا نفيقي", "ary")[0])


def test_text_that_looks_like_an_option_is_spoken(tmp_path: Path) -> None:
    assert _opus_seconds(EspeakSpeaker(tmp_path).speak("-v --help", "en")) > 0.3


@pytest.mark.parametrize("kind", ["espeak-ng", "gtts", "piper"])
def test_tamazight_is_not_spoken(tmp_path: Path, kind: str) -> None:
    speaker = load_speaker(kind, tmp_path)  # type: ignore[arg-type]
    assert speaker is not None
    with pytest.raises(UnsupportedLanguage) as raised:
        speaker.speak("ⴰⵣⵓⵍ", "zgh")
    assert raised.value.language == "zgh"


def test_gtts_offline_falls_back_to_the_local_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(
            name, "http://127.0.0.1:9"
        )  # a closed local port: offline, even where there is internet
    local = EspeakSpeaker(tmp_path / "local")
    speaker = GTTSSpeaker(tmp_path / "gtts", local, timeout=10)
    path = speaker.speak(SENTENCES["fr"], "fr")
    assert path.parent == tmp_path / "local"
    assert (speaker.fallbacks, local.misses) == (1, 1)
    assert not (tmp_path / "gtts").exists()
    assert _opus_seconds(path) > 1.0


def test_load_speaker_builds_each_kind(tmp_path: Path) -> None:
    assert load_speaker("none", tmp_path) is None
    assert isinstance(load_speaker("espeak-ng", tmp_path), EspeakSpeaker)
    gtts = load_speaker("gtts", tmp_path)
    assert isinstance(gtts, GTTSSpeaker)
    assert isinstance(gtts.fallback, EspeakSpeaker)
    with pytest.raises(ModelError, match="no Piper voice"):
        load_speaker("piper", tmp_path, piper_voice="ar_JO-kareem-medium.onnx", models_dir=tmp_path)


@pytest.mark.slow
def test_piper_speaks_english_that_whisper_understands(tmp_path: Path, tiny_en: FasterWhisper) -> None:
    speaker = load_speaker("piper", tmp_path)
    assert isinstance(speaker, VoicePerLanguage)
    english = speaker.voice_for("en")
    assert isinstance(english, PiperSpeaker)
    assert english.language == "en"
    path = speaker.speak(SENTENCES["en"], "en")
    assert 1.0 < _opus_seconds(path) < 10.0
    errors, total = word_errors(SENTENCES["en"], tiny_en.transcribe(path, language="en").text)
    assert errors / total <= 0.25
    with pytest.raises(UnsupportedLanguage):
        english.speak(SENTENCES["fr"], "fr")
    assert isinstance(speaker.voice_for("fr"), EspeakSpeaker)  # no French Piper voice: espeak-ng reads it


def _pulled_voice(models: Path, recipe: str, espeak_voice: str) -> Path:
    """A voice where `maalem models pull` puts it: in its recipe's folder, under the Hub's own layout."""
    return relabelled_piper_voice(models / recipe / "voices" / f"{recipe}-medium.onnx", espeak_voice)


def test_each_language_speaks_with_its_pulled_piper_voice_and_espeak_reads_the_rest(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _pulled_voice(models, "piper-fr", "fr")
    darija = _pulled_voice(models, "piper-darija", "ar")  # the Darija voice reads espeak-ng's Arabic phonemes
    speaker = load_speaker("piper", tmp_path / "cache", models_dir=models)
    assert isinstance(speaker, VoicePerLanguage)
    french, moroccan = speaker.voice_for("fr"), speaker.voice_for("ary")
    assert isinstance(french, PiperSpeaker) and french.voice == "piper-fr-medium.onnx"
    assert isinstance(moroccan, PiperSpeaker) and moroccan.voice == darija.name
    assert isinstance(speaker.voice_for("ar"), EspeakSpeaker)  # the Darija voice is not Standard Arabic's
    assert isinstance(speaker.voice_for("en"), EspeakSpeaker)
    assert speaker.voice_for("zgh") is None and not speaker.speaks("zgh")
    assert 1.0 < _opus_seconds(speaker.speak(SENTENCES["fr"], "fr")) < 10.0
    assert 0.5 < _opus_seconds(speaker.speak(SENTENCES["ary"], "ary")) < 10.0
    assert (french.misses, moroccan.misses) == (1, 1)


def test_the_settings_choose_a_voice_per_language_over_the_pulled_ones(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _pulled_voice(models, "piper-ar", "ar")
    own = relabelled_piper_voice(tmp_path / "own" / "ar-own.onnx", "ar")
    speaker = load_speaker("piper", tmp_path / "cache", piper_voices={"ary": str(own)}, models_dir=models)
    assert isinstance(speaker, VoicePerLanguage)
    assert {language: voice.voice for language, voice in speaker.voices.items()} == {
        "ar": "piper-ar-medium.onnx",
        "ary": "ar-own.onnx",
    }
    with pytest.raises(ModelError, match="reads ar, not fr"):
        load_speaker("piper", tmp_path, piper_voices={"fr": "piper-ar"}, models_dir=models)
    with pytest.raises(ModelError, match="no Piper voice 'piper-fr' for fr"):
        load_speaker("piper", tmp_path, piper_voices={"fr": "piper-fr"}, models_dir=models)

"""Transcription with real models: tiny.en on spoken voice notes; local openai-whisper and transformers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from speech.audio import RATE, AudioTooLong, NotAudio, encode_ogg_opus
from speech.models import load_transcriber
from speech.testing import CRAFT_STEPS, GLOSSARY, word_errors
from speech.transcribe import ENGLISH_ONLY_WARNING, FasterWhisper, OpenAIWhisper, TransformersWhisper
from speech.tts import EspeakSpeaker
from speech.types import ModelError, Transcript

pytest_plugins = ("tests.speech_fixtures",)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def voice_notes(espeak: EspeakSpeaker, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Each craft sentence spoken by espeak-ng and saved as a phone-like OGG/Opus voice note."""
    folder = tmp_path_factory.mktemp("voice-notes")
    notes = []
    for index, sentence in enumerate(CRAFT_STEPS):
        note = folder / f"note-{index}.ogg"
        note.write_bytes(encode_ogg_opus(*espeak.synthesize(sentence, "en")))
        notes.append(note)
    return notes


def test_tiny_en_word_error_rate_on_spoken_voice_notes(tmp_path: Path, voice_notes: list[Path]) -> None:
    transcriber = load_transcriber("faster-whisper", None, tmp_path / "models", workers=2)
    assert isinstance(transcriber, FasterWhisper)
    errors = words = 0
    for sentence, note in zip(CRAFT_STEPS, voice_notes, strict=True):
        transcript = transcriber.transcribe(note, language="en", glossary=GLOSSARY)
        wrong, total = word_errors(sentence, transcript.text)
        errors, words = errors + wrong, words + total
        assert transcript.language == "en"
        assert 2.0 < transcript.duration < 6.0
        assert 0.0 < transcript.confidence <= 1.0
        assert transcript.segments
        assert transcript.segments[-1].end <= transcript.duration + 1.0
    assert errors / words <= 0.15, f"WER {errors / words:.1%}"


def test_the_english_only_model_says_so_and_flags_other_languages(
    tiny_en: FasterWhisper, voice_notes: list[Path]
) -> None:
    assert tiny_en.english_only
    assert tiny_en.warning == ENGLISH_ONLY_WARNING
    assert "English only" in ENGLISH_ONLY_WARNING
    assert not tiny_en.transcribe(voice_notes[1], language="en").low_confidence
    darija = tiny_en.transcribe(voice_notes[1], language="ary")
    assert darija.low_confidence
    assert darija.language == "en"


def test_silence_is_empty_and_flagged(tiny_en: FasterWhisper) -> None:
    transcript = tiny_en.transcribe_samples(np.zeros(3 * RATE, np.float32), language="en")
    assert transcript == Transcript("", "en", 3.0, 0.0, (), low_confidence=True)


def test_bad_audio_reaches_the_caller_as_the_typed_error(tiny_en: FasterWhisper, tmp_path: Path) -> None:
    playlist = tmp_path / "answer.ogg"
    playlist.write_text("#EXTM3U\nhttp://example.com/a.ts\n")
    with pytest.raises(NotAudio):
        tiny_en.transcribe(playlist)
    long = tmp_path / "long.ogg"
    long.write_bytes(encode_ogg_opus(np.zeros(200 * 8_000, np.float32), 8_000))
    with pytest.raises(AudioTooLong):
        tiny_en.transcribe(long)


def test_threads_share_one_model(tiny_en: FasterWhisper, voice_notes: list[Path]) -> None:
    alone = [tiny_en.transcribe(note, language="en").text for note in voice_notes[:4]]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda note: tiny_en.transcribe(note, language="en").text, voice_notes[:4]))
    assert together == alone


def test_openai_whisper_loads_a_local_checkpoint(openai_checkpoint: Path, voice_notes: list[Path]) -> None:
    loaded = load_transcriber(
        "openai-whisper", str(openai_checkpoint), openai_checkpoint.parent, device="cpu"
    )
    assert isinstance(loaded, OpenAIWhisper)
    assert not loaded.english_only
    assert loaded.warning is None
    # random weights never stop talking: one greedy pass of a few tokens is enough to prove the path
    fast = OpenAIWhisper(openai_checkpoint, device="cpu", beam_size=1, temperatures=(0.0,), max_new_tokens=16)
    transcript = fast.transcribe(voice_notes[0], language="fr", glossary=("zellige",))
    assert transcript.text
    assert transcript.language == "fr"
    assert transcript.duration == pytest.approx(2.9, abs=1.0)
    assert 0.0 <= transcript.confidence <= 1.0


def test_transformers_whisper_loads_a_saved_folder(
    transformers_folder: Path, voice_notes: list[Path]
) -> None:
    models = transformers_folder.parent
    loaded = load_transcriber("transformers", transformers_folder.name, models, device="cpu")
    assert isinstance(loaded, TransformersWhisper)
    assert not loaded.english_only
    fast = TransformersWhisper(transformers_folder, device="cpu", beam_size=1, max_new_tokens=16)
    transcript = fast.transcribe(voice_notes[0], language="ary", glossary=("zellige",))
    assert transcript.text
    assert transcript.language == "ary"
    assert len(transcript.segments) == 1
    assert 0.0 <= transcript.confidence < 0.5  # random weights are unsure of everything
    assert transcript.low_confidence


def test_loading_errors_say_what_to_do(tmp_path: Path, transformers_folder: Path) -> None:
    assert load_transcriber("none", None, tmp_path) is None
    with pytest.raises(ModelError, match="pull darija-whisper"):
        load_transcriber("transformers", None, tmp_path)
    with pytest.raises(ModelError, match=r"\.pt"):
        load_transcriber("openai-whisper", None, tmp_path)
    with pytest.raises(ModelError, match="cannot load faster-whisper"):
        load_transcriber("faster-whisper", str(transformers_folder), tmp_path)

"""`eval speech`: the shipped synthetic notes, transcribed by the default model, scored per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from speech.evaluation import SpeechSetInvalid, load_samples, per_language, speech_table, transcribe_all
from speech.models import bundled_base
from speech.transcribe import FasterWhisper

SHIPPED = Path(__file__).resolve().parents[2] / "content" / "eval" / "speech"


def test_the_shipped_set_is_scored_per_language() -> None:
    samples = load_samples(SHIPPED)
    assert {s.language for s in samples} == {"ar", "en", "fr"}
    heard = transcribe_all(FasterWhisper(bundled_base(), device="cpu", cpu_threads=2), samples)
    scores = {s.name: s for s in per_language(heard)}
    assert scores.keys() == {"all", "ar", "en", "fr"}
    assert scores["en"].wer < 0.35  # the multilingual default hears English notes
    assert scores["fr"].wer < 1.0  # French too, badly on robotic voices…
    arabic = [h.transcript.text for h in heard if h.sample.language == "ar"]
    assert all(any("\u0600" <= c <= "\u06ff" for c in text) for text in arabic if text)  # Arabic script
    assert scores["ar"].cer < 0.8
    assert scores["fr"].to_person > 0  # …so those are flagged for a person rather than trusted
    table = speech_table(heard).splitlines()
    assert table[0].split()[:5] == ["notes", "language", "WER", "CER", "RTF"]
    assert [line.split()[1] for line in table[2:]] == ["all", "ar", "en", "fr"]


def test_a_broken_transcripts_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "transcripts.tsv").write_text("# notes\nmissing.ogg\tfr\tbonjour\n", encoding="utf-8")
    with pytest.raises(SpeechSetInvalid, match=r"transcripts.tsv:2: no such audio file 'missing.ogg'"):
        load_samples(tmp_path)
    (tmp_path / "transcripts.tsv").write_text("note.ogg fr bonjour\n", encoding="utf-8")
    with pytest.raises(SpeechSetInvalid, match=r":1: expected file, language and text"):
        load_samples(tmp_path)

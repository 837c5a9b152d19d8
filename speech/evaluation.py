"""Measuring a transcriber where the data is: audio files and a transcripts TSV, a table per language.

The TSV has one note per line — `file<TAB>language<TAB>text` — with `#` comments; `file` is relative to the
TSV's folder. A cooperative points `maalem eval speech` at its own recorded notes; `content/eval/speech/`
ships a small synthetic set (espeak-ng) so the command runs offline.
"""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from speech.types import Transcriber, Transcript

TRANSCRIPTS = "transcripts.tsv"
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_WORD = re.compile(r"\w+")


class SpeechSetInvalid(ValueError):
    """A transcripts file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class SpeechSample:
    """One labelled note: its audio, the language it is spoken in, and what it says."""

    audio: Path
    language: str
    text: str


@dataclass(frozen=True)
class Heard:
    """What the transcriber made of one note, and how long it took."""

    sample: SpeechSample
    transcript: Transcript
    seconds: float

    @property
    def words(self) -> tuple[list[str], list[str]]:
        """The reference's and the transcript's words, compared without case, accents or punctuation."""
        return _words(self.sample.text), _words(self.transcript.text)


def _words(text: str) -> list[str]:
    text = _MARKS.sub("", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(text)


def load_samples(transcripts: Path) -> list[SpeechSample]:
    """The notes a transcripts TSV lists (or a folder's `transcripts.tsv`); every audio file must exist."""
    path = transcripts / TRANSCRIPTS if transcripts.is_dir() else transcripts
    samples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise SpeechSetInvalid(f"{path}:{number}: expected file, language and text separated by tabs")
        audio = path.parent / fields[0].strip()
        if not audio.is_file():
            raise SpeechSetInvalid(f"{path}:{number}: no such audio file {fields[0].strip()!r}")
        samples.append(SpeechSample(audio, fields[1].strip(), fields[2].strip()))
    return samples


def transcribe_all(transcriber: Transcriber, samples: Sequence[SpeechSample]) -> list[Heard]:
    """Each note transcribed in its own language, one at a time, timed."""
    heard = []
    for sample in samples:
        started = time.perf_counter()
        transcript = transcriber.transcribe(sample.audio, language=sample.language)
        heard.append(Heard(sample, transcript, time.perf_counter() - started))
    return heard


@dataclass(frozen=True)
class SpeechScore:
    """A transcriber's figures over some notes."""

    name: str
    heard: Sequence[Heard]

    @property
    def wer(self) -> float:
        """Word error rate: word edits to reach the reference, over its words."""
        pairs = [h.words for h in self.heard]
        return sum(Levenshtein.distance(r, t) for r, t in pairs) / max(1, sum(len(r) for r, _ in pairs))

    @property
    def cer(self) -> float:
        """Character error rate, over the reference's letters (spaces between words included)."""
        pairs = [(" ".join(r), " ".join(t)) for r, t in (h.words for h in self.heard)]
        return sum(Levenshtein.distance(r, t) for r, t in pairs) / max(1, sum(len(r) for r, _ in pairs))

    @property
    def rtf(self) -> float:
        """Real-time factor: seconds of work per second of audio."""
        return sum(h.seconds for h in self.heard) / max(1e-9, sum(h.transcript.duration for h in self.heard))

    @property
    def worst(self) -> float:
        """The longest work for one note, over that note's duration."""
        return max((h.seconds / max(1e-9, h.transcript.duration) for h in self.heard), default=0.0)

    @property
    def to_person(self) -> float:
        """Share of notes flagged for a person (unclear, or a language the model cannot hear)."""
        return statistics.fmean(h.transcript.low_confidence for h in self.heard) if self.heard else 0.0


COLUMNS = ("notes", "language", "WER", "CER", "RTF", "worst time/duration", "to a person")


def per_language(heard: Sequence[Heard]) -> list[SpeechScore]:
    """All notes, then each language's."""
    languages = sorted({h.sample.language for h in heard})
    return [SpeechScore("all", heard)] + [
        SpeechScore(lang, [h for h in heard if h.sample.language == lang]) for lang in languages
    ]


def speech_table(heard: Sequence[Heard]) -> str:
    """A plain-text table: one row for all notes, one per language."""
    rows = [COLUMNS] + [
        (
            str(len(s.heard)),
            s.name,
            f"{s.wer:.3f}",
            f"{s.cer:.3f}",
            f"{s.rtf:.2f}",
            f"{s.worst:.2f}",
            f"{s.to_person:.0%}",
        )
        for s in per_language(heard)
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

"""Transcription backends behind the `Transcriber` protocol: faster-whisper, openai-whisper, transformers."""

from __future__ import annotations

import math
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rapidfuzz import fuzz, process

from speech.audio import DEFAULT_LIMITS, RATE, AudioLimits, Samples, decode_audio
from speech.types import Segment, Transcript

if TYPE_CHECKING:
    import torch

Device = Literal["auto", "cpu", "cuda"]

WHISPER_LANGUAGE = {"ary": "ar", "ar": "ar", "fr": "fr", "en": "en"}
"""Our language codes → Whisper's. Whisper has no Darija token: Darija fine-tunes are trained under Arabic."""
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_OTHER_SCRIPTS = re.compile("[\u0600-\u06ff\u2d30-\u2d7f]")
_WORD = re.compile(r"\w+")
MIN_SPELLED, SPELLED = 6, 80
"""A heard word this long, this close (0..100) to a glossary word, is written as the glossary writes it."""
TOKENS_PER_SECOND = 12
"""Ample for speech (Arabic, written in many small tokens, runs near 8): more means the model is looping."""

ENGLISH_ONLY_WARNING = (
    "This speech model understands English only: answers in Darija, Arabic or French are transcribed badly "
    "and flagged for review. Set a multilingual or Darija model (`maalem models pull whisper-small` or "
    "`darija-whisper`)."
)


@dataclass(frozen=True)
class Scored:
    """A segment as a backend heard it, with the model's own certainty."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float = 0.0


def confidence(segments: Sequence[Scored]) -> float:
    """0..1: the duration-weighted mean token probability, discounted by the chance that it was not speech."""
    if not segments:
        return 0.0
    weights = [max(s.end - s.start, 0.01) for s in segments]
    scores = [math.exp(s.avg_logprob) * (1.0 - s.no_speech_prob) for s in segments]
    scores = [score if math.isfinite(score) else 0.0 for score in scores]  # a broken model gives NaN
    return sum(w * c for w, c in zip(weights, scores, strict=True)) / sum(weights)


def _cuda_available() -> bool:
    """Whether a CUDA device is usable by CTranslate2."""
    import ctranslate2

    return bool(ctranslate2.get_cuda_device_count())


def _torch_device(device: Device) -> str:
    """The torch device for `device`."""
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device


class WhisperTranscriber(ABC):
    """What the backends share: bounded decoding, the learner's language, glossary spelling, confidence."""

    kind: ClassVar[str]

    def __init__(
        self, model_path: Path, *, english_only: bool, limits: AudioLimits, min_confidence: float
    ) -> None:
        self.model_path = model_path
        self.english_only = english_only
        self.limits = limits
        self.min_confidence = min_confidence

    @property
    def warning(self) -> str | None:
        """A plain warning for operators about what this model cannot do, if anything."""
        return ENGLISH_ONLY_WARNING if self.english_only else None

    def hears(self, language: str | None) -> bool:
        """Every language: one that the model does not know comes back flagged as low confidence."""
        return True

    def transcribe(
        self, audio: Path, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """Decode `audio` within the limits (raising `AudioError`) and transcribe it."""
        return self.transcribe_samples(
            decode_audio(audio, self.limits).samples, language=language, glossary=glossary
        )

    def transcribe_samples(
        self, samples: Samples, *, language: str | None = None, glossary: tuple[str, ...] = ()
    ) -> Transcript:
        """Transcribe mono float32 samples at 16 kHz; `language` is one of our codes (e.g. "ary") or None."""
        hint = WHISPER_LANGUAGE.get(language or "")
        words = self.glossary_for(glossary, language)
        scored, heard = self._recognise(samples, "en" if self.english_only else hint)
        said = [replace(s, text=self.spelled(s.text, words)) for s in scored if s.text.strip()]
        score = confidence(said)
        mismatch = self.english_only and language not in (None, "en")
        return Transcript(
            text=" ".join(s.text.strip() for s in said),
            language=language if language and hint == heard else heard,
            duration=len(samples) / RATE,
            confidence=score,
            segments=tuple(Segment(s.start, s.end, s.text.strip()) for s in said),
            low_confidence=not said or score < self.min_confidence or mismatch,
        )

    @staticmethod
    def spelled(text: str, glossary: tuple[str, ...]) -> str:
        """Near misses of the craft's words spelled as the glossary does ("menkach" → "menqach").

        The glossary corrects after decoding and never steers it: given as a prompt or hotwords it made
        Whisper drop the start of French notes and hear "The back" as "mnqach" on the clips measured here.
        """
        if not glossary:
            return text

        def fix(found: re.Match[str]) -> str:
            word = found.group(0)
            if len(word) < MIN_SPELLED:
                return word
            best = process.extractOne(word.casefold(), glossary, scorer=fuzz.ratio, score_cutoff=SPELLED)
            return str(best[0]) if best else word

        return _WORD.sub(fix, text)

    def glossary_for(self, glossary: tuple[str, ...], language: str | None) -> tuple[str, ...]:
        """Only the craft words written the way this language is transcribed: Arabic script for Arabic and
        Darija, Latin letters for French and English; none when the model cannot hear the language at all.
        """
        if self.english_only and language not in (None, "en"):
            return ()
        if WHISPER_LANGUAGE.get(language or "") == "ar":
            return tuple(word for word in glossary if _ARABIC_SCRIPT.search(word))
        return tuple(word for word in glossary if not _OTHER_SCRIPTS.search(word))

    @staticmethod
    def max_tokens(samples: Samples) -> int:
        """The most tokens one 30-second window of this note may produce (a bound on looping)."""
        return min(224, 8 + math.ceil(TOKENS_PER_SECOND * min(len(samples) / RATE, 30.0)))

    @abstractmethod
    def _recognise(self, samples: Samples, language: str | None) -> tuple[list[Scored], str]:
        """Segments heard in `samples`, and the Whisper language code of the speech."""


class FasterWhisper(WhisperTranscriber):
    """CTranslate2 Whisper: int8 on CPU, float16 on CUDA, voice-activity filter; safe to call from threads.

    `workers` calls run in parallel (from the caller's threads); the CPU cores are split between them.
    """

    kind = "faster-whisper"

    def __init__(
        self,
        model_path: Path,
        *,
        device: Device = "auto",
        compute_type: str | None = None,
        cpu_threads: int | None = None,
        workers: int = 1,
        beam_size: int = 5,
        vad_filter: bool = True,
        limits: AudioLimits = DEFAULT_LIMITS,
        min_confidence: float = 0.4,
    ) -> None:
        from faster_whisper import WhisperModel

        resolved = ("cuda" if _cuda_available() else "cpu") if device == "auto" else device
        self.model = WhisperModel(
            str(model_path),
            device=resolved,
            compute_type=compute_type or ("float16" if resolved == "cuda" else "int8"),
            cpu_threads=cpu_threads or max(1, (os.cpu_count() or 1) // workers),
            num_workers=workers,
        )
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        english_only = not self.model.model.is_multilingual
        super().__init__(model_path, english_only=english_only, limits=limits, min_confidence=min_confidence)

    def _recognise(self, samples: Samples, language: str | None) -> tuple[list[Scored], str]:
        segments, info = self.model.transcribe(
            samples,
            language=language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            max_new_tokens=self.max_tokens(samples),
            condition_on_previous_text=False,  # a looped window must not prime the next one
            temperature=(0.0, 0.4),  # one retry when the output repeats itself, not five
        )
        scored = [Scored(s.start, s.end, s.text, s.avg_logprob, s.no_speech_prob) for s in segments]
        return scored, str(info.language)


class OpenAIWhisper(WhisperTranscriber):
    """The reference PyTorch Whisper from a local `.pt` file; one call at a time (it hooks the model)."""

    kind = "openai-whisper"

    def __init__(
        self,
        model_path: Path,
        *,
        device: Device = "auto",
        beam_size: int = 5,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        max_new_tokens: int | None = None,
        limits: AudioLimits = DEFAULT_LIMITS,
        min_confidence: float = 0.4,
    ) -> None:
        import whisper

        self.device = _torch_device(device)
        self.model = whisper.load_model(str(model_path), device=self.device)
        self.beam_size = beam_size
        self.temperatures = temperatures
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()
        english_only = not self.model.is_multilingual
        super().__init__(model_path, english_only=english_only, limits=limits, min_confidence=min_confidence)

    def _recognise(self, samples: Samples, language: str | None) -> tuple[list[Scored], str]:
        with self._lock:
            result = self.model.transcribe(
                samples,
                language=language,
                temperature=self.temperatures,
                beam_size=self.beam_size,
                best_of=self.beam_size,
                sample_len=self.max_new_tokens or self.max_tokens(samples),
                condition_on_previous_text=False,
                fp16=self.device == "cuda",
                verbose=None,
            )
        scored = [
            Scored(s["start"], s["end"], s["text"], s["avg_logprob"], s["no_speech_prob"])
            for s in result["segments"]
        ]
        return scored, str(result["language"])


class _StepLogprobs:
    """A logits processor recording, at each generation step, the log-probability of the likeliest token."""

    def __init__(self) -> None:
        self.steps: list[float] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.steps.append(float(scores.float().log_softmax(-1).max()))
        return scores


class TransformersWhisper(WhisperTranscriber):
    """A Whisper fine-tune (e.g. for Darija) saved by `transformers`, run by its speech pipeline."""

    kind = "transformers"

    def __init__(
        self,
        model_path: Path,
        *,
        device: Device = "auto",
        beam_size: int = 5,
        max_new_tokens: int | None = None,
        limits: AudioLimits = DEFAULT_LIMITS,
        min_confidence: float = 0.4,
    ) -> None:
        import torch
        from transformers import pipeline

        resolved = _torch_device(device)
        self.pipe: Any = pipeline(
            "automatic-speech-recognition",
            model=str(model_path),
            device=resolved,
            dtype=torch.float16 if resolved == "cuda" else torch.float32,
        )
        if self.pipe.type != "seq2seq_whisper":
            raise ValueError(f"{model_path} is not a Whisper model")
        self.beam_size = beam_size
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()
        english_only = not getattr(self.pipe.model.generation_config, "is_multilingual", False)
        super().__init__(model_path, english_only=english_only, limits=limits, min_confidence=min_confidence)

    def _recognise(self, samples: Samples, language: str | None) -> tuple[list[Scored], str]:
        from transformers import LogitsProcessorList

        recorder = _StepLogprobs()
        generate: dict[str, Any] = {
            "num_beams": self.beam_size,
            "logits_processor": LogitsProcessorList([recorder]),
        }
        generate["max_new_tokens"] = self.max_new_tokens or self.max_tokens(samples)
        if not self.english_only:
            generate |= {"task": "transcribe", "language": language}
        with self._lock:
            out = self.pipe(
                {"raw": samples, "sampling_rate": RATE},
                generate_kwargs=generate,
                chunk_length_s=30 if len(samples) > 30 * RATE else None,
            )
        logprob = sum(recorder.steps) / len(recorder.steps) if recorder.steps else -math.inf
        return [Scored(0.0, len(samples) / RATE, out["text"], logprob)], language or "und"

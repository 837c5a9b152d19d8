"""The models the settings ask for — transcriber, speaker, grader — loaded once, with plain failures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot.settings import Settings
from lessons.assessment import Assessor
from lessons.calibration import CalibrationFile, Trust, TrustRule
from lessons.combined import ModelOptions, build_assessor, model_identity
from lessons.languages import Lang
from speech.audio import AudioLimits
from speech.routing import load_routed
from speech.tts import CACHE_FOLDER
from speech.types import ModelError, Speaker, Transcriber
from speech.voices import load_speaker

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
"""The grading model's calibration records, in the data folder."""


def model_options(settings: Settings) -> ModelOptions:
    """Where the grading model is, from the settings."""
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return ModelOptions(
        settings.llm_model,
        settings.models_dir,
        settings.llm_api_url,
        key,
        settings.llm_api_model,
        calibration=settings.data_dir / CALIBRATION_FILE,
    )


def calibration(settings: Settings) -> tuple[str, CalibrationFile]:
    """The configured grading model's identity and the calibration records that say where it is trusted."""
    kind: Literal["llm", "remote"] = "remote" if settings.assessor == "remote" else "llm"
    return model_identity(kind, model_options(settings)), CalibrationFile(
        settings.data_dir / CALIBRATION_FILE
    )


def grading_trust(settings: Settings) -> dict[Lang, Trust] | None:
    """Per language, whether the configured model's vote counts and why; None when grading is rubric only."""
    if settings.assessor == "rubric":
        return None
    try:
        model, records = calibration(settings)
    except LookupError as exc:
        log.warning("the grading model cannot be found: %s", exc)
        return dict.fromkeys(Lang, Trust(TrustRule(), None, ("unavailable",)))
    return records.verdicts(model)


@dataclass(frozen=True)
class Components:
    """What `build_app` is handed for voice and grading."""

    assessor: Assessor
    transcriber: Transcriber | None
    speaker: Speaker | None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `build_app`."""
        return {"assessor": self.assessor, "transcriber": self.transcriber, "speaker": self.speaker}


def load_components(settings: Settings) -> Components:
    """Load what the settings ask for; a voice model that cannot load leaves voice notes kept for later."""
    limits = AudioLimits(max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds)
    try:
        transcriber = load_routed(
            settings.transcriber,
            settings.whisper_model,
            settings.whisper_models,
            settings.models_dir,
            workers=settings.transcription_workers,
            limits=limits,
        )
    except ModelError as error:
        log.warning("voice notes will be kept but not understood: %s", error)
        transcriber = None
    if transcriber is not None and transcriber.warning:
        log.warning("%s", transcriber.warning)
    speaker = load_speaker(
        settings.speaker,
        settings.data_dir / CACHE_FOLDER,
        piper_voice=settings.piper_voice,
        piper_voices=settings.piper_voices,
        models_dir=settings.models_dir,
    )
    assessor = build_assessor(settings.assessor, model_options(settings))
    return Components(assessor, transcriber, speaker)

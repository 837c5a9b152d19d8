"""Where the grading model is and where it is trusted, from the settings (light: loads no model)."""

from __future__ import annotations

import logging
from typing import Literal

from bot.settings import Settings
from lessons.calibration import CalibrationFile, Trust, TrustRule
from lessons.combined import ModelOptions, model_identity
from lessons.languages import Lang

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

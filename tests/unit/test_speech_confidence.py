"""Transcript confidence from the model's own token probabilities."""

from __future__ import annotations

import math

import pytest

from speech.transcribe import Scored, confidence


def test_confidence_weighs_segments_by_duration() -> None:
    sure = Scored(0.0, 3.0, "Soak the tiles", math.log(0.9))
    unsure = Scored(3.0, 4.0, "zellij", math.log(0.5))
    assert confidence([sure, unsure]) == pytest.approx((3 * 0.9 + 1 * 0.5) / 4)


def test_likely_silence_lowers_confidence() -> None:
    assert confidence([Scored(0.0, 2.0, "thank you", math.log(0.9), no_speech_prob=0.8)]) == pytest.approx(
        0.18
    )


@pytest.mark.parametrize("logprob", [math.nan, -math.inf, math.inf])
def test_a_broken_model_never_yields_a_confident_nan(logprob: float) -> None:
    assert confidence([Scored(0.0, 1.0, "!!!!", logprob)]) == 0.0
    assert confidence([]) == 0.0

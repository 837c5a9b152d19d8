"""Drafting with the real SmolLM2-135M: its output is checked; what fails falls back to the master's words."""

from __future__ import annotations

import pytest

from lessons.combined import CombinedAssessor
from lessons.drafting import LLMDrafter, drafter_for, is_extract, is_question, is_translation, key_phrases
from lessons.languages import Lang
from lessons.llm import LocalLM, load_lm
from lessons.llm_assessor import LLMAssessor
from lessons.rubric import RubricMatcher
from tests.integration.teaching import STEP_TWO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def lm(tmp_path_factory: pytest.TempPathFactory) -> LocalLM:
    """The bundled SmolLM2-135M, as the offline default loads it."""
    return load_lm(models_dir=tmp_path_factory.mktemp("models"))


def test_the_small_model_drafts_only_what_passes_the_checks(lm: LocalLM) -> None:
    drafter = LLMDrafter(lm)
    draft = drafter.checkpoint(STEP_TWO, Lang.ENGLISH)
    assert draft.points and all(is_extract(p, STEP_TWO, Lang.ENGLISH) for p in draft.points)
    assert draft.question is None or is_question(draft.question, STEP_TWO, Lang.ENGLISH)
    if draft.drafted_by == "fallback":  # honest: the model's list was unusable, the master's words are used
        assert draft.points == key_phrases(STEP_TWO, Lang.ENGLISH)
    else:
        assert draft.drafted_by == "llm"
    translation = drafter.translate(STEP_TWO, Lang.ENGLISH, Lang.FRENCH)
    assert translation is None or is_translation(translation, STEP_TWO, Lang.FRENCH)


def test_the_assessors_model_is_shared_with_drafting(lm: LocalLM) -> None:
    judge = LLMAssessor(lm)
    assert isinstance(drafter_for(judge), LLMDrafter)
    combined = drafter_for(CombinedAssessor(RubricMatcher(), judge))
    assert isinstance(combined, LLMDrafter) and combined.lm is lm
    assert not isinstance(drafter_for(RubricMatcher()), LLMDrafter)

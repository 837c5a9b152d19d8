"""The multilingual default hears the learner's language; the glossary only corrects; decoding is bounded."""

from __future__ import annotations

import numpy as np
import pytest

from speech.audio import RATE
from speech.models import bundled_base
from speech.transcribe import FasterWhisper
from speech.tts import EspeakSpeaker

pytest_plugins = ("tests.speech_fixtures",)
GLOSSARY = ("zellige", "menqach", "mnqach", "زليج", "منقاش", "ⵣⵍⵍⵉⵊ", "sima")


@pytest.fixture(scope="module")
def base() -> FasterWhisper:
    return FasterWhisper(bundled_base(), device="cpu", cpu_threads=2)


def test_the_default_hears_french_and_arabic_when_told_the_language(
    base: FasterWhisper, espeak: EspeakSpeaker
) -> None:
    assert base.warning is None  # not English-only
    # Sentences base hears from espeak-ng on every CPU tried; craft ones are weaker (`maalem eval speech`).
    french = base.transcribe_samples(espeak.synthesize("Merci beaucoup, à demain.", "fr")[0], language="fr")
    assert "merci beaucoup" in french.text.casefold()
    assert french.language == "fr"
    arabic = base.transcribe_samples(espeak.synthesize("السلام عليكم", "ar")[0], language="ary")
    assert "السلام" in arabic.text  # Darija is heard as Arabic, in Arabic script
    assert arabic.language == "ary"


def test_the_glossary_is_chosen_by_script(base: FasterWhisper, tiny_en: FasterWhisper) -> None:
    assert base.glossary_for(GLOSSARY, "ary") == ("زليج", "منقاش")
    assert base.glossary_for(GLOSSARY, "ar") == ("زليج", "منقاش")
    assert base.glossary_for(GLOSSARY, "fr") == ("zellige", "menqach", "mnqach", "sima")
    assert tiny_en.glossary_for(GLOSSARY, "en") == ("zellige", "menqach", "mnqach", "sima")
    assert tiny_en.glossary_for(GLOSSARY, "fr") == ()  # an English-only model gets no foreign words


def test_the_glossary_spells_near_misses_and_leaves_other_words() -> None:
    spelled = FasterWhisper.spelled(
        "cut it with the menkach, then the zelige; a mortar joint", ("menqach", "zellige", "point")
    )
    assert spelled == "cut it with the menqach, then the zellige; a mortar joint"
    assert FasterWhisper.spelled("قطع بالمنقاش", ("منقاش",)) == "قطع بالمنقاش"


def test_decoding_is_bounded_by_the_length_of_the_note(base: FasterWhisper) -> None:
    assert FasterWhisper.max_tokens(np.zeros(5 * RATE, dtype=np.float32)) == 68
    assert FasterWhisper.max_tokens(np.zeros(180 * RATE, dtype=np.float32)) == 224  # per 30-second window
    noise = np.random.default_rng(7).normal(0, 0.3, 5 * RATE).astype(np.float32)
    heard = base.transcribe_samples(noise, language="ar")
    assert len(heard.text.split()) <= 68

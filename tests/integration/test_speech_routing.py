"""The learner's chosen language decides which model hears a note; Tamazight goes to a person, honestly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from bot.settings import Settings
from speech.audio import encode_audio
from speech.models import base_folder, bundled_whisper
from speech.routing import RoutedTranscriber, load_routed
from speech.transcribe import TransformersWhisper
from speech.tts import EspeakSpeaker
from speech.types import LanguageNotHeard

pytest_plugins = ("tests.speech_fixtures",)


@pytest.fixture(scope="module")
def note(espeak: EspeakSpeaker, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short French voice note."""
    path = tmp_path_factory.mktemp("notes") / "merci.ogg"
    path.write_bytes(encode_audio(*espeak.synthesize("Merci beaucoup, à demain.", "fr"), "ogg"))
    return path


def _routed(routes: dict[str, str], models_dir: Path) -> RoutedTranscriber:
    routed = load_routed("faster-whisper", None, routes, models_dir, device="cpu")
    assert routed is not None
    return routed


def test_by_default_every_language_but_tamazight_goes_to_the_multilingual_model(
    tmp_path: Path, note: Path
) -> None:
    routed = _routed({}, tmp_path)
    assert routed.default.model_path == base_folder()
    assert {lang: routed.hears(lang) for lang in ("ary", "ar", "fr", "en", "zgh")} == {
        "ary": True,
        "ar": True,
        "fr": True,
        "en": True,
        "zgh": False,
    }
    assert routed.model_for("ary") is routed.model_for("fr") is routed.default  # one model loaded, not four
    assert "merci beaucoup" in routed.transcribe(note, language="fr").text.casefold()
    with pytest.raises(LanguageNotHeard) as refused:
        routed.transcribe(note, language="zgh")
    assert refused.value.language == "zgh"
    assert routed.warning == "voice notes in zgh are not transcribed: they go to a person"


def test_the_settings_route_a_language_to_another_model_loaded_once(tmp_path: Path) -> None:
    routed = _routed({"en": "tiny.en", "zgh": "tiny.en"}, tmp_path)
    english = routed.model_for("en")
    assert english is not None
    assert english.model_path == bundled_whisper()
    assert routed.model_for("zgh") is english  # the same model, loaded once for both
    assert routed.model_for("fr") is routed.default
    assert routed.warning is None  # every language is heard by some model


def test_darija_goes_to_the_darija_fine_tune_when_it_is_here(
    tmp_path: Path, transformers_folder: Path
) -> None:
    (tmp_path / "darija-whisper").symlink_to(transformers_folder, target_is_directory=True)
    routed = _routed({}, tmp_path)
    assert isinstance(routed.model_for("ary"), TransformersWhisper)
    assert routed.model_for("ar") is routed.default  # Standard Arabic stays on the multilingual model


def test_transcribe_command_says_plainly_that_tamazight_is_not_heard(settings: Settings, note: Path) -> None:
    result = CliRunner().invoke(cli, ["transcribe", str(note), "--language", "zgh"])
    assert result.exit_code == 1
    assert "no speech model hears 'zgh'" in result.output
    result = CliRunner().invoke(cli, ["transcribe", str(note), "--language", "fr"])
    assert result.exit_code == 0, result.output
    assert "merci beaucoup" in result.stdout.casefold()

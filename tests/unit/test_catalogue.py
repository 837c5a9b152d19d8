"""The message catalogue: every message in all five languages, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lessons.i18n import FSI, LOCALE_DIR, RLM, Catalog
from lessons.languages import Lang

ROOT = Path(__file__).resolve().parents[2]


def _messages(lang: Lang) -> dict[str, str]:
    with (LOCALE_DIR / lang.value / "LC_MESSAGES" / "maalem.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}  # type: ignore[misc]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_message_with_the_same_placeholders() -> None:
    english = _messages(Lang.ENGLISH)
    for lang in Lang:
        translated = _messages(lang)
        assert set(translated) == set(english), lang
        for key, text in translated.items():
            assert text.strip(), (lang, key)
            assert _fields(text) == _fields(english[key]), (lang, key)


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    english = _messages(Lang.ENGLISH)
    source = "\n".join(p.read_text() for folder in ("bot", "lessons") for p in (ROOT / folder).rglob("*.py"))
    used = set(re.findall(r'(?:Msg\(|say\(|t\(lang, |t\(turn\.lang, )f?"([a-z_]+\.[a-z_.]+)"', source))
    used |= {f"button.{k}" for k in re.findall(r'_btn\("([a-z_]+)"', source)}
    used |= {f"audio.{r}" for r in ("empty", "too_big", "too_long", "not_audio", "corrupt", "timeout")}
    assert used, "the pattern found nothing"
    assert used <= set(english), used - set(english)


@pytest.mark.parametrize("lang", [Lang.DARIJA, Lang.ARABIC])
def test_right_to_left_messages_are_marked_and_inserted_text_isolated(lang: Lang) -> None:
    text = Catalog().t(lang, "voice.heard", {"text": "face down 3"})
    assert all(line.startswith(RLM) for line in text.split("\n"))
    assert f"{FSI}face down 3" in text


def test_left_to_right_messages_are_left_alone() -> None:
    assert Catalog().t(Lang.FRENCH, "voice.heard", {"text": "x"}) == "J'ai entendu : « x »"


def test_a_form_of_address_picks_the_key_with_its_suffix_and_falls_back_to_the_base() -> None:
    catalog = Catalog()
    assert "أحسنتِ" in catalog.t(Lang.ARABIC, "feedback.pass", {"right": "x"}, form="f")
    assert catalog.t(Lang.ARABIC, "feedback.pass", {"right": "x"}, form="m") == catalog.t(
        Lang.ARABIC, "feedback.pass", {"right": "x"}
    )
    assert catalog.t(Lang.FRENCH, "help", {"commands": "/x"}, form="f") == catalog.t(
        Lang.FRENCH, "help", {"commands": "/x"}
    )
    assert (
        catalog.t(Lang.FRENCH, "feedback.pass", {"right": "x"}, form="feedback")
        == "✅ Bravo ! Tu l'as dit : x."
    )


def test_every_form_of_address_has_its_base_message() -> None:
    english = _messages(Lang.ENGLISH)
    forms = [key for key in english if key.endswith((".f", ".m"))]
    assert forms
    assert all(key[:-2] in english and _fields(english[key]) == _fields(english[key[:-2]]) for key in forms)

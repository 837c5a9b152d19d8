"""Every message of the progress side and the dashboard exists in all five languages, same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from lessons.i18n import LOCALE_DIR
from lessons.languages import Lang
from progress.rules import BADGES, Level, Status

PROGRESS = Path(__file__).resolve().parents[2] / "progress"
FAMILIES = ("dash", "cert", "badge", "reminder", "reminders", "review", "progress", "digest", "button")


def _catalogue(lang: Lang) -> dict[str, str]:
    with (LOCALE_DIR / lang.value / "LC_MESSAGES" / "maalem.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}  # type: ignore[misc]


def _used() -> set[str]:
    keys = {f"badge.{code}" for code in BADGES}
    keys |= {f"dash.status_{s}" for s in Status} | {f"dash.level_{level}" for level in Level}
    keys |= {f"dash.reason_{r}" for r in ("uncertain", "repeated_failure")}
    keys |= {f"dash.review_{d}" for d in ("accepted", "overridden")}
    keys |= {f"dash.filter_{f}" for f in ("region", "cooperative", "course", "status")}
    problems = ("unmeasured", "few_answers", "low_auc", "injection", "unavailable")
    keys |= {f"dash.grading_problem_{p}" for p in problems}
    pattern = re.compile(rf"""["']((?:{"|".join(FAMILIES)})\.[a-z_]*[a-z])["']""")  # not f"dash.status_{s}"
    for path in [*PROGRESS.rglob("*.py"), *PROGRESS.rglob("*.html")]:
        keys |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return {key for key in keys if not key.endswith((".yaml", ".html"))}


def test_the_pattern_finds_the_dashboard_and_learner_messages() -> None:
    used = _used()
    assert {"dash.title", "cert.title", "reminder.resume", "review.prompt", "digest.trainer"} <= used


@pytest.mark.parametrize("lang", list(Lang))
def test_every_key_used_is_translated_with_the_same_placeholders(lang: Lang) -> None:
    english, translated = _catalogue(Lang.ENGLISH), _catalogue(lang)
    missing = {key for key in _used() if not translated.get(key, "").strip()}
    assert not missing, missing
    for key in _used():
        fields = {name for _, name, _, _ in string.Formatter().parse(translated[key]) if name}
        assert fields == {name for _, name, _, _ in string.Formatter().parse(english[key]) if name}, key

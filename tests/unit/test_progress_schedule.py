"""The reminders calendar shipped in content: decent hours, prayer-time quiet periods, a lighter Ramadan."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from progress.schedule import DEFAULT_FILE, CalendarInvalid, load_calendar
from tests.conftest import CONTENT

CASABLANCA = ZoneInfo("Africa/Casablanca")
CALENDAR = load_calendar(CONTENT / DEFAULT_FILE)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CASABLANCA)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (local(2026, 11, 23, 7, 30), False),  # too early
        (local(2026, 11, 23, 10, 0), True),
        (local(2026, 11, 23, 13, 30), False),  # dhuhr
        (local(2026, 11, 23, 14, 5), True),
        (local(2026, 11, 23, 16, 0), False),  # asr, in winter
        (local(2026, 6, 23, 16, 0), True),  # asr comes later in summer
        (local(2026, 6, 23, 17, 15), False),
        (local(2026, 11, 23, 18, 30), False),  # maghrib, in winter
        (local(2026, 11, 23, 20, 30), True),
        (local(2026, 11, 23, 21, 30), False),  # night
        (local(2026, 11, 23, 2, 0), False),
    ],
)
def test_decent_hours_and_quiet_periods(moment: datetime, allowed: bool) -> None:
    assert CALENDAR.allows(moment) is allowed


def test_ramadan_has_its_own_lighter_timetable() -> None:
    ordinary, ramadan = local(2026, 2, 10, 12), local(2026, 3, 1, 12)
    assert CALENDAR.timetable(ordinary.date()) is CALENDAR.normal
    assert CALENDAR.timetable(ramadan.date()) is CALENDAR.ramadan
    assert CALENDAR.ramadan.inactive_days == [7] and not CALENDAR.ramadan.reviews
    assert CALENDAR.allows(local(2026, 3, 1, 11, 0))
    assert not CALENDAR.allows(local(2026, 3, 1, 18, 0))  # before iftar: nothing
    assert not CALENDAR.allows(local(2026, 3, 1, 21, 0))  # tarawih
    assert CALENDAR.allows(local(2026, 3, 1, 22, 15))
    assert CALENDAR.allows(local(2026, 3, 21, 19, 0)) is False  # Eid day: ordinary timetable, maghrib
    assert CALENDAR.timetable(local(2026, 3, 20, 12).date()) is CALENDAR.ramadan
    assert CALENDAR.timetable(local(2026, 3, 21, 12).date()) is CALENDAR.normal


def test_every_year_has_its_ramadan() -> None:
    years = {period.start.year for period in CALENDAR.ramadan_dates}
    assert years >= set(range(2025, 2031))
    assert all(28 <= (p.end - p.start).days <= 30 for p in CALENDAR.ramadan_dates)


def test_the_digest_slot() -> None:
    assert CALENDAR.digest_due(local(2026, 11, 23, 10))  # a Monday
    assert not CALENDAR.digest_due(local(2026, 11, 23, 13))
    assert not CALENDAR.digest_due(local(2026, 11, 24, 10))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("normal: [", "while parsing"),
        (
            "normal: {send: [{start: '20:00', end: '08:00'}], inactive_days: [3]}\nramadan: {}",
            "cross midnight",
        ),
        ("normal: {send: [{start: '10:00', end: '20:00'}], inactive_days: [0]}", "at least 1"),
        ("normal: {send: [], inactive_days: [3]}", "at least 1 item"),
        ("nromal: {}", "normal"),
    ],
)
def test_a_broken_calendar_is_explained(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / DEFAULT_FILE
    path.write_text(text)
    with pytest.raises(CalendarInvalid, match=why):
        load_calendar(path)
    with pytest.raises(CalendarInvalid, match="No such file"):
        load_calendar(tmp_path / "missing.yaml")

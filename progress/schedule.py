"""When Maalem may write first: decent hours, quiet periods (prayers), a lighter Ramadan: data, not code."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_FILE = "reminders.yaml"
"""The calendar's file name in the content folder."""


class Strict(BaseModel):
    """Refuses unknown keys so that a typo in the file is reported."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(Strict):
    """A daily stretch of local time, optionally only in some months (prayer times move with the seasons)."""

    start: time
    end: time
    months: frozenset[int] = frozenset()

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end} must be after start {self.start} (windows do not cross midnight)"
            )
        if not self.months <= set(range(1, 13)):
            raise ValueError("months are 1 to 12")
        return self

    def covers(self, moment: datetime) -> bool:
        """Whether the local `moment` falls inside this window."""
        in_month = not self.months or moment.month in self.months
        return in_month and self.start <= moment.time() < self.end


class Timetable(Strict):
    """Hours to write in, quiet periods inside them, and how often to remind."""

    send: list[Window] = Field(min_length=1)
    quiet: list[Window] = []
    inactive_days: list[int] = Field(min_length=1)
    """Days of silence after which a reminder goes out, one per threshold (e.g. 3, 7, 14), then no more."""
    reviews: bool = True
    """Whether spaced reviews are sent."""

    @model_validator(mode="after")
    def _positive(self) -> Timetable:
        if any(days < 1 for days in self.inactive_days):
            raise ValueError("inactive_days must be at least 1")
        return self

    def allows(self, moment: datetime) -> bool:
        """Whether the local `moment` is a decent time to write."""
        return any(w.covers(moment) for w in self.send) and not any(w.covers(moment) for w in self.quiet)


class Period(Strict):
    """A span of days, both ends included."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Calendar(Strict):
    """The usual timetable, the Ramadan one, Ramadan's dates, and when the weekly digest goes out."""

    normal: Timetable
    ramadan: Timetable
    ramadan_dates: list[Period] = []
    digest_weekday: int = Field(default=1, ge=1, le=7)
    """ISO weekday (1 = Monday) of the trainers' and masters' digest."""
    digest_hours: Window = Window(start=time(9), end=time(12))

    def timetable(self, day: date) -> Timetable:
        """The timetable in force on `day`."""
        if any(p.start <= day <= p.end for p in self.ramadan_dates):
            return self.ramadan
        return self.normal

    def allows(self, moment: datetime) -> bool:
        """Whether the local `moment` is a decent time to write to a learner."""
        return self.timetable(moment.date()).allows(moment)

    def digest_due(self, moment: datetime) -> bool:
        """Whether the local `moment` is in the weekly digest's slot."""
        return moment.isoweekday() == self.digest_weekday and self.digest_hours.covers(moment)


class CalendarInvalid(Exception):
    """The reminders file cannot be read or does not validate."""


def load_calendar(path: Path) -> Calendar:
    """Read and validate the reminders calendar."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Calendar.model_validate(data)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise CalendarInvalid(f"{path}: {exc}") from exc

"""Typed course content: a course has lessons, a lesson has ordered steps, some steps are checkpoints."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lessons.languages import REQUIRED, Lang

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=48)]
Localized = dict[Lang, Text]
MAX_ITEMS = 200
"""The longest list a content file may hold (lessons, steps, phrasings…): packs are written by hand."""


def _inside_pack(value: str) -> str:
    """Refuse a media path that could leave its pack: only relative POSIX names, no `..` or drive."""
    parts = value.split("/")
    if "\\" in value or ":" in value or "\x00" in value or any(p in {"", ".", ".."} for p in parts):
        raise ValueError("must be a relative path inside the course folder, like media/step-1.mp4")
    return value


PackPath = Annotated[Text, StringConstraints(max_length=200), AfterValidator(_inside_pack)]
"""A file of a course pack, relative to its folder (checked again on disk: no links, regular files)."""


class Strict(BaseModel):
    """Content models refuse unknown keys, so typos in a pack are reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Media(Strict):
    """A file shown with a step; `file` is relative to the course folder."""

    kind: Literal["video", "photo", "audio"]
    file: PackPath
    placeholder: bool = False
    """True for the labelled stand-in clips shipped until a master records the real one."""


class KeyPoint(Strict):
    """One thing a good answer must say, with the ways learners say it and a hint when it is missing."""

    id: Ident
    phrasings: dict[Lang, Annotated[list[Text], Field(max_length=MAX_ITEMS)]]
    hint: Localized

    @model_validator(mode="after")
    def _phrasings_not_empty(self) -> KeyPoint:
        for lang, items in self.phrasings.items():
            if not items:
                raise ValueError(f"phrasings.{lang} is empty")
        return self


class PassRule(Strict):
    """How many key points an answer needs; `at_least` unset means all of them."""

    at_least: int | None = Field(default=None, ge=1)


class Checkpoint(Strict):
    """A question asked at a step and the rubric its answer is checked against."""

    question: Localized
    key_points: list[KeyPoint] = Field(min_length=1, max_length=MAX_ITEMS)
    pass_rule: PassRule = PassRule()

    @model_validator(mode="after")
    def _rule_fits(self) -> Checkpoint:
        ids = [k.id for k in self.key_points]
        if len(set(ids)) != len(ids):
            raise ValueError("key point ids must be unique")
        if self.pass_rule.at_least is not None and self.pass_rule.at_least > len(ids):
            raise ValueError(
                f"pass_rule.at_least is {self.pass_rule.at_least} but there are {len(ids)} key points"
            )
        return self

    @property
    def needed(self) -> int:
        """Key points an answer must cover to pass."""
        return self.pass_rule.at_least or len(self.key_points)


class Step(Strict):
    """One short piece of a lesson: media, a caption, and maybe a checkpoint."""

    id: Ident
    caption: Localized
    media: Media | None = None
    author: Ident | None = None
    """Who taught this step; the course's master when unset."""
    licence: Text | None = None
    """The licence its author chose for it; the course's licence when unset."""
    recorded: date | None = None
    """When its author recorded it."""
    consent: datetime | None = None
    """When its author agreed to publish it under its licence (steps recorded in the chat)."""
    checkpoint: Checkpoint | None = None


class Lesson(Strict):
    """Ordered steps under a title."""

    id: Ident
    title: Localized
    steps: list[Step] = Field(min_length=1, max_length=MAX_ITEMS)


class Author(Strict):
    """A person credited in a course."""

    id: Ident
    name: Text
    role: Literal["master", "editor", "translator"] = "master"
    city: Text | None = None


class Course(Strict):
    """A course pack as written in `content/courses/<id>/course.yaml`."""

    id: Ident
    craft: Ident
    title: Localized
    summary: Localized
    authors: list[Author] = Field(min_length=1, max_length=MAX_ITEMS)
    master: Ident
    licence: Text
    languages: list[Lang]
    glossary: list[Text] = Field(default=[], max_length=MAX_ITEMS)
    """Craft words given to speech recognition as hints (zellige, menqach…)."""
    regions: list[Ident] = Field(default=[], max_length=MAX_ITEMS)
    """Where it is offered (a master's course goes to their region first); everywhere when empty."""
    lessons: list[Lesson] = Field(min_length=1, max_length=MAX_ITEMS)
    folder: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Course:
        missing = [lang.value for lang in REQUIRED if lang not in self.languages]
        if missing:
            raise ValueError(f"languages must include {', '.join(missing)}")
        author_ids = {a.id for a in self.authors}
        if self.master not in author_ids:
            raise ValueError(f"master {self.master!r} is not among the authors")
        lesson_ids = [lesson.id for lesson in self.lessons]
        if len(set(lesson_ids)) != len(lesson_ids):
            raise ValueError("lesson ids must be unique")
        for lesson in self.lessons:
            step_ids = [s.id for s in lesson.steps]
            if len(set(step_ids)) != len(step_ids):
                raise ValueError(f"step ids in lesson {lesson.id!r} must be unique")
            for step in lesson.steps:
                if step.author and step.author not in author_ids:
                    raise ValueError(
                        f"step {lesson.id}/{step.id}: author {step.author!r} is not among the authors"
                    )
        return self

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson with this id."""
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)

    def author_of(self, step: Step) -> Author:
        """The person credited for a step."""
        wanted = step.author or self.master
        return next(a for a in self.authors if a.id == wanted)

    def licence_of(self, step: Step) -> str:
        """The licence a step is shared under."""
        return step.licence or self.licence

    def media_path(self, media: Media) -> Path:
        """Where a step's media file lies on disk."""
        return self.folder / media.file


class Region(Strict):
    """One of Morocco's regions (the official list is content, editable)."""

    code: Ident
    name: Localized


class Craft(Strict):
    """A craft learners can choose."""

    code: Ident
    name: Localized


class Cooperative(Strict):
    """A cooperative or training centre; learners join with its code."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{3,16}$")]
    name: Text
    region: Ident
    crafts: list[Ident] = []

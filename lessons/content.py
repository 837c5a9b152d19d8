"""Loading and validating content packs; every error names the file, the place in it and what is wrong."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from lessons.course import Cooperative, Course, Craft, Lesson, Region, Step
from lessons.languages import REQUIRED, Lang

M = TypeVar("M", bound=BaseModel)
MAX_MEDIA_BYTES = 50 * 1024 * 1024
"""Telegram's bot upload limit; larger lesson media could never be sent."""
MAX_YAML_BYTES = 1024 * 1024
"""A content file larger than this is refused unread (the shipped courses are under 40 KB)."""


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (six times faster), else the pure Python one."""


def _load_yaml(text: str) -> Any:
    """Safe YAML without aliases: `*name` references could expand a small file into gigabytes."""
    for event in yaml.parse(text, Loader=_LOADER):  # events only: nothing is expanded yet
        if isinstance(event, yaml.AliasEvent):
            mark = cast("yaml.Mark | None", event.start_mark)  # libyaml's mark has the same line and column
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader, and no aliases)


class OutsidePack(ValueError):
    """A pack's file that is a link, not a regular file, or outside the pack's folder."""


def pack_file(folder: Path, relative: str) -> Path:
    """The path of a pack's file, checked on disk: no symbolic link anywhere below `folder`, a regular file.

    Raises `OutsidePack` (or `FileNotFoundError`) otherwise, so a pack can never carry a secret out.
    """
    path = folder
    for part in relative.split("/"):
        if part in {"", ".", ".."}:
            raise OutsidePack(f"{relative!r} leaves the course folder")
        path = path / part
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise OutsidePack(f"{relative!r} is a symbolic link")
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise OutsidePack(f"{relative!r} is not a regular file")
    if not path.resolve().is_relative_to(folder.resolve()):
        raise OutsidePack(f"{relative!r} leaves the course folder")
    return path


def open_regular(path: Path, *, follow: bool = True) -> BinaryIO:
    """`path` opened to read if it is a regular file, else `OutsidePack`; a FIFO or a device is never waited
    on (the open does not block) nor read. With `follow=False` a symbolic link is refused too (`OSError`)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutsidePack(f"{path.name!r} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


@dataclass(frozen=True)
class ContentError:
    """One problem in a content file."""

    file: Path
    location: str
    message: str

    def __str__(self) -> str:
        where = f": {self.location}" if self.location else ""
        return f"{self.file}{where}: {self.message}"


class ContentInvalid(Exception):
    """Raised when content packs do not validate; carries every error found."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass
class Library:
    """Everything under `content/`: courses, regions, crafts and cooperatives."""

    courses: dict[str, Course] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    crafts: dict[str, Craft] = field(default_factory=dict)
    cooperatives: dict[str, Cooperative] = field(default_factory=dict)

    def courses_for(self, craft: str | None, region: str | None = None) -> list[Course]:
        """Courses offered in the learner's region, their craft first, so a learner can always choose."""
        offered = (c for c in self.courses.values() if not c.regions or region in c.regions)
        return sorted(offered, key=lambda c: (c.craft != craft, c.id))


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_yaml(path: Path, errors: list[ContentError]) -> Any:
    try:
        with open_regular(path) as file:
            if os.fstat(file.fileno()).st_size > MAX_YAML_BYTES:
                errors.append(ContentError(path, "", f"larger than {MAX_YAML_BYTES // 1024} KB"))
                return None
            text = file.read().decode("utf-8")
        return _load_yaml(text)
    except OutsidePack as exc:
        errors.append(ContentError(path, "", str(exc)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        errors.append(ContentError(path, where, f"not valid YAML: {exc.problem}"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        errors.append(ContentError(path, "", f"cannot be read: {exc}"))
    return None


def _validate(path: Path, adapter: TypeAdapter[Any], data: Any, errors: list[ContentError]) -> Any:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(ContentError(path, _location(err["loc"]), err["msg"]))
    return None


def _localized_fields(course: Course) -> Iterator[tuple[str, dict[Lang, str]]]:
    yield "title", course.title
    yield "summary", course.summary
    for li, lesson in enumerate(course.lessons):
        yield f"lessons[{li}].title", lesson.title
        for si, step in enumerate(lesson.steps):
            where = f"lessons[{li}].steps[{si}]"
            yield f"{where}.caption", step.caption
            if step.checkpoint:
                yield f"{where}.checkpoint.question", step.checkpoint.question
                for ki, kp in enumerate(step.checkpoint.key_points):
                    yield f"{where}.checkpoint.key_points[{ki}].hint", kp.hint


def _steps(course: Course) -> Iterator[tuple[str, Lesson, Step]]:
    for li, lesson in enumerate(course.lessons):
        for si, step in enumerate(lesson.steps):
            yield f"lessons[{li}].steps[{si}]", lesson, step


def check_course(path: Path, course: Course, library: Library) -> list[ContentError]:
    """Cross-checks the schema cannot make: translations present, media present, craft known."""
    errors = [
        ContentError(path, f"{where}.{lang.value}", "missing translation")
        for where, texts in _localized_fields(course)
        for lang in course.languages
        if lang not in texts
    ]
    for where, _lesson, step in _steps(course):
        if step.checkpoint:
            for ki, kp in enumerate(step.checkpoint.key_points):
                errors += [
                    ContentError(
                        path, f"{where}.checkpoint.key_points[{ki}].phrasings.{lang.value}", "missing"
                    )
                    for lang in REQUIRED
                    if lang not in kp.phrasings
                ]
        if step.media:
            try:
                file = pack_file(course.folder, step.media.file)
            except FileNotFoundError:
                errors.append(ContentError(path, f"{where}.media.file", f"no such file: {step.media.file}"))
                continue
            except OutsidePack as exc:
                errors.append(ContentError(path, f"{where}.media.file", str(exc)))
                continue
            if file.stat().st_size > MAX_MEDIA_BYTES:
                errors.append(ContentError(path, f"{where}.media.file", "larger than 50 MB, cannot be sent"))
    if library.crafts and course.craft not in library.crafts:
        errors.append(ContentError(path, "craft", f"unknown craft {course.craft!r} (see crafts.yaml)"))
    if library.regions:
        errors += [
            ContentError(path, f"regions[{i}]", f"unknown region {code!r} (see regions.yaml)")
            for i, code in enumerate(course.regions)
            if code not in library.regions
        ]
    return errors


def read_course(path: Path, library: Library) -> tuple[Course | None, list[ContentError]]:
    """One course pack checked against `library` (crafts, regions, course ids); the course when valid."""
    errors: list[ContentError] = []
    data = _read_yaml(path, errors)
    if isinstance(data, dict):
        data["folder"] = path.parent
    course = _validate(path, TypeAdapter(Course), data, errors)
    if course is None:
        return None, errors
    errors += check_course(path, course, library)
    if course.id in library.courses:
        errors.append(ContentError(path, "id", f"course id {course.id!r} is used twice"))
    return (None if errors else course), errors


def _load_list(path: Path, model: type[M], errors: list[ContentError]) -> list[M]:
    if not path.is_file():
        errors.append(ContentError(path, "", "missing"))
        return []
    data = _read_yaml(path, errors)
    return _validate(path, TypeAdapter(list[model]), data, errors) or []  # type: ignore[valid-type]


def scan(root: Path) -> tuple[Library, list[ContentError]]:
    """Load everything that validates and list every error found."""
    errors: list[ContentError] = []
    library = Library(
        regions={r.code: r for r in _load_list(root / "regions.yaml", Region, errors)},
        crafts={c.code: c for c in _load_list(root / "crafts.yaml", Craft, errors)},
        cooperatives={c.code: c for c in _load_list(root / "cooperatives.yaml", Cooperative, errors)},
    )
    for coop in library.cooperatives.values():
        if coop.region not in library.regions:
            errors.append(
                ContentError(root / "cooperatives.yaml", coop.code, f"unknown region {coop.region!r}")
            )
    for path in sorted((root / "courses").glob("*/course.yaml")):
        course, problems = read_course(path, library)
        errors += problems
        if course is not None:
            library.courses[course.id] = course
    if not library.courses and not errors:
        errors.append(ContentError(root / "courses", "", "no course packs found"))
    return library, errors


def load_library(root: Path) -> Library:
    """Load all content under `root`, or raise `ContentInvalid` listing every problem."""
    library, errors = scan(root)
    if errors:
        raise ContentInvalid(errors)
    return library

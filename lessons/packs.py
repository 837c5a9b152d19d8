"""Course packs beyond the shipped content: masters' published courses, and packs exported or imported whole.

A published course is a pack like any under `content/courses/` (a `course.yaml` and its media) kept in the
data folder, so the same rules check it, `maalem content export` copies it and another server imports it
unchanged.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from lessons.content import (
    ContentError,
    ContentInvalid,
    Library,
    OutsidePack,
    open_regular,
    pack_file,
    read_course,
)
from lessons.course import Course

log = logging.getLogger(__name__)

COURSE_FILE = "course.yaml"
STAMP = ".stamp"
"""Touched on every publication: another process (the running bot) sees the shelf changed with one `stat`."""
_SIGNATURES = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF8", ".gif"),
    (b"\x1a\x45\xdf\xa3", ".webm"),
)


def media_suffix(path: Path, kind: str) -> str:
    """The file extension a media file's content calls for (a chat app's file keeps no useful name)."""
    with path.open("rb") as file:
        head = file.read(16)
    if head[4:8] == b"ftyp":
        return ".mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ".webp"
    for signature, suffix in _SIGNATURES:
        if head.startswith(signature):
            return suffix
    return {"video": ".mp4", "photo": ".jpg", "audio": ".ogg"}.get(kind, ".bin")


def pack_files(course: Course) -> list[str]:
    """The files of a pack, relative to its folder: the course file, then each media file once."""
    files = [COURSE_FILE]
    for lesson in course.lessons:
        for step in lesson.steps:
            if step.media and step.media.file not in files:
                files.append(step.media.file)
    return files


def _without(library: Library, course_id: str) -> Library:
    """The library as a pack is checked against: the same crafts and regions, that course left out."""
    return replace(library, courses={k: v for k, v in library.courses.items() if k != course_id})


def read_pack(
    folder: Path, library: Library, *, replaces: bool = False
) -> tuple[Course | None, list[ContentError]]:
    """One pack folder checked like shipped content; with `replaces`, its id may be the one it updates."""
    path = folder / COURSE_FILE
    try:
        pack_file(folder, COURSE_FILE)
    except FileNotFoundError:
        return None, [ContentError(path, "", "missing")]
    except OutsidePack as exc:
        return None, [ContentError(path, "", str(exc))]
    if replaces:
        course, errors = read_course(path, replace(library, courses={}))
        return course, errors
    return read_course(path, library)


def dump_yaml(document: dict[str, Any]) -> str:
    """A pack document as readable YAML (keys in the order given, Arabic and Tifinagh as themselves)."""
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def copy_file(source: Path, dest_root: Path, relative: str) -> None:
    """Copy one regular file to `dest_root/relative` without following links on either side; never outside."""
    target = dest_root / relative
    if not target.resolve().is_relative_to(dest_root.resolve()):
        raise OutsidePack(f"{relative!r} leaves {dest_root}")
    target.parent.mkdir(parents=True, exist_ok=True)
    nofollow = os.O_NOFOLLOW | getattr(os, "O_BINARY", 0)
    with open_regular(source, follow=False) as src:
        made = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
        with os.fdopen(made, "wb") as dst:
            shutil.copyfileobj(src, dst)


def _copy_pack(course: Course, dest: Path) -> None:
    for relative in pack_files(course):
        copy_file(pack_file(course.folder, relative), dest, relative)


@contextmanager
def _staging(path: Path) -> Iterator[Path]:
    """A fresh folder to build a pack in, removed again if anything goes wrong."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def export_pack(course: Course, dest_root: Path) -> Path:
    """Copy a course's pack, byte for byte, into `dest_root/<course id>`; refuses to overwrite."""
    dest = dest_root / course.id
    if dest.exists() or dest.is_symlink():
        raise FileExistsError(f"{dest} already exists")
    dest.mkdir(parents=True)
    try:
        _copy_pack(course, dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


class Shelf:
    """Published course packs under one folder, joined to a library at start and whenever they change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ids: set[str] = set()
        """Courses in the library that came from this shelf (they may be replaced; shipped ones may not)."""
        self._seen: int | None = None

    def _stamp(self) -> int:
        try:
            return (self.root / STAMP).stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def _touch(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / STAMP).touch()
        self._seen = self._stamp()

    def load(self, library: Library) -> list[ContentError]:
        """Add every valid published pack to `library` (replacing older copies); list what is wrong."""
        self._seen = self._stamp()
        errors: list[ContentError] = []
        for folder in sorted(p.parent for p in self.root.glob(f"*/{COURSE_FILE}")):
            if folder.name.startswith("."):
                continue
            course, problems = read_pack(folder, library, replaces=folder.name in self.ids)
            if course is None:
                errors += problems
                continue
            library.courses[course.id] = course
            self.ids.add(course.id)
        for error in errors:
            log.warning("published course left out: %s", error)
        return errors

    def refresh(self, library: Library) -> bool:
        """Reload the shelf if another process published since (one `stat` when nothing changed)."""
        if self._stamp() == self._seen:
            return False
        self.load(library)
        return True

    def publish(self, document: dict[str, Any], media: dict[str, Path], library: Library) -> Course:
        """Write a pack (YAML document, media by relative path), check it, and put it in the library.

        The pack is written beside the shelf and checked first, so a failed check leaves the published one
        as it was; raises `ContentInvalid` listing every problem.
        """
        course_id = str(document["id"])
        with _staging(self.root / f".{course_id}.new") as staging:
            for relative, source in media.items():
                copy_file(source, staging, relative)
            (staging / COURSE_FILE).write_text(dump_yaml(document), encoding="utf-8")
            return self._shelve(staging, course_id, library)

    def add(self, folder: Path, library: Library) -> Course:
        """Import a pack exported elsewhere, byte for byte; refuses a course id already in the library."""
        course, errors = read_pack(folder, library)
        if course is None:
            raise ContentInvalid(errors)
        with _staging(self.root / f".{course.id}.new") as staging:
            _copy_pack(course, staging)
            return self._shelve(staging, course.id, library)

    def _shelve(self, staging: Path, course_id: str, library: Library) -> Course:
        course, errors = read_pack(staging, library, replaces=course_id in self.ids)
        if course is None or course.id != course_id:
            raise ContentInvalid(errors or [ContentError(staging / COURSE_FILE, "id", "does not match")])
        dest = self.root / course_id
        old = self.root / f".{course_id}.old"
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)
        staging.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
        course = course.model_copy(update={"folder": dest})
        library.courses[course_id] = course
        self.ids.add(course_id)
        self._touch()
        return course

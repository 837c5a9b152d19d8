"""A course pack cannot carry files from outside its folder, and a hostile YAML file is refused cheaply."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from lessons.content import ContentInvalid, Library, OutsidePack, scan
from lessons.packs import COURSE_FILE, Shelf, export_pack, pack_files, read_pack

CONTENT = Path(__file__).resolve().parents[2] / "content"
FIRST_MEDIA = "media/cutting-tools.jpg"


@pytest.fixture(scope="module")
def library() -> Library:
    found, errors = scan(CONTENT)
    assert not errors
    return replace(found, courses={})


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming" / "zellige"
    shutil.copytree(CONTENT / "courses" / "zellige", folder)
    return folder


def _rewrite(pack: Path, old: str, new: str) -> None:
    course = pack / COURSE_FILE
    course.write_text(course.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "data" / "web-secret-key"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("s3cret-token")
    return secret


def _shelf_is_clean(shelf: Shelf) -> None:
    left = sorted(p.name for p in shelf.root.iterdir()) if shelf.root.exists() else []
    assert left == [], left  # nothing published, no staging folder left behind


def test_a_media_file_that_is_a_link_to_a_secret_is_refused(
    pack: Path, library: Library, tmp_path: Path
) -> None:
    (pack / FIRST_MEDIA).unlink()
    (pack / FIRST_MEDIA).symlink_to(_secret(tmp_path))
    course, errors = read_pack(pack, library)
    assert course is None
    assert any("symbolic link" in str(e) for e in errors)
    shelf = Shelf(tmp_path / "published")
    with pytest.raises(ContentInvalid):
        shelf.add(pack, library)
    _shelf_is_clean(shelf)


def test_a_linked_folder_or_course_file_is_refused(pack: Path, library: Library, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.move(pack / "media", outside)
    (pack / "media").symlink_to(outside)
    assert any("symbolic link" in str(e) for e in read_pack(pack, library)[1])
    (pack / "media").unlink()
    shutil.move(outside, pack / "media")
    moved = tmp_path / "course.yaml"
    shutil.move(pack / COURSE_FILE, moved)
    (pack / COURSE_FILE).symlink_to(moved)
    course, errors = read_pack(pack, library)
    assert course is None
    assert "symbolic link" in str(errors[0])


@pytest.mark.parametrize(
    "path",
    [
        "../../data/maalem.db",
        "media/../../secret.jpg",
        "/proc/self/environ",
        "media\\cutting-tools.jpg",
        "C:/media/x.jpg",
        "media//cutting-tools.jpg",
    ],
)
def test_media_paths_leaving_the_pack_are_refused_and_nothing_is_written(
    pack: Path, library: Library, tmp_path: Path, path: str
) -> None:
    _rewrite(pack, f"file: {FIRST_MEDIA}", f"file: '{path}'")
    course, errors = read_pack(pack, library)
    assert course is None
    assert any("inside the course folder" in str(e) for e in errors), errors
    shelf = Shelf(tmp_path / "published")
    with pytest.raises(ContentInvalid):
        shelf.add(pack, library)
    _shelf_is_clean(shelf)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)  # opening it to read would wait for a writer for ever


def _device(target: str) -> Callable[[Path], None]:
    def link(path: Path) -> None:
        path.unlink()
        path.symlink_to(target)

    return link


SPECIAL = {"fifo": _fifo, "/dev/null": _device("/dev/null"), "/dev/zero": _device("/dev/zero")}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("make", SPECIAL.values(), ids=SPECIAL.keys())
@pytest.mark.parametrize("where", [FIRST_MEDIA, COURSE_FILE])
def test_special_files_are_refused_on_check_and_import_without_being_opened(
    pack: Path, library: Library, tmp_path: Path, make: Callable[[Path], None], where: str
) -> None:
    make(pack / where)
    course, errors = read_pack(pack, library)
    assert course is None
    assert any("not a regular file" in str(e) or "symbolic link" in str(e) for e in errors), errors
    shelf = Shelf(tmp_path / "published")
    with pytest.raises(ContentInvalid):
        shelf.add(pack, library)
    _shelf_is_clean(shelf)


@pytest.mark.timeout(10)
def test_a_course_file_that_is_a_fifo_in_the_content_folder_is_refused(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    _fifo(content / "courses" / "zellige" / COURSE_FILE)
    found, errors = scan(content)
    assert "zellige" not in found.courses
    refused = f"{content / 'courses' / 'zellige' / COURSE_FILE}: 'course.yaml' is not a regular file"
    assert refused in [str(e) for e in errors]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("make", SPECIAL.values(), ids=SPECIAL.keys())
def test_export_never_opens_a_special_file_swapped_in_after_loading(
    pack: Path, library: Library, tmp_path: Path, make: Callable[[Path], None]
) -> None:
    course, errors = read_pack(pack, library)
    assert course is not None, errors
    make(pack / FIRST_MEDIA)
    with pytest.raises(OutsidePack):
        export_pack(course, tmp_path / "out")
    assert not (tmp_path / "out" / course.id).exists()


@pytest.mark.timeout(10)
def test_publishing_a_fifo_as_media_is_refused_and_leaves_nothing(
    pack: Path, library: Library, tmp_path: Path
) -> None:
    course, errors = read_pack(pack, library)
    assert course is not None, errors
    document = yaml.safe_load((pack / COURSE_FILE).read_text(encoding="utf-8"))
    media = {relative: pack / relative for relative in pack_files(course)[1:]}
    _fifo(pack / FIRST_MEDIA)  # a master's upload that is no file at all
    shelf = Shelf(tmp_path / "published")
    with pytest.raises(OutsidePack, match="not a regular file"):
        shelf.publish(document, media, library)
    _shelf_is_clean(shelf)


def test_export_never_follows_a_link_swapped_in_after_loading(
    pack: Path, library: Library, tmp_path: Path
) -> None:
    course, errors = read_pack(pack, library)
    assert course is not None, errors
    (pack / FIRST_MEDIA).unlink()
    (pack / FIRST_MEDIA).symlink_to(_secret(tmp_path))
    with pytest.raises(OutsidePack, match="symbolic link"):
        export_pack(course, tmp_path / "out")
    assert not (tmp_path / "out" / course.id).exists()  # no half-written pack


def test_a_valid_pack_is_still_imported_and_exported_byte_for_byte(
    pack: Path, library: Library, tmp_path: Path
) -> None:
    shelf = Shelf(tmp_path / "published")
    course = shelf.add(pack, library)
    exported = export_pack(course, tmp_path / "out")
    assert (exported / FIRST_MEDIA).read_bytes() == (pack / FIRST_MEDIA).read_bytes()
    assert sorted(p.name for p in shelf.root.iterdir() if p.name != ".stamp") == ["zellige"]


def test_a_yaml_alias_bomb_is_refused_at_once(pack: Path, library: Library) -> None:
    levels = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    (pack / COURSE_FILE).write_text("\n".join(levels) + "\n", encoding="utf-8")
    assert (pack / COURSE_FILE).stat().st_size < 2000
    started = time.perf_counter()
    course, errors = read_pack(pack, library)
    assert time.perf_counter() - started < 1  # 9**9 strings would take many seconds and gigabytes
    assert course is None
    assert "aliases" in str(errors[0])
    assert "line 2" in str(errors[0])


def test_huge_files_and_lists_are_refused(pack: Path, library: Library) -> None:
    _rewrite(pack, "glossary:\n", "glossary:\n" + "".join(f"  - word{i}\n" for i in range(250)))
    course, errors = read_pack(pack, library)
    assert course is None
    assert any("glossary" in e.location for e in errors), errors
    (pack / COURSE_FILE).write_text("id: x\n" + "#" * (2 * 1024 * 1024), encoding="utf-8")
    course, errors = read_pack(pack, library)
    assert course is None
    assert "larger than" in str(errors[0])

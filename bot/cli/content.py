"""Course packs: `content check`, `content export`, `content import`."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import admin_app, fail, settings

content_cli = typer.Typer(help="Course packs.", no_args_is_help=True)


@content_cli.command("check")
def content_check(
    folder: Annotated[Path | None, typer.Argument(help="content folder, or one course pack's folder")] = None,
) -> None:
    """Validate every course pack; exit non-zero naming each problem's file and place."""
    from lessons.content import scan
    from lessons.packs import COURSE_FILE, read_pack

    root = folder or settings().content_dir
    if os.path.lexists(root / COURSE_FILE):  # one pack (an export), checked with installed crafts, regions
        shared, _ = scan(settings().content_dir)
        course, errors = read_pack(root, replace(shared, courses={}))
        for error in errors:
            typer.echo(f"error: {error}", err=True)
        if course is None:
            raise typer.Exit(1)
        steps = sum(len(lesson.steps) for lesson in course.lessons)
        typer.echo(f"ok: course {course.id}, {len(course.lessons)} lessons, {steps} steps")
        return
    library, errors = scan(root)
    for error in errors:
        typer.echo(f"error: {error}", err=True)
    if errors:
        raise typer.Exit(1)
    steps = sum(len(lesson.steps) for c in library.courses.values() for lesson in c.lessons)
    typer.echo(
        f"ok: {len(library.courses)} courses, {steps} steps, {len(library.regions)} regions, "
        f"{len(library.crafts)} crafts, {len(library.cooperatives)} cooperatives"
    )


@content_cli.command("export")
def content_export(
    course: Annotated[str, typer.Argument(help="the course id")],
    dest: Annotated[Path, typer.Argument(help="folder to write the pack into")] = Path("."),
) -> None:
    """Write a course pack (course.yaml and media, byte for byte) that `content check` and `import` accept."""
    from lessons.content import OutsidePack
    from lessons.packs import export_pack

    app = admin_app(settings())
    try:
        found = app.library.courses.get(course)
        if found is None:
            fail(f"no course {course!r}; courses: {', '.join(sorted(app.library.courses))}")
        try:
            folder = export_pack(found, dest)
        except (FileExistsError, OutsidePack) as exc:
            fail(exc)
        typer.echo(f"exported {course} to {folder}")
    finally:
        app.close()


@content_cli.command("import")
def content_import(path: Annotated[Path, typer.Argument(help="a course pack's folder (an export)")]) -> None:
    """Publish a course pack exported elsewhere, unchanged, with its authors and licences."""
    from lessons.content import ContentInvalid

    app = admin_app(settings())
    try:
        course = app.shelf.add(path, app.library)
    except ContentInvalid as exc:
        fail(exc)
    finally:
        app.close()
    typer.echo(f"imported {course.id}: {sum(len(lesson.steps) for lesson in course.lessons)} steps")

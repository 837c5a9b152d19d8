"""Lessons masters recorded, for trainers: read every text (machine drafts marked), watch the media, decide.

Approving publishes the course pack at once in this process (the library is updated in place), so
apprentices of the course's region get the lesson with their next message; sending back tells the master why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from lessons.content import ContentInvalid
from lessons.languages import Lang, pick
from progress.authoring import (
    AuthoringError,
    drafts_left,
    get_lesson,
    localized,
    steps_of,
    submitted,
    texts_of,
)
from progress.models import AuthoredCourse, AuthoredLesson, MasterProfile

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from progress.dashboard.pages import Dashboard, Viewer

PREFIX = "/dashboard/lessons"


def _title(lesson: AuthoredLesson, lang: Lang) -> str:
    return pick(localized(lesson.title), lang)[0]


def add_lesson_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the lessons pages on the dashboard's router."""
    pages = LessonPages(dashboard)
    router.add_api_route(PREFIX, pages.waiting, methods=["GET"])
    router.add_api_route(f"{PREFIX}/{{lesson_id:id}}", pages.lesson, methods=["GET"])
    router.add_api_route(f"{PREFIX}/{{lesson_id:id}}", pages.decide, methods=["POST"])
    router.add_api_route(f"{PREFIX}/{{lesson_id:id}}/media/{{position:id}}", pages.media, methods=["GET"])


class LessonPages:
    """The waiting list, one lesson, the decision, the media; a trainer sees their own region's lessons."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.deps = dashboard.deps

    def _allowed(self, viewer: Viewer, course: AuthoredCourse) -> bool:
        scope = viewer.scope
        if scope.everything:
            return True
        coop = self.deps.library.cooperatives.get(scope.cooperative or "")
        return course.region_code is not None and course.region_code in {scope.region, coop and coop.region}

    def _scoped(self, db: Session, viewer: Viewer, lesson_id: int) -> tuple[AuthoredLesson, AuthoredCourse]:
        try:
            lesson = get_lesson(db, lesson_id)
        except AuthoringError as exc:
            raise HTTPException(404) from exc
        course = db.get_one(AuthoredCourse, lesson.course_id)
        if not self._allowed(viewer, course):
            raise HTTPException(404)
        return lesson, course

    def _master(self, db: Session, lesson: AuthoredLesson) -> str:
        profile = db.get(MasterProfile, lesson.master_id) if lesson.master_id else None
        return profile.name if profile else "—"

    @staticmethod
    def _counts(db: Session, lesson: AuthoredLesson) -> tuple[int, int]:
        """Steps, and texts still machine drafts or copies."""
        return len(steps_of(db, lesson)), drafts_left(db, lesson)

    def waiting(self, request: Request) -> HTMLResponse:
        """Lessons waiting for approval in the trainer's scope, oldest first."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            lang = Lang(viewer.session.lang)
            rows = [
                (lesson, course, _title(lesson, lang), self._master(db, lesson), *self._counts(db, lesson))
                for lesson in submitted(db)
                if self._allowed(viewer, course := db.get_one(AuthoredCourse, lesson.course_id))
            ]
        done = request.query_params.get("done")
        return self.dashboard.render(
            request, viewer.session, "lessons.html", viewer=viewer, rows=rows, done=done, nav="lessons"
        )

    def _page(
        self, request: Request, lesson_id: int, *, status: int = 200, error: str | None = None
    ) -> HTMLResponse:
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            lesson, course = self._scoped(db, viewer, lesson_id)
            texts = texts_of(db, lesson)
            steps = steps_of(db, lesson)
            master = self._master(db, lesson)
        return self.dashboard.render(
            request,
            viewer.session,
            "lesson.html",
            status=status,
            viewer=viewer,
            lesson=lesson,
            course=course,
            texts=texts,
            steps=steps,
            master=master,
            title=_title(lesson, Lang(viewer.session.lang)),
            error=error,
            nav="lessons",
        )

    def lesson(self, request: Request, lesson_id: int) -> HTMLResponse:
        """Every text per language, drafts and untranslated copies marked, and each step's media."""
        return self._page(request, lesson_id)

    def decide(
        self,
        request: Request,
        lesson_id: int,
        csrf: Annotated[str, Form()] = "",
        decision: Annotated[str, Form()] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        """Approve (publish) or send back with a note; the master is told either way."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            lesson, _ = self._scoped(db, viewer, lesson_id)
            waiting = lesson.status == "submitted"
        if not viewer.session.csrf_ok(csrf):
            return self._page(request, lesson_id, status=403, error="dash.csrf_failed")
        if decision not in {"approve", "reject"} or not waiting:
            return self._page(request, lesson_id, status=400, error="dash.lesson_choose")
        if decision == "reject" and not note.strip():
            return self._page(request, lesson_id, status=400, error="dash.lesson_note_required")
        try:
            self.deps.decisions.decide(
                lesson_id,
                approve=decision == "approve",
                by=viewer.user.id,
                note=note.strip(),
            )
        except ContentInvalid:
            return self._page(request, lesson_id, status=400, error="dash.lesson_invalid")
        return RedirectResponse(f"{PREFIX}?done={decision}", status_code=303)

    def media(self, request: Request, lesson_id: int, position: int) -> FileResponse:
        """A step's video or photo, for the trainer to watch before deciding."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            lesson, _ = self._scoped(db, viewer, lesson_id)
            step = next((s for s in steps_of(db, lesson) if s.position == position), None)
        if step is None:
            raise HTTPException(404)
        return FileResponse(step.media_path, headers={"Cache-Control": "no-store"})

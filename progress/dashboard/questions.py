"""Learners' questions to their masters, for trainers: the open ones in their scope, oldest first, those left
too long marked; the master answers from the chat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from progress.models import Question, User, utcnow
from progress.questions import inbox
from speech.audio import media_type

if TYPE_CHECKING:
    from progress.dashboard.pages import Dashboard

PREFIX = "/dashboard/questions"


def add_question_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the questions inbox on the dashboard's router."""
    pages = QuestionPages(dashboard)
    router.add_api_route(PREFIX, pages.inbox, methods=["GET"])
    router.add_api_route(f"{PREFIX}/{{question_id:id}}/audio", pages.audio, methods=["GET"])


class QuestionPages:
    """The inbox and a question's voice note, limited to the learners the trainer may see."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.deps = dashboard.deps

    def inbox(self, request: Request) -> HTMLResponse:
        """Unanswered questions, oldest first; those older than the overdue delay are marked."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            rows = inbox(db, viewer.scope)
        days = self.deps.question_overdue_days
        late = utcnow() - timedelta(days=days)
        return self.dashboard.render(
            request,
            viewer.session,
            "questions.html",
            viewer=viewer,
            rows=rows,
            late=late,
            days=days,
            nav="questions",
        )

    def audio(self, request: Request, question_id: int) -> FileResponse:
        """A question asked by voice, for trainers who may see its learner."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            found = db.scalar(
                select(Question.audio_path)
                .join(User, User.id == Question.user_id)
                .where(Question.id == question_id, viewer.scope.where())
            )
        path = Path(found).resolve() if found else None
        if path is None or not path.is_relative_to(self.deps.data_dir.resolve()) or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": "no-store"})

"""Learners, for trainers: the filtered list, its CSV export, one learner's record, their voice answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessons.i18n import LANGUAGE_NAMES, without_bidi_marks
from lessons.languages import Lang
from progress.dashboard.deps import MAX_ID
from progress.dashboard.export import csv_lines
from progress.dashboard.labels import Labels
from progress.dashboard.pages import PREFIX, SECURITY_HEADERS, Dashboard, Pages, Viewer
from progress.models import Answer, User, utcnow
from progress.record import learner_record
from progress.reports import iter_learners, learners_page
from progress.rules import Status, learner_status
from progress.scope import Filters, find_learner
from progress.timeline import timeline
from speech.audio import media_type

CSV_COLUMNS = (
    "col_id",
    "col_name",
    "language",
    "filter_region",
    "filter_cooperative",
    "col_course",
    "col_steps_done",
    "col_last_active",
    "col_minor",
    "col_consent",
    "col_certificates",
    "filter_status",
)
"""The export's columns, by their catalogue keys (after `dash.`): headers in the trainer's language."""
NameQuery = Annotated[str, Query(max_length=100)]
"""A search by part of a learner's name."""


def add_learner_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the learners list, its export, a learner's page and their audio on the dashboard's router."""
    pages = LearnerPages(dashboard)
    router.add_api_route(f"{PREFIX}/learners", pages.learners, methods=["GET"])
    router.add_api_route(f"{PREFIX}/learners.csv", pages.learners_csv, methods=["GET"])
    router.add_api_route(f"{PREFIX}/learners/{{user_id:id}}", pages.learner, methods=["GET"])
    router.add_api_route(f"{PREFIX}/audio/{{answer_id:id}}", pages.audio, methods=["GET"])


class LearnerPages(Pages):
    """The learners the trainer may see, filtered within their scope."""

    def filters(
        self, viewer: Viewer, region: str, cooperative: str, course: str, status: str, *, name: str = ""
    ) -> Filters:
        """Filters from the query string; one outside the trainer's scope is not found."""
        library = self.deps.library
        if not viewer.scope.allows(region=region or None, cooperative=cooperative or None, library=library):
            raise HTTPException(404)
        if (course and course not in library.courses) or (status and status not in set(Status)):
            raise HTTPException(404)
        return Filters(
            region or None,
            cooperative or None,
            course or None,
            Status(status) if status else None,
            name.strip() or None,
        )

    def options(self, viewer: Viewer) -> dict[str, list[tuple[str, str]]]:
        """The choices of the filter form, limited to the trainer's scope."""
        library, scope = self.deps.library, viewer.scope
        labels = Labels(library, Lang(viewer.session.lang))
        regions = [r for r in library.regions if scope.allows(region=r, cooperative=None, library=library)]
        coops = [c for c in library.cooperatives if scope.allows(region=None, cooperative=c, library=library)]
        return {
            "region": [(code, labels.region(code)) for code in regions],
            "cooperative": [(code, labels.cooperative(code)) for code in coops],
            "course": [(c, labels.course(c)) for c in library.courses],
            "status": [(s.value, s.value) for s in Status],
        }

    def learners(
        self,
        request: Request,
        *,
        region: str = "",
        cooperative: str = "",
        course: str = "",
        status: str = "",
        name: NameQuery = "",
        before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> HTMLResponse:
        """The learners list, filtered, newest first, one keyset page at a time."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            filters = self.filters(viewer, region, cooperative, course, status, name=name)
            rows, next_before = learners_page(db, viewer.scope, filters, now, before=before)
        query = {
            "name": name,
            "region": region,
            "cooperative": cooperative,
            "course": course,
            "status": status,
        }
        return self.dashboard.render(
            request,
            viewer.session,
            "learners.html",
            viewer=viewer,
            rows=rows,
            next_before=next_before,
            first_page=before is not None,
            query={k: v for k, v in query.items() if v},
            options=self.options(viewer),
            nav="learners",
        )

    def learners_csv(
        self,
        request: Request,
        *,
        region: str = "",
        cooperative: str = "",
        course: str = "",
        status: str = "",
        name: NameQuery = "",
    ) -> StreamingResponse:
        """The filtered learners list as CSV, streamed (however many there are)."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            filters = self.filters(viewer, region, cooperative, course, status, name=name)
        lang = Lang(viewer.session.lang)
        labels = Labels(self.deps.library, lang)

        def t(key: str) -> str:
            return without_bidi_marks(self.deps.catalog.t(lang, key))

        header = [t(f"dash.{key}") for key in CSV_COLUMNS]
        yes, no = t("dash.yes"), t("dash.no")

        def rows() -> Iterator[list[object]]:
            with self.deps.sessions() as db:
                for row in iter_learners(db, viewer.scope, filters, now):
                    yield [
                        row.id,
                        row.name,
                        next((name for code, name in LANGUAGE_NAMES.items() if code == row.language), ""),
                        labels.region(row.region),
                        labels.cooperative(row.cooperative),
                        labels.course(row.course),
                        row.steps_done,
                        self.dashboard.when(row.last_active_at),
                        "" if row.minor is None else yes if row.minor else no,
                        t(f"dash.consent_{row.consent}"),
                        " ".join(row.certificates),
                        t(f"dash.status_{row.status}"),
                    ]

        return StreamingResponse(
            csv_lines(header, rows()),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="maalem-learners.csv"', **SECURITY_HEADERS},
        )

    def learner(self, request: Request, user_id: int) -> HTMLResponse:
        """One learner: profile, streak, badges, courses, mastery, certificates, and their timeline."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            learner = find_learner(db, viewer.scope, user_id)
            if learner is None:
                raise HTTPException(404)
            record = learner_record(db, self.deps.library, learner, now)
            events = timeline(db, learner.id)
            standing = learner_status(
                learner.last_active_at,
                unfinished=any(c.completed_at is None for c in record.courses),
                completed=any(c.completed_at for c in record.courses),
                now=now,
            )
        return self.dashboard.render(
            request,
            viewer.session,
            "learner.html",
            viewer=viewer,
            learner=learner,
            record=record,
            events=events,
            standing=standing,
            nav="learners",
        )

    def _scoped_answer(self, db: Session, viewer: Viewer, answer_id: int) -> Answer:
        answer = db.scalar(
            select(Answer)
            .join(User, User.id == Answer.user_id)
            .where(Answer.id == answer_id, viewer.scope.where())
        )
        if answer is None:
            raise HTTPException(404)
        return answer

    def audio(self, request: Request, answer_id: int) -> FileResponse:
        """A learner's voice answer, for trainers who may see that learner (range requests work)."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            answer = self._scoped_answer(db, viewer, answer_id)
        if not answer.audio_path:
            raise HTTPException(404)
        path = Path(answer.audio_path).resolve()
        if not path.is_relative_to(self.deps.data_dir.resolve()) or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": "no-store"})

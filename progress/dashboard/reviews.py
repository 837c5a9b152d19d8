"""The review queue: answers waiting for a person, one answer to decide, the decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from progress.dashboard.deps import MAX_ID
from progress.dashboard.pages import PREFIX, Dashboard, Pages, Viewer
from progress.grading import grade_answer
from progress.models import Answer, ReviewItem, ReviewStatus, User


def add_review_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the review queue on the dashboard's router."""
    pages = ReviewPages(dashboard)
    router.add_api_route(f"{PREFIX}/reviews", pages.reviews, methods=["GET"])
    router.add_api_route(f"{PREFIX}/reviews/{{item_id:id}}", pages.review, methods=["GET"])
    router.add_api_route(f"{PREFIX}/reviews/{{item_id:id}}", pages.decide, methods=["POST"])


class ReviewPages(Pages):
    """Answers waiting for a person, limited to the learners the trainer may see."""

    def reviews(
        self, request: Request, after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None
    ) -> HTMLResponse:
        """Answers waiting for a person, oldest first."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            query = (
                select(ReviewItem, Answer, User)
                .join(Answer, Answer.id == ReviewItem.answer_id)
                .join(User, User.id == Answer.user_id)
                .where(
                    ReviewItem.status == ReviewStatus.OPEN, viewer.scope.where(), ReviewItem.id > (after or 0)
                )
                .order_by(ReviewItem.id)
                .limit(51)
            )
            items = db.execute(query).tuples().all()
        more = len(items) > 50
        items = items[:50]
        return self.dashboard.render(
            request,
            viewer.session,
            "reviews.html",
            viewer=viewer,
            items=items,
            next_after=items[-1][0].id if more else None,
            first_page=after is not None,
            done=request.query_params.get("done"),
            nav="reviews",
        )

    def _scoped_review(self, db: Session, viewer: Viewer, item_id: int) -> tuple[ReviewItem, Answer, User]:
        found = (
            db.execute(
                select(ReviewItem, Answer, User)
                .join(Answer, Answer.id == ReviewItem.answer_id)
                .join(User, User.id == Answer.user_id)
                .where(ReviewItem.id == item_id, viewer.scope.where())
            )
            .tuples()
            .first()
        )
        if found is None:
            raise HTTPException(404)
        return found

    def review(self, request: Request, item_id: int) -> HTMLResponse:
        """One answer to decide: listen, read the transcript and the AI's verdict per key point."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            item, answer, learner = self._scoped_review(db, viewer, item_id)
        return self.dashboard.render(
            request,
            viewer.session,
            "review.html",
            viewer=viewer,
            item=item,
            answer=answer,
            learner=learner,
            error=None,
            nav="reviews",
        )

    def decide(
        self,
        request: Request,
        item_id: int,
        csrf: Annotated[str, Form()] = "",
        decision: Annotated[str, Form()] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        """Accept the AI's verdict or override it with a reason; the learner is told in their language."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            item, answer, learner = self._scoped_review(db, viewer, item_id)
            error, code = None, 200
            if not viewer.session.csrf_ok(csrf):
                error, code = "dash.csrf_failed", 403
            elif decision not in {"accept", "override"}:
                error, code = "dash.review_choose", 400
            elif decision == "override" and not note.strip():
                error, code = "dash.review_reason_required", 400
            if error:
                return self.dashboard.render(
                    request,
                    viewer.session,
                    "review.html",
                    status=code,
                    viewer=viewer,
                    item=item,
                    answer=answer,
                    learner=learner,
                    error=error,
                    nav="reviews",
                )
            ai_passed = answer.machine_passed
            passed = ai_passed if decision == "accept" else not ai_passed
            graded = grade_answer(
                db, self.deps.library, self.deps.notifier, answer, passed=passed, by=viewer.user, note=note
            )
            if graded is None:
                return RedirectResponse(f"{PREFIX}/reviews?done=already", status_code=303)
            db.commit()
        return RedirectResponse(
            f"{PREFIX}/reviews?done=1", status_code=303, background=BackgroundTask(self.deps.nudge)
        )
